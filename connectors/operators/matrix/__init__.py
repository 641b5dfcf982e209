"""The Matrix operator channel: a helpline's operators take handoffs in a Matrix room, each
conversation in a thread (``channel``), with ``commands`` (what operators type), ``posts``
(what the room is told), ``texts`` (its words, in the room's language) and ``options``.
Step by step: docs/operators.md, "Handoff"."""

from __future__ import annotations

from .channel import MatrixOperatorChannel

__all__ = ["MatrixOperatorChannel"]
