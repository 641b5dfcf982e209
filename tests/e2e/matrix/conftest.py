"""The Matrix end-to-end tests use the same people as the integration tests."""

from __future__ import annotations

from tests.integration.matrix.conftest import people

__all__ = ["people"]
