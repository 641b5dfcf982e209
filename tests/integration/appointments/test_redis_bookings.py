"""Bookings over a real redis-server, sealed, from two instances at once: the last place of
a slot is given once, whichever instance asks; a cancellation on one is seen by the other."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from redirection_bot.handoff.appointments import AppointmentBook
from redirection_bot.operations.config import (
    AppointmentSettings,
    AppointmentSlotSettings,
    StoreSettings,
)
from redirection_bot.operations.crypto import new_key_text
from redirection_bot.store.factory import open_store
from tests.fixtures.redis import RedisServer

pytestmark = pytest.mark.redis

SLOTS = (
    AppointmentSlotSettings("one", "2099-03-05T15:00:00Z", 45, "en", capacity=1),
    AppointmentSlotSettings("three", "2099-03-05T16:00:00Z", 45, "en", capacity=3),
)


async def test_two_instances_never_give_a_place_twice(redis_server: RedisServer) -> None:
    settings = StoreSettings(
        backend="redis",
        url=redis_server.url,
        prefix=f"appt-{uuid.uuid4().hex[:8]}:",
        keys=(new_key_text(),),
    )
    stores = [open_store(settings), open_store(settings)]
    books = [AppointmentBook(AppointmentSettings(slots=SLOTS), store) for store in stores]
    try:
        for slot, capacity in (("one", 1), ("three", 3)):
            attempts = [books[n % 2].book(slot, f"resume:{slot}{n}") for n in range(12)]
            booked = [b for b in await asyncio.gather(*attempts) if b is not None]
            assert len(booked) == capacity
            assert {b.id for b in booked} == {b.id for b in await books[0].bookings(slot)}
        first = (await books[0].bookings("one"))[0]
        assert [slot.id for slot, _left in await books[1].free("en")] == []
        await books[1].cancel(first.id)
        assert [slot.id for slot, _left in await books[0].free("en")] == ["one"]
    finally:
        for store in stores:
            await store.close()
