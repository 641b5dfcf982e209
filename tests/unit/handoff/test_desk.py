"""The desk's shared record stays small: ended tickets are remembered a day, at most
``ENDED_KEPT`` of them (the fifty-seventh attack grew it to 655 KB by asking and withdrawing)."""

from __future__ import annotations

import pytest

from redirection_bot.dialogue.model import HandoffUrgency
from redirection_bot.handoff import desk as desk_module
from redirection_bot.handoff.desk import HandoffDesk
from redirection_bot.store.memory import MemoryStore
from redirection_bot.store.relay import MemoryRelay
from tests.fixtures.handoff import Clock, helpline

KEPT = 20


async def test_ended_tickets_remembered_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(desk_module, "ENDED_KEPT", KEPT)
    clock = Clock()
    desk = HandoffDesk(helpline(), MemoryStore(), MemoryRelay(), clock)
    for n in range(KEPT + 15):
        clock.advance(1)
        ticket = f"T-{n:08d}"
        await desk.opened(ticket, f"web:{n}", "helpline", HandoffUrgency.NORMAL, clock())
        await desk.changed(ticket, None)
    await desk.opened("T-OPEN", "web:open", "helpline", HandoffUrgency.NORMAL, clock())
    record, _version = await desk._read()
    assert len(record.tickets) == KEPT + 1  # the open one is never forgotten
    assert "T-00000000" not in record.tickets  # the oldest went first
    assert f"T-{KEPT + 14:08d}" in record.tickets and "T-OPEN" in record.tickets
