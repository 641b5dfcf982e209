"""Appointments kept by operators in a real Matrix room (real Synapse, real matrix-nio clients),
over two instances of the bot sharing one real Redis: an operator adds slots in the room; a
person books one on instance A (a live web chat) and gets six words; the room lists the
booking with nothing about the person; at their time the person types their words on
instance B and the ticket reaches the room as an appointment; the operator claims, they talk
both ways, the operator closes. Also: a no-show and a cancellation free the place for someone
else; a booked slot cannot be removed; someone not on the allow-list changes nothing; neither
the words nor what the person typed while booking reach the room or the logs. The book's
clock is moved by hand (the rest runs in real time)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from redirection_bot.program.load import LoadedProgram
from redirection_bot_connectors.operators.matrix import MatrixOperatorChannel
from redirection_bot_connectors.operators.matrix.options import MatrixOperatorOptions
from tests.e2e.handoff.operators import Staff
from tests.e2e.handoff.test_matrix_operators import operator_options
from tests.fixtures.redis import RedisServer
from tests.fixtures.synapse import SynapseServer
from tests.integration.handoff.booking import (
    NOON,
    PERSON_CLOCK,
    WEDNESDAY,
    Clock,
    book_first_time,
    come_back,
    instance,
    shared_redis,
)
from tests.integration.handoff.conftest import (
    Setup,
    channel_context,
    handoff_settings,
)
from tests.integration.matrix.people import unique

pytestmark = [pytest.mark.matrix, pytest.mark.redis, pytest.mark.slow]

BOOKING = re.compile(r"(B-[A-Z2-7]{8}) (\S+) (.+)")


@dataclasses.dataclass
class Desk:
    a: Setup
    b: Setup
    anna: Staff
    mallory: Staff
    clock: Clock

    async def order(self, command: str, answer: str, timeout: float = 30.0) -> str:
        """Anna types ``command`` in the room; the bot's answer, which starts with ``answer``."""
        before = len(self.anna.posted)
        await self.anna.say(command)
        deadline = time.monotonic() + timeout
        while True:
            for posted in self.anna.posted[before:]:
                if posted.body.startswith(answer):
                    return posted.body
            if time.monotonic() > deadline:
                shown = [p.body[:60] for p in self.anna.posted[before:]]
                raise TimeoutError(f"no answer to {command!r} like {answer!r}; got {shown}")
            await self.anna.pump(500)


@contextlib.asynccontextmanager
async def two_instances(
    loaded: LoadedProgram,
    server: SynapseServer,
    redis: RedisServer,
    staff: Callable[[SynapseServer, str], Staff],
) -> AsyncIterator[Desk]:
    """Instances A and B over one Redis (sessions, the book and the relay), each with the
    appointment book on the same clock; the Matrix operator room's channel runs on A, made by
    Anna (on the allow-list) with Mallory in it (not on it)."""
    store = shared_redis(redis)
    clock = Clock()
    anna, mallory = staff(server, "anna"), staff(server, "mallory")
    bot_user = server.register(unique("deskbot"))
    room = await anna.create_room([bot_user.user_id, mallory.user_id])
    await mallory.join(room)
    options = MatrixOperatorOptions(**operator_options(server, bot_user, room, anna)).checked()
    anna.bot_id = mallory.bot_id = bot_user.user_id
    settings = handoff_settings("matrix", options)

    async with (
        instance(loaded, settings, store, clock) as (a, book_a),
        instance(loaded, settings, store, clock) as (b, _book_b),
    ):
        context = dataclasses.replace(channel_context(a, options), appointments=book_a)
        channel = MatrixOperatorChannel(context)
        a.start_channel(channel)
        await asyncio.wait_for(channel.synced.wait(), 60)
        yield Desk(a, b, anna, mallory, clock)
        a.check_channels()


def text(setup: Setup, key: str, **params: Any) -> str:
    return setup.runtime.loaded.catalog.render(key, "en", params)


def listed(answer: str) -> list[tuple[str, str, str]]:
    """The bookings in a ``!bookings`` answer: (id, slot, status as shown)."""
    return [
        (found.group(1), found.group(2), found.group(3))
        for line in answer.split("\n")[1:]
        if (found := BOOKING.fullmatch(line)) is not None
    ]


async def test_operators_keep_appointments_in_matrix_over_two_instances(
    shipped: LoadedProgram,
    synapse: SynapseServer,
    redis_server: RedisServer,
    staff: Callable[[SynapseServer, str], Staff],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with two_instances(shipped, synapse, redis_server, staff) as desk:
        anna, mallory = desk.anna, desk.mallory
        await desk.order("!on", "Anna: on duty")
        added = await desk.order("!addslot wed-en 2030-03-06T18:00Z 45 en 1", "Slot added:")
        assert added == "Slot added: wed-en 2030-03-06T18:00Z 45 min en 0/1, helpline"
        await desk.order("!addslot thu-en 2030-03-07T18:00Z", "Slot added: thu-en")

        # Someone not on the allow-list changes nothing, and gets no answer.
        await mallory.say("!addslot mal-en 2030-03-08T18:00Z")
        await mallory.say("!removeslot thu-en")
        await mallory.say("!bookings")

        # A person on A books Wednesday, shown in their own time.
        words = await book_first_time(desk.a, "Wednesday 6 March, 19:00")
        answer = await desk.order("!bookings", "Bookings:")
        ((first, slot, status),) = listed(answer)
        assert (slot, status) == ("wed-en", "booked")
        slots = await desk.order("!slots", "Slots:")
        assert slots == (
            "Slots:\nwed-en 2030-03-06T18:00Z 45 min en 1/1, helpline\n"
            "thu-en 2030-03-07T18:00Z 45 min en 0/1, helpline"
        )
        await mallory.say(f"!cancel {first}")
        refused = await desk.order("!removeslot wed-en", "Slot wed-en has bookings")
        assert "Nothing changed." in refused

        # Thursday's one place: taken on B, freed by a no-show; taken again, freed by a cancel.
        await book_first_time(desk.b, "Thursday 7 March, 19:00")
        ((second, _slot, _status),) = listed(await desk.order("!bookings thu-en", "Bookings:"))
        early = await desk.order(f"!noshow {second}", f"Booking {second}'s time has not started")
        assert "nothing changed" in early  # before its start the person may still come
        desk.clock.now = WEDNESDAY + 86400 + 60  # Thursday's slot has begun
        told = await desk.order(f"!noshow {second}", f"Booking {second} marked as not come")
        assert "its place is free" in told
        desk.clock.now = NOON
        await book_first_time(desk.b, "Thursday 7 March, 19:00")
        thursday = listed(await desk.order("!bookings thu-en", "Bookings:"))
        third = next(b for b, _slot, status in thursday if status == "booked")
        await desk.order(f"!cancel {third}", f"Booking {third} cancelled: its place is free.")
        thursday = listed(await desk.order("!bookings thu-en", "Bookings:"))
        assert [status for _b, _s, status in thursday] == ["did not come", "cancelled"]
        await desk.order("!removeslot thu-en", "Slot thu-en removed.")
        assert await desk.order("!slots", "Slots:") == (
            "Slots:\nwed-en 2030-03-06T18:00Z 45 min en 1/1, helpline"
        )
        wednesday = listed(await desk.order("!bookings wed-en", "Bookings:"))
        assert wednesday == [(first, "wed-en", "booked")]  # Mallory's cancel did nothing

        # Five minutes before Wednesday's slot the person types their words on B.
        desk.clock.now = WEDNESDAY - 5 * 60
        page, token = await come_back(desk.b, words)
        await page.text_frame(text(desk.b, "appointments.arrived"))
        ticket = await anna.wait_for("New request T-")
        assert "(asked in appointment:wed-en)" in ticket.body
        assert token not in ticket.body
        await anna.react(ticket.event_id)
        await page.text_frame("Anna from our support team has joined")
        await page.until(lambda f: f.get("type") == "state")
        await page.send({"type": "text", "text": "hello, I booked this time"})
        person = await anna.wait_for("Person: hello, I booked this time")
        assert person.thread == ticket.event_id
        await anna.say("Hello, I'm glad you came.", thread=ticket.event_id)
        said = await page.until(lambda f: f.get("type") == "operator")
        assert said["text"] == "Hello, I'm glad you came."
        await anna.say("!close", thread=ticket.event_id)
        await page.text_frame(text(desk.b, "handoff.operator_left"))
        await anna.wait_for("Closed. The program has taken over again.")
        wednesday = listed(await desk.order("!bookings wed-en", "Bookings:"))
        assert wednesday == [(first, "wed-en", "came on time")]

        # Mallory's orders were never answered; nothing the person typed while booking, and
        # not their words, reached the room.
        mal_answers = [p for p in anna.posted if "mal-en" in p.body or "no bookings" in p.body]
        assert mal_answers == []
        room = "\n".join(p.body for p in anna.posted)
        assert words not in room and PERSON_CLOCK not in room
    logged = caplog.text
    assert "appointment booked" in logged and "appointment arrived" in logged  # logs were kept
    assert words not in logged and PERSON_CLOCK not in logged
    assert "I booked this time" not in logged and token not in logged
