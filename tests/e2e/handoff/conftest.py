"""The helpline's staff for the Matrix operator-room tests (``staff``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.e2e.handoff.operators import Staff
from tests.fixtures.synapse import SynapseServer


@pytest.fixture
async def staff(tmp_path: Path) -> AsyncIterator[Callable[[SynapseServer, str], Staff]]:
    """Makes people in the operator room, each on their own account; closes them after."""
    made: list[Staff] = []

    def make(server: SynapseServer, name: str) -> Staff:
        member = Staff(server, tmp_path / "staff", name)
        made.append(member)
        return member

    yield make
    for member in made:
        await member.close()
