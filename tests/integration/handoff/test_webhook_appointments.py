"""A helpline platform keeps the appointment book over the signed webhook: it adds a slot
(which people are then offered), lists slots and bookings (ids, times, statuses: nothing
about a person), cannot remove a booked slot, cancels and marks no-shows; a slot that
cannot be added is a 400 saying why, and an unsigned request changes nothing. Over two
instances sharing a real Redis, a booking made on one brings its ticket from the other."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator

import pytest

from redirection_bot.handoff.appointment_orders import new_slot
from redirection_bot.handoff.appointments import AppointmentBook
from redirection_bot.operations.config import AppointmentSettings
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store.memory import MemoryStore
from redirection_bot_connectors.operators.webhook import WebhookChannel
from redirection_bot_connectors.operators.webhook.options import WebhookOptions
from tests.fixtures.redis import RedisServer
from tests.integration.handoff.booking import (
    NOON,
    PERSON_CLOCK,
    WEDNESDAY,
    Clock,
    book_first_time,
    come_back,
    instance,
    shared_redis,
    to_the_times,
)
from tests.integration.handoff.conftest import (
    Setup,
    channel_context,
    handoff_settings,
    running,
)
from tests.integration.handoff.platform import PLATFORM_SECRET, Platform

WED = {"id": "wed-en", "start": "2030-03-06T18:00:00Z", "minutes": 45, "capacity": 2}


@pytest.fixture
async def booked(
    loaded: LoadedProgram, platform: Platform
) -> AsyncIterator[tuple[Setup, AppointmentBook]]:
    options = WebhookOptions(
        url=platform.url, secret=PLATFORM_SECRET, port=0, max_backoff_seconds=0.2
    ).checked()
    async with running(loaded, handoff_settings("webhook", options)) as setup:
        book = AppointmentBook(AppointmentSettings(), setup.runtime.store)
        context = dataclasses.replace(channel_context(setup, options), appointments=book)
        channel = WebhookChannel(context)
        setup.start_channel(channel)
        await asyncio.wait_for(channel.listening.wait(), 10)
        platform.bot_url = f"http://127.0.0.1:{channel.port}/handoff/webhook"
        yield setup, book
        setup.check_channels()


async def test_the_platform_adds_a_slot_lists_its_bookings_and_frees_places(
    booked: tuple[Setup, AppointmentBook], platform: Platform
) -> None:
    _setup, book = booked
    assert await platform.send({"type": "slots"}) == (200, {"result": "applied", "slots": []})
    assert await platform.send({"type": "add_slot", "slot": WED}) == (200, {"result": "applied"})
    status, listed = await platform.send({"type": "slots"})
    assert status == 200
    assert listed["slots"] == [
        {
            "id": "wed-en",
            "start": "2030-03-06T18:00Z",
            "minutes": 45,
            "locale": "en",
            "capacity": 2,
            "taken": 0,
            "team": "helpline",
        }
    ]
    assert [slot.id for slot, _left in await book.free("en")] == ["wed-en"]  # people see it
    again = await platform.send({"type": "add_slot", "slot": WED})
    assert again == (200, {"result": "exists"})

    first = await book.book("wed-en", "parked-one")
    second = await book.book("wed-en", "parked-two")
    assert first is not None and second is not None
    status, answer = await platform.send({"type": "bookings", "slot": "wed-en"})
    assert answer == {
        "result": "applied",
        "bookings": [
            {"id": first.id, "slot": "wed-en", "status": "booked"},
            {"id": second.id, "slot": "wed-en", "status": "booked"},
        ],
    }
    assert "parked" not in str(answer)
    assert await book.free("en") == []  # both places taken

    kept = await platform.send({"type": "remove_slot", "slot": "wed-en"})
    assert kept == (200, {"result": "has_bookings"})
    cancel = {"type": "cancel_booking", "booking": first.id}
    assert await platform.send(cancel) == (200, {"result": "applied"})
    assert await platform.send(cancel) == (200, {"result": "duplicate"})
    no_show = {"type": "no_show", "booking": second.id}
    assert await platform.send(no_show) == (200, {"result": "not_started"})  # may still come
    before, book.clock = (
        book.clock,
        lambda: dt.datetime(2030, 3, 6, 18, 1, tzinfo=dt.UTC).timestamp(),
    )
    assert await platform.send(no_show) == (200, {"result": "applied"})  # the slot has begun
    book.clock = before
    assert [left for _slot, left in await book.free("en")] == [2]  # both places free again
    status, answer = await platform.send({"type": "bookings"})
    assert [b["status"] for b in answer["bookings"]] == ["cancelled", "no_show"]
    removed = await platform.send({"type": "remove_slot", "slot": "wed-en"})
    assert removed == (200, {"result": "applied"})
    assert await book.slots() == []
    unknown = await platform.send({"type": "cancel_booking", "booking": "B-NOPE"})
    assert unknown == (200, {"result": "unknown"})


async def test_a_slot_that_cannot_be_added_is_a_bad_request_and_unsigned_orders_do_nothing(
    booked: tuple[Setup, AppointmentBook], platform: Platform
) -> None:
    _setup, book = booked
    local = {**WED, "start": "2030-03-06T20:00:00+02:00"}
    status, answer = await platform.send({"type": "add_slot", "slot": local})
    assert status == 400
    assert answer == {
        "error": '"slot": the start `2030-03-06T20:00:00+02:00` should be in UTC '
        "(end it with Z or +00:00)"
    }
    status, answer = await platform.send({"type": "add_slot", "slot": {**WED, "locale": "pt"}})
    assert status == 400 and "the locale `pt` is not one of the program's" in answer["error"]
    forged = await platform.send({"type": "add_slot", "slot": WED}, secret="not-the-secret")
    assert forged[0] == 401
    assert await book.slots() == []


@pytest.mark.redis
async def test_over_two_instances_a_booking_made_on_one_is_kept_on_the_other(
    loaded: LoadedProgram, platform: Platform, redis_server: RedisServer
) -> None:
    """The platform keeps the book through instance A; a person books on A and comes back at
    their time on B; the appointment's ticket reaches the platform, and they talk."""
    options = WebhookOptions(
        url=platform.url, secret=PLATFORM_SECRET, port=0, max_backoff_seconds=0.2
    ).checked()
    settings = handoff_settings("webhook", options)
    store, clock = shared_redis(redis_server), Clock()
    async with (
        instance(loaded, settings, store, clock) as (a, book_a),
        instance(loaded, settings, store, clock) as (b, _book_b),
    ):
        channel = WebhookChannel(
            dataclasses.replace(channel_context(a, options), appointments=book_a)
        )
        a.start_channel(channel)
        await asyncio.wait_for(channel.listening.wait(), 10)
        platform.bot_url = f"http://127.0.0.1:{channel.port}/handoff/webhook"
        wednesday = {"id": "wed-en", "start": "2030-03-06T18:00:00Z", "minutes": 45}
        added = await platform.send({"type": "add_slot", "slot": wednesday})
        assert added == (200, {"result": "applied"})

        words = await book_first_time(a, "Wednesday 6 March, 19:00")
        status, answer = await platform.send({"type": "bookings"})
        assert status == 200
        (booking,) = answer["bookings"]
        assert booking["slot"] == "wed-en" and booking["status"] == "booked"
        assert words not in str(answer)

        clock.now = WEDNESDAY - 5 * 60
        page, token = await come_back(b, words)
        await page.text_frame(b.runtime.loaded.catalog.render("appointments.arrived", "en"))
        (ticket,) = await platform.wait_for("ticket")
        assert ticket["asked_in"] == "appointment:wed-en" and ticket["service"] == "helpline"
        anna = {"id": "op-17", "name": "Anna"}
        claim = {"type": "claim", "ticket": ticket["ticket"], "operator": anna}
        assert await platform.send(claim) == (200, {"result": "applied"})
        await page.text_frame("Anna from our support team has joined")
        await page.until(lambda f: f.get("type") == "state")
        await page.send({"type": "text", "text": "hello, it is my time"})
        (person,) = await platform.wait_for("person")
        assert person["text"] == "hello, it is my time"
        hello = {"type": "message", "ticket": ticket["ticket"], "operator": anna, "text": "Hi."}
        assert await platform.send(hello) == (200, {"result": "applied"})
        said = await page.until(lambda f: f.get("type") == "operator")
        assert said["text"] == "Hi."
        close = {"type": "close", "ticket": ticket["ticket"], "operator": anna}
        assert await platform.send(close) == (200, {"result": "applied"})
        await page.text_frame(b.runtime.loaded.catalog.render("handoff.operator_left", "en"))
        listed = await platform.send({"type": "bookings", "slot": "wed-en"})
        assert [found["status"] for found in listed[1]["bookings"]] == ["arrived"]
        received = str(platform.received)
        assert words not in received and token not in received and PERSON_CLOCK not in received
        a.check_channels()


async def test_erasing_the_conversation_that_booked_says_the_appointment_was_cancelled(
    loaded: LoadedProgram,
) -> None:
    """ "Erase my conversation" on the page that booked frees the place, and the page after
    says so; erasing a conversation without a booking says only that it was erased."""
    store = MemoryStore()
    book = AppointmentBook(AppointmentSettings(), store, Clock())
    options = WebhookOptions(url="http://127.0.0.1:9/", secret=PLATFORM_SECRET).checked()
    async with running(loaded, handoff_settings("webhook", options), store, None, book) as setup:
        await book.add_slot(new_slot(WED, loaded.program.locales, "en", "helpline", NOON))
        catalog = setup.runtime.loaded.catalog
        for erase_after_booking in (True, False):
            page, token = await setup.page()
            if erase_after_booking:
                await to_the_times(page)
                await page.until(lambda f: f.get("type") == "state" and f.get("choices"))
                await page.send({"type": "choice", "id": "slot_1"})
                await page.text_frame("Your words are: ")
                assert [left for _slot, left in await book.free("en")] == [1]
            else:
                await page.until(lambda f: f.get("type") == "state")
            # Its address now (its first answer took its own: docs/protocol.md, "Addresses").
            response = await setup.client.post(f"/c/{page.token or token}/erase", data={})
            shown = await response.text()
            assert response.status == 200 and catalog.render("webchat.erased", "en") in shown
            told = catalog.render("webchat.erased_booking", "en") in shown
            assert told is erase_after_booking
            await page.ws.close()
        assert [left for _slot, left in await book.free("en")] == [2]  # the place is free again
        page, _token = await setup.page()  # with JavaScript: the page is told over its socket
        await to_the_times(page)
        await page.until(lambda f: f.get("type") == "state" and f.get("choices"))
        await page.send({"type": "choice", "id": "slot_1"})
        await page.text_frame("Your words are: ")
        await page.send({"type": "erase"})
        end = await page.until(lambda f: f.get("type") == "end")
        assert end == {"type": "end", "erase": True, "cancelled": True}
        assert [left for _slot, left in await book.free("en")] == [2]
