"""Booking a chat with a counsellor through the runtime (shipped program, in-memory store,
a desk with one service, a clock moved by hand): the person sees free times in their own
time, gets words, and typing them at their time brings them to the counsellor's queue."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from redirection_bot.dialogue.model import CommandName
from redirection_bot.engine import ChoicePicked, CommandGiven, Start, Text
from redirection_bot.handoff.appointments import AppointmentBook, Slot
from redirection_bot.handoff.desk import HandoffDesk
from redirection_bot.operations.config import (
    AppointmentSettings,
    AppointmentSlotSettings,
    HandoffSettings,
    ServiceSettings,
)
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store.memory import MemoryStore
from redirection_bot.store.relay import MemoryRelay
from redirection_bot.store.resume import ResumeVault
from redirection_bot.turn.actions import RasaActionRunner
from redirection_bot.turn.runtime import Reply, Runtime

NOON = dt.datetime(2030, 3, 4, 12, 0, tzinfo=dt.UTC).timestamp()  # a Monday
SLOT = AppointmentSlotSettings("tue", "2030-03-05T15:00:00Z", 45, "en", team="counsellors")


class Clock:
    def __init__(self) -> None:
        self.now = NOON

    def __call__(self) -> float:
        return self.now


def runtime_with(
    loaded: LoadedProgram, clock: Clock, slots: tuple[AppointmentSlotSettings, ...] = (SLOT,)
) -> Runtime:
    store = MemoryStore(clock)
    services = (
        ServiceSettings("helpline", "webhook"),
        ServiceSettings("counsellors", "webhook"),
    )
    desk = HandoffDesk(HandoffSettings(services=services), store, MemoryRelay(), clock)
    book = AppointmentBook(AppointmentSettings(slots=slots), store, clock)
    resume = ResumeVault(store, cost=2**4)
    return Runtime(
        loaded, store, RasaActionRunner(loaded), resume=resume, desk=desk, appointments=book
    )


def keys(reply: Reply) -> list[str]:
    return [m.key for m in reply.messages]


async def to_the_clocks(runtime: Runtime, session: str) -> Reply:
    """From wherever the person is: help, "book a chat", "choose a time" (the clocks)."""
    await runtime.handle(session, CommandGiven(CommandName.HELP))
    await runtime.handle(session, ChoicePicked("appointment"))
    return await runtime.handle(session, ChoicePicked("book"))


async def book_a_time(runtime: Runtime, session: str) -> str:
    """From the start to a booking at UTC+0; the words given."""
    await runtime.handle(session, Start())
    await runtime.handle(session, CommandGiven(CommandName.HELP))
    reply = await runtime.handle(session, ChoicePicked("appointment"))
    assert keys(reply) == ["appointments.intro", "appointments.no_contact"]
    reply = await runtime.handle(session, ChoicePicked("book"))
    # the buttons show the time now on each clock: the third is UTC
    clocks = [choice.label for choice in reply.messages[-1].choices]
    assert clocks[:4] == ["04:00", "07:00", "12:00", "13:00"]
    reply = await runtime.handle(session, ChoicePicked("zone_3"))
    assert reply.said == "12:00"  # the person's side reads as the button did
    times = [choice.label for choice in reply.messages[-1].choices]
    assert (times[0], times[-1]) == ("Tuesday 5 March, 15:00", "None of these suit me")
    reply = await runtime.handle(session, ChoicePicked("slot_1"))
    assert reply.said == "Tuesday 5 March, 15:00"
    assert keys(reply)[:3] == [
        "appointments.booked",
        "appointments.words",
        "appointments.no_reminders",
    ]
    words = reply.messages[1].text.split("\n")[0].removeprefix("Your words are: ")
    assert reply.state is not None
    assert not any(name.startswith("appointment_") for name in reply.state.slots)
    return words


async def test_a_person_books_in_their_own_time_and_comes_back_to_the_counsellor(
    shipped: LoadedProgram,
) -> None:
    clock = Clock()
    runtime = runtime_with(shipped, clock)
    words = await book_a_time(runtime, "booking")
    start = Slot.from_settings(SLOT).start

    clock.now = start - 2 * 3600 - 10 * 60
    reply = await runtime.handle("early", Text(words))
    assert reply.messages[0].text.startswith(
        "Your chat with the counsellor starts in 2 hours and 10 minutes. "
        "Your words work from 10 minutes before the start"
    )
    clock.now = start - 14 * 60
    reply = await runtime.handle("early", Text(words))
    assert reply.messages[0].text.startswith(
        "Your chat with the counsellor starts in 14 minutes. "
        "Your words work from 10 minutes before the start"
    )
    assert runtime.handoff_desk is not None
    assert await runtime.handoff_desk.queue("counsellors") == []

    clock.now = start - 5 * 60
    reply = await runtime.handle("on-time", Text(words))
    assert keys(reply)[0] == "appointments.arrived"
    assert reply.handoff is not None and reply.handoff.active
    assert len(await runtime.handoff_desk.queue("counsellors")) == 1
    assert await runtime.handoff_desk.queue("helpline") == []


async def test_too_late_is_said_plainly_with_the_offer_to_book_again(
    shipped: LoadedProgram,
) -> None:
    clock = Clock()
    runtime = runtime_with(shipped, clock)
    words = await book_a_time(runtime, "booking")
    clock.now = Slot.from_settings(SLOT).end + 60
    reply = await runtime.handle("late", Text(words))
    assert keys(reply)[0] == "appointments.late"
    assert any(choice.label == "Book another time" for choice in reply.messages[-1].choices)


async def test_the_last_place_is_not_offered_again_leave_now_keeps_it_and_erasing_frees_it(
    shipped: LoadedProgram,
) -> None:
    clock = Clock()
    runtime = runtime_with(shipped, clock)
    words = await book_a_time(runtime, "first")
    await runtime.handle("second", Start())
    await to_the_clocks(runtime, "second")
    reply = await runtime.handle("second", ChoicePicked("zone_3"))
    assert keys(reply) == ["appointments.none"]
    # Leave now is the quick exit: the words, and the place they hold, are kept.
    await runtime.handle("first", CommandGiven(CommandName.STOP))
    await runtime.handle("second", ChoicePicked("back"))
    await to_the_clocks(runtime, "second")
    reply = await runtime.handle("second", ChoicePicked("zone_3"))
    assert keys(reply) == ["appointments.none"]
    # Erasing everything gives the place back.
    await runtime.handle("first again", Start())
    await runtime.handle("first again", Text(words))
    await runtime.handle("first again", CommandGiven(CommandName.ERASE))
    await runtime.handle("second", ChoicePicked("back"))
    await to_the_clocks(runtime, "second")
    reply = await runtime.handle("second", ChoicePicked("zone_3"))
    assert keys(reply)[0] == "appointments.pick_question"


async def test_a_typed_clock_gives_the_persons_own_time_and_a_risk_comes_first(
    shipped: LoadedProgram,
) -> None:
    clock = Clock()
    runtime = runtime_with(shipped, clock)
    await runtime.handle("s", Start())
    await to_the_clocks(runtime, "s")
    await runtime.handle("s", ChoicePicked("other"))
    reply = await runtime.handle("s", Text("I want to kill myself"))
    assert "appointments" not in keys(reply)[0]
    assert any(key.startswith("safety") for key in keys(reply))


async def test_booking_again_frees_the_earlier_place_and_only_the_new_words_count(
    shipped: LoadedProgram,
) -> None:
    clock = Clock()
    wednesday = AppointmentSlotSettings("wed", "2030-03-06T15:00:00Z", 45, "en")
    runtime = runtime_with(shipped, clock, (SLOT, wednesday))
    first_words = await book_a_time(runtime, "booking")
    reply = await runtime.handle("booking", ChoicePicked("book_again"))
    await runtime.handle("booking", ChoicePicked("book"))
    reply = await runtime.handle("booking", ChoicePicked("zone_3"))
    # Tuesday's place is still held while the person books again
    assert keys(reply) == ["appointments.pick_question"]
    assert [c.label for c in reply.messages[0].choices][:-1] == ["Wednesday 6 March, 15:00"]
    reply = await runtime.handle("booking", ChoicePicked("slot_1"))
    assert keys(reply)[0] == "appointments.booked"
    second_words = reply.messages[1].text.split("\n")[0].removeprefix("Your words are: ")

    # Someone else is offered Tuesday again: the earlier place was freed.
    await runtime.handle("other", Start())
    await to_the_clocks(runtime, "other")
    reply = await runtime.handle("other", ChoicePicked("zone_3"))
    assert keys(reply) == ["appointments.pick_question"]
    assert [c.label for c in reply.messages[0].choices][:-1] == ["Tuesday 5 March, 15:00"]
    book = runtime.appointments
    assert book is not None
    assert [b.status for b in await book.bookings("tue")] == ["cancelled"]
    assert [b.status for b in await book.bookings("wed")] == ["booked"]

    # On Tuesday the old words bring nobody to the counsellor; on Wednesday the new ones do.
    clock.now = Slot.from_settings(SLOT).start
    reply = await runtime.handle("old words", Text(first_words))
    assert "appointments.arrived" not in keys(reply)
    clock.now = Slot.from_settings(wednesday).start
    reply = await runtime.handle("new words", Text(second_words))
    assert keys(reply)[0] == "appointments.arrived"


async def test_new_words_to_continue_later_carry_the_appointment_and_the_person_is_told(
    shipped: LoadedProgram,
) -> None:
    clock = Clock()
    runtime = runtime_with(shipped, clock)
    session = "booking"
    await runtime.handle(session, Start())
    for choice in ("go_on", "go_on", "curious", "no_thanks", "menu"):
        await runtime.handle(session, ChoicePicked(choice))
    await to_the_clocks(runtime, session)
    await runtime.handle(session, ChoicePicked("zone_3"))
    reply = await runtime.handle(session, ChoicePicked("slot_1"))
    first_words = reply.messages[1].text.split("\n")[0].removeprefix("Your words are: ")
    reply = await runtime.handle(session, ChoicePicked("continue"))
    assert keys(reply) == ["menu.question"]

    # Later, the person pauses and takes words to continue later (not booking again).
    await runtime.handle(session, ChoicePicked("pause"))
    await runtime.handle(session, ChoicePicked("keep_my_place"))
    reply = await runtime.handle(session, ChoicePicked("give"))
    assert keys(reply)[:2] == ["resume.phrase", "appointments.moved"]
    assert reply.messages[1].text.startswith("Your appointment now goes with these new words")
    new_words = reply.messages[0].text.split("\n")[0].removeprefix("Your words are: ")
    book = runtime.appointments
    assert book is not None
    assert [b.status for b in await book.bookings("tue")] == ["booked"]  # one place, still held

    # At the slot's time the old words open nothing; the new ones bring the counsellor.
    clock.now = Slot.from_settings(SLOT).start
    reply = await runtime.handle("old words", Text(first_words))
    assert keys(reply)[0] == "resume.not_found"
    reply = await runtime.handle("new words", Text(new_words))
    assert keys(reply)[0] == "appointments.arrived"
    assert runtime.handoff_desk is not None
    assert len(await runtime.handoff_desk.queue("counsellors")) == 1


def labels(reply: Reply) -> list[str]:
    return [choice.label for message in reply.messages for choice in message.choices]


async def test_until_then_and_book_another_time_show_only_where_they_make_sense(
    shipped: LoadedProgram,
) -> None:
    clock = Clock()
    runtime = runtime_with(shipped, clock)
    words = await book_a_time(runtime, "booking")
    start = Slot.from_settings(SLOT).start

    clock.now = start - 3600
    early = await runtime.handle("early", Text(words))
    clock.now = start
    on_time = await runtime.handle("on-time", Text(words))
    for reply in (early, on_time):
        assert "appointments.after_booking" not in keys(reply)
        assert "Book another time" not in labels(reply)
    assert runtime.handoff_desk is not None
    assert len(await runtime.handoff_desk.queue("counsellors")) == 1

    clock.now = Slot.from_settings(SLOT).end + 60
    late = await runtime.handle("late", Text(words))
    assert "appointments.after_booking" not in keys(late)
    assert "Book another time" in labels(late)


async def test_a_twelve_hour_clock_typed_shows_the_times_in_the_persons_own_time(
    shipped: LoadedProgram,
) -> None:
    clock = Clock()
    runtime = runtime_with(shipped, clock)
    await runtime.handle("s", Start())
    await to_the_clocks(runtime, "s")
    await runtime.handle("s", ChoicePicked("other"))
    reply = await runtime.handle("s", Text("2 pm"))  # noon UTC: the person is at UTC+2
    assert keys(reply) == ["appointments.pick_question"]
    assert labels(reply)[0] == "Tuesday 5 March, 17:00"


async def test_the_log_of_an_appointment_kept_names_no_slot(
    shipped: LoadedProgram, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    runtime = runtime_with(shipped, clock)
    words = await book_a_time(runtime, "booking")
    clock.now = Slot.from_settings(SLOT).start
    with caplog.at_level(logging.INFO):
        reply = await runtime.handle("on-time", Text(words))
    assert keys(reply)[0] == "appointments.arrived"
    logged = [record.getMessage() for record in caplog.records]
    assert any("handoff requested" in line and "appointment" in line for line in logged)
    assert not any("tue" in line for line in logged)
