"""Slots and bookings (handoff/appointments.py) over the in-memory store, with a clock moved by
hand; the person's time (offsets, a typed clock) as pure functions."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redirection_bot.errors import ConfigError
from redirection_bot.handoff.appointments import (
    AppointmentBook,
    Arrival,
    BookResult,
    Slot,
    local_time,
    offset_from_clock,
)
from redirection_bot.operations.config import (
    AppointmentSettings,
    AppointmentSlotSettings,
    read_settings,
)
from redirection_bot.store.memory import MemoryStore

NOON = dt.datetime(2030, 3, 4, 12, 0, tzinfo=dt.UTC).timestamp()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def book_with(*slots: AppointmentSlotSettings, now: float = NOON) -> tuple[AppointmentBook, Clock]:
    clock = Clock(now)
    settings = AppointmentSettings(slots=slots, early_minutes=10, late_minutes=15)
    return AppointmentBook(settings, MemoryStore(clock), clock), clock


TUESDAY = AppointmentSlotSettings("tue", "2030-03-05T15:00:00Z", 45, "en", capacity=1)
TEAM = AppointmentSlotSettings("team", "2030-03-05T16:00:00Z", 60, "en", capacity=2, team="en")
FINNISH = AppointmentSlotSettings("fi", "2030-03-05T15:00:00Z", 45, "fi")


async def test_the_last_place_cannot_be_booked_twice() -> None:
    book, _clock = book_with(TUESDAY)
    first = await book.book("tue", "resume:one")
    assert first is not None and first.id.startswith("B-")
    assert await book.book("tue", "resume:two") is None
    assert await book.free("en") == []


async def test_many_bookings_at_once_fill_a_slot_exactly_to_its_capacity() -> None:
    book, _clock = book_with(TEAM)
    results = await asyncio.gather(*(book.book("team", f"resume:{n}") for n in range(8)))
    assert sum(1 for r in results if r is not None) == 2


async def test_free_slots_are_those_of_the_persons_language_with_places_left() -> None:
    book, _clock = book_with(TUESDAY, TEAM, FINNISH)
    assert [(slot.id, left) for slot, left in await book.free("en")] == [("tue", 1), ("team", 2)]
    assert [slot.id for slot, _left in await book.free("fi")] == ["fi"]
    assert await book.free("es") == []


async def test_a_slot_about_to_start_is_no_longer_offered() -> None:
    book, clock = book_with(TUESDAY)
    clock.now = Slot.from_settings(TUESDAY).start - 10 * 60
    assert await book.free("en") == []


async def test_a_cancellation_or_a_no_show_frees_the_place() -> None:
    book, clock = book_with(TUESDAY)
    first = await book.book("tue", "resume:one")
    assert first is not None
    assert await book.cancel(first.id) is BookResult.DONE
    assert await book.cancel(first.id) is BookResult.UNCHANGED
    assert await book.no_show(first.id) is BookResult.UNCHANGED  # its place is free already
    second = await book.book("tue", "resume:two")
    assert second is not None
    # before the slot starts the person may still come: a no-show changes nothing yet
    assert await book.no_show(second.id) is BookResult.NOT_STARTED
    assert [b.status for b in await book.bookings("tue")] == ["cancelled", "booked"]
    clock.now = Slot.from_settings(TUESDAY).start + 60
    assert await book.no_show(second.id) is BookResult.DONE
    assert await book.cancel(second.id) is BookResult.UNCHANGED
    clock.now = Slot.from_settings(TUESDAY).start - 3600
    assert await book.book("tue", "resume:three") is not None
    assert await book.cancel("B-NOSUCH00") is BookResult.UNKNOWN


async def test_coming_back_early_on_time_and_late() -> None:
    book, clock = book_with(TUESDAY)
    slot = Slot.from_settings(TUESDAY)
    assert await book.book("tue", "resume:me") is not None
    clock.now = slot.start - 11 * 60
    assert (await book.arrival("resume:me")).arrival is Arrival.EARLY
    clock.now = slot.start - 9 * 60  # a few minutes early is allowed
    arrived = await book.arrival("resume:me")
    assert arrived.arrival is Arrival.ON_TIME and arrived.slot == slot
    clock.now = slot.start + 14 * 60  # reconnecting within the slot is still on time
    assert (await book.arrival("resume:me")).arrival is Arrival.ON_TIME
    clock.now = slot.start + 16 * 60
    assert (await book.arrival("resume:me")).arrival is Arrival.LATE
    assert (await book.arrival("resume:someone-else")).arrival is Arrival.NONE


async def test_a_no_show_is_told_it_is_too_late_and_a_cancelled_booking_is_gone() -> None:
    book, clock = book_with(TUESDAY, TEAM)
    missed = await book.book("tue", "resume:missed")
    cancelled = await book.book("team", "resume:cancelled")
    assert missed is not None and cancelled is not None
    clock.now = Slot.from_settings(TUESDAY).start
    await book.no_show(missed.id)
    await book.cancel(cancelled.id)
    assert (await book.arrival("resume:missed")).arrival is Arrival.LATE
    assert (await book.arrival("resume:cancelled")).arrival is Arrival.NONE


async def test_leaving_cancels_the_booking_and_frees_its_place() -> None:
    book, _clock = book_with(TUESDAY)
    assert await book.book("tue", "resume:me") is not None
    await book.forget_parked("resume:me")
    assert [slot.id for slot, _left in await book.free("en")] == ["tue"]
    assert (await book.arrival("resume:me")).arrival is Arrival.NONE


async def test_operators_add_and_remove_slots_but_not_one_with_people_booked() -> None:
    book, _clock = book_with(TUESDAY)
    added = Slot("wed", NOON + 2 * 86400, 30, "en")
    assert await book.add_slot(added) is BookResult.DONE
    assert await book.add_slot(added) is BookResult.EXISTS
    assert [slot.id for slot in await book.slots()] == ["tue", "wed"]
    booking = await book.book("tue", "resume:me")
    assert booking is not None
    assert await book.remove_slot("tue") is BookResult.HAS_BOOKINGS
    await book.cancel(booking.id)
    assert await book.remove_slot("tue") is BookResult.DONE
    assert await book.remove_slot("wed") is BookResult.DONE
    assert await book.remove_slot("wed") is BookResult.UNKNOWN
    assert await book.slots() == []


async def test_bookings_expire_after_the_retention_time() -> None:
    book, clock = book_with(TUESDAY)
    assert await book.book("tue", "resume:me") is not None
    clock.now = Slot.from_settings(TUESDAY).end + 6 * 86400
    await book.store.expire()
    assert len(await book.bookings("tue")) == 1
    clock.now = Slot.from_settings(TUESDAY).end + 7 * 86400 + 60
    await book.store.expire()
    assert await book.bookings("tue") == []


def test_a_slot_shown_in_the_persons_own_time() -> None:
    start = Slot.from_settings(TUESDAY).start  # 15:00 UTC
    assert local_time(start, -300).strftime("%H:%M") == "10:00"
    assert local_time(start, 120).strftime("%H:%M") == "17:00"
    assert local_time(start, 330).strftime("%d %H:%M") == "05 20:30"


def test_the_offset_from_the_time_on_the_persons_clock() -> None:
    assert offset_from_clock(NOON, "14:00") == 120
    assert offset_from_clock(NOON, "7.02") == -300
    assert offset_from_clock(NOON, "17:31") == 330
    # 01:00 at noon UTC is UTC-11 or UTC+13: a clock cannot tell, the nearer to UTC is taken
    # (docs/safety.md: the list of offsets is there for the far east of the date line)
    assert offset_from_clock(NOON, "01:00") == -660
    for nonsense in ("noon", "25:00", "12:5", "", "12:60", "-3", "13 pm", "0:10 am", "1 xm"):
        assert offset_from_clock(NOON, nonsense) is None


def test_a_twelve_hour_clock_is_read_in_english_spanish_and_finnish() -> None:
    assert offset_from_clock(NOON, "1:10 am") == -645  # to the nearest quarter hour
    assert offset_from_clock(NOON, "1:10pm") == 75
    assert offset_from_clock(NOON, "1 pm") == 60
    assert offset_from_clock(NOON, "12 pm") == 0  # noon
    assert offset_from_clock(NOON, "12:00 a.m.") == -720  # midnight
    assert offset_from_clock(NOON, "2:00 p. m.") == 120
    assert offset_from_clock(NOON, "7.00 ap.") == -300
    assert offset_from_clock(NOON, "2 PM") == 120


@given(st.integers(-11 * 4, 12 * 4 - 1), st.integers(0, 86400 * 365))
def test_every_offset_is_read_back_from_a_twelve_hour_clock(quarters: int, later: int) -> None:
    now = NOON + later
    offset = quarters * 15
    shown = local_time(now, offset).strftime("%I:%M %p").lstrip("0")
    assert offset_from_clock(now, shown) == offset


@given(st.integers(-11 * 4, 12 * 4 - 1), st.integers(0, 86400 * 365))
def test_every_offset_is_read_back_from_the_clock_it_shows(quarters: int, later: int) -> None:
    now = NOON + later
    offset = quarters * 15
    shown = local_time(now, offset).strftime("%H:%M")
    assert offset_from_clock(now, shown) == offset


def test_slots_are_read_from_the_configuration_with_located_errors(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "appointments:\n"
        "  slots:\n"
        "    - {id: tue, start: '2030-03-05T15:00:00Z', locale: fi, capacity: 2, team: fi}\n"
    )
    (slot,) = read_settings(path).appointments.slots
    assert (slot.id, slot.locale, slot.capacity, slot.team, slot.minutes) == (
        "tue",
        "fi",
        2,
        "fi",
        45,
    )
    path.write_text(
        "appointments:\n"
        "  slots:\n"
        "    - {id: tue, start: '2030-03-05T15:00:00+02:00'}\n"
        "    - {id: Bad Id, start: '2030-03-05T15:00:00Z'}\n"
        "    - {id: x, start: '2030-03-05T15:00:00Z', minuts: 30}\n"
    )
    with pytest.raises(ConfigError) as raised:
        read_settings(path)
    message = str(raised.value)
    assert ":3:" in message and "UTC" in message
    assert ":4:" in message and "lower-case" in message
    assert ":5:" in message and "minutes" in message
