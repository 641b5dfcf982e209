"""A "leave now" or "erase" that met a store that failed is finished as soon as the store
answers again, one task asking for all of them once a second (the fifty-third attack: a left
conversation read at two instances for 28 seconds after Redis came back), and given up only
when the conversation would have expired anyway."""

from __future__ import annotations

import asyncio

from redirection_bot.api import SessionBusy, StoreUnavailable
from redirection_bot_connectors.webchat.endings import Endings


class Store:
    """A store away until ``back()``; what it erased, in order."""

    def __init__(self) -> None:
        self.away = True
        self.busy: set[str] = set()
        self.erased: list[str] = []
        self.asked = 0

    async def erase(self, session_id: str) -> None:
        self.asked += 1
        if self.away:
            raise StoreUnavailable("away")
        if session_id in self.busy:
            raise SessionBusy(session_id)
        self.erased.append(session_id)


async def test_endings_wait_together_and_are_done_within_a_second_of_the_store_s_return() -> None:
    store, now = Store(), [0.0]
    endings = Endings(3600.0, lambda: now[0], interval=0.01)
    for session_id in ("web:a", "rest:b", "web:c"):
        endings.later(session_id, store.erase)
    await asyncio.sleep(0.1)
    assert store.erased == [] and endings.waits("rest:b")
    tries = store.asked
    assert tries <= 15  # one question a round while the store is away, not one per ending
    store.away = False
    await asyncio.sleep(0.05)
    assert store.erased == ["web:a", "rest:b", "web:c"]
    assert not endings.waits("rest:b")


async def test_a_conversation_held_by_a_turn_is_tried_again_the_next_round() -> None:
    store = Store()
    store.away, store.busy = False, {"web:a"}
    endings = Endings(3600.0, lambda: 0.0, interval=0.01)
    endings.later("web:a", store.erase)
    endings.later("web:b", store.erase)
    await endings.try_all()
    assert store.erased == ["web:b"] and endings.waits("web:a")
    store.busy.clear()
    await endings.try_all()
    assert store.erased == ["web:b", "web:a"]


async def test_an_ending_is_given_up_only_when_its_conversation_would_have_expired() -> None:
    store, now = Store(), [0.0]
    endings = Endings(60.0, lambda: now[0], interval=3600.0)
    endings.later("web:a", store.erase)
    now[0] = 59.0
    await endings.try_all()
    assert endings.waits("web:a")
    now[0] = 61.0
    await endings.try_all()
    assert not endings.waits("web:a")
