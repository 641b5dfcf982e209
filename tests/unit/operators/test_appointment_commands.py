"""The appointment book's commands in the Matrix operator room: each is read, and what the
room is told after it (slots with places taken, bookings by id and status only, a slot
added, a booked slot kept, a booking cancelled or marked as not come, every mistake said)."""

from __future__ import annotations

import datetime as dt

import pytest

from redirection_bot.handoff.appointment_orders import BadSlot, new_slot
from redirection_bot.handoff.appointments import AppointmentBook, Slot
from redirection_bot.operations.config import AppointmentSettings
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store.memory import MemoryStore
from redirection_bot_connectors.operators.matrix.appointments import answer_order
from redirection_bot_connectors.operators.matrix.commands import Command, Verb, read_command
from redirection_bot_connectors.operators.matrix.texts import OperatorTexts

NOON = dt.datetime(2030, 3, 4, 12, 0, tzinfo=dt.UTC).timestamp()
LOCALES = ("en", "es", "fi")


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("!slots", Command(Verb.SLOTS)),
        ("!bookings wed-en", Command(Verb.BOOKINGS, "wed-en")),
        (
            "!addslot wed-en 2030-03-06T18:00Z 45 en 2",
            Command(Verb.ADD_SLOT, "wed-en 2030-03-06T18:00Z 45 en 2"),
        ),
        ("!REMOVESLOT wed-en", Command(Verb.REMOVE_SLOT, "wed-en")),
        ("!cancel B-ABCDEFGH", Command(Verb.CANCEL, "B-ABCDEFGH")),
        ("!noshow B-ABCDEFGH", Command(Verb.NO_SHOW, "B-ABCDEFGH")),
    ],
)
def test_each_appointment_command_is_read(text: str, command: Command) -> None:
    assert read_command(text) == command


class Room:
    """The room's side: a command typed, the notice it gets back (in English)."""

    def __init__(self, shipped: LoadedProgram, book: AppointmentBook | None) -> None:
        self.texts = OperatorTexts(shipped.catalog, "en")
        self.book = book

    async def say(self, text: str) -> str:
        command = read_command(text)
        assert isinstance(command, Command)
        return await answer_order(self.book, command, self.texts, LOCALES, "helpline")


@pytest.fixture
def book() -> AppointmentBook:
    return AppointmentBook(AppointmentSettings(), MemoryStore(), lambda: NOON)


async def test_an_operator_adds_a_slot_and_sees_it_listed_with_its_places(
    shipped: LoadedProgram, book: AppointmentBook
) -> None:
    room = Room(shipped, book)
    assert await room.say("!slots") == "There are no appointment slots."
    told = await room.say("!addslot wed-en 2030-03-06T18:00Z 45 en 2")
    assert told == "Slot added: wed-en 2030-03-06T18:00Z 45 min en 0/2, helpline"
    await room.say("!addslot thu-fi 2030-03-07T15:00:00Z 30 fi")
    assert await room.say("!slots") == (
        "Slots:\nwed-en 2030-03-06T18:00Z 45 min en 0/2, helpline\n"
        "thu-fi 2030-03-07T15:00Z 30 min fi 0/1, helpline"
    )
    assert (await book.free("en"))[0][0].id == "wed-en"  # people are offered it
    again = await room.say("!addslot wed-en 2030-03-08T18:00Z")
    assert again == "There is already a slot called wed-en; nothing changed."


@pytest.mark.parametrize(
    ("words", "problem"),
    [
        ("", "a slot needs an id and a start"),
        ("Wed 2030-03-06T18:00Z", "the id `Wed` should be lower-case"),
        ("wed 2030-03-06T18:00", "should be in UTC"),
        ("wed 2030-03-06T18:00+02:00", "should be in UTC"),
        ("wed tomorrow", "should be an ISO-8601 time in UTC"),
        ("wed 2030-03-01T18:00Z", "has passed"),
        ("wed 2030-03-06T18:00Z 500", "`minutes` must be a whole number from 5 to 240"),
        ("wed 2030-03-06T18:00Z 45 pt", "the locale `pt` is not one of the program's: en, es, fi"),
        ("wed 2030-03-06T18:00Z 45 en 0", "`capacity` must be a whole number from 1 to 50"),
        ("wed 2030-03-06T18:00Z 45 en 2 x", "too many words"),
    ],
)
async def test_a_slot_that_cannot_be_added_is_refused_saying_why(
    shipped: LoadedProgram, book: AppointmentBook, words: str, problem: str
) -> None:
    told = await Room(shipped, book).say(f"!addslot {words}")
    assert told.startswith("Slot not added: ") and problem in told
    assert told.endswith("Write !addslot ID START [MINUTES] [LANGUAGE] [PLACES].")
    assert await book.slots() == []


async def test_bookings_show_ids_slots_and_statuses_and_a_booked_slot_stays(
    shipped: LoadedProgram, book: AppointmentBook
) -> None:
    room = Room(shipped, book)
    await room.say("!addslot wed-en 2030-03-06T18:00Z 45 en 2")
    first = await book.book("wed-en", "parked-one")
    second = await book.book("wed-en", "parked-two")
    assert first is not None and second is not None
    listing = await room.say("!bookings wed-en")
    assert listing == f"Bookings:\n{first.id} wed-en booked\n{second.id} wed-en booked"
    assert "parked" not in await room.say("!bookings")  # never the person's parked copy
    assert await room.say("!slots") == "Slots:\nwed-en 2030-03-06T18:00Z 45 min en 2/2, helpline"

    kept = await room.say("!removeslot wed-en")
    assert kept.startswith("Slot wed-en has bookings, so it stays")
    cancelled = await room.say(f"!cancel {first.id}")
    assert cancelled == f"Booking {first.id} cancelled: its place is free."
    assert await room.say(f"!cancel {first.id}") == "Already so: nothing changed."
    early = await room.say(f"!noshow {second.id}")
    assert early.startswith(f"Booking {second.id}'s time has not started yet")
    book.clock = lambda: dt.datetime(2030, 3, 6, 18, 1, tzinfo=dt.UTC).timestamp()  # begun
    not_come = await room.say(f"!noshow {second.id}")
    assert not_come.startswith(f"Booking {second.id} marked as not come")
    assert await room.say("!bookings wed-en") == (
        f"Bookings:\n{first.id} wed-en cancelled\n{second.id} wed-en did not come"
    )
    assert await room.say("!removeslot wed-en") == "Slot wed-en removed."
    assert await room.say("!slots") == "There are no appointment slots."


async def test_unknown_names_and_missing_ids_are_said_and_change_nothing(
    shipped: LoadedProgram, book: AppointmentBook
) -> None:
    room = Room(shipped, book)
    no_slot = "There is no slot called nope; nothing changed."
    assert await room.say("!removeslot nope") == no_slot
    assert await room.say("!bookings nope") == no_slot
    assert await room.say("!cancel B-NOPE") == "There is no booking B-NOPE; nothing changed."
    assert await room.say("!noshow") == "Say which: !noshow followed by its id."
    assert await room.say("!bookings") == "There are no bookings."


async def test_without_appointments_the_room_is_told_so(shipped: LoadedProgram) -> None:
    assert await Room(shipped, None).say("!slots") == "Appointments are not offered here."


@pytest.mark.parametrize("language", ["es", "fi"])
async def test_the_answers_read_in_the_rooms_language(
    shipped: LoadedProgram, book: AppointmentBook, language: str
) -> None:
    texts = OperatorTexts(shipped.catalog, language)
    command = read_command("!addslot wed 2030-03-06T18:00Z")
    assert isinstance(command, Command)
    told = await answer_order(book, command, texts, LOCALES, "helpline")
    assert told.startswith({"es": "Horario agregado: ", "fi": "Aika lisätty: "}[language])
    assert "0/1, helpline" in told and f" {language} " in told  # the room's language by default


@pytest.mark.parametrize(
    ("language", "statuses"),
    [("es", ("reservada", "cancelada", "no vino")), ("fi", ("varattu", "peruttu", "ei tullut"))],
)
async def test_booking_statuses_read_in_the_rooms_language(
    shipped: LoadedProgram, book: AppointmentBook, language: str, statuses: tuple[str, ...]
) -> None:
    texts = OperatorTexts(shipped.catalog, language)
    await book.add_slot(Slot("wed", NOON + 86400, 45, language, 3))
    booked = [b for n in range(3) if (b := await book.book("wed", f"parked-{n}")) is not None]
    await book.cancel(booked[1].id)
    book.clock = lambda: NOON + 86400 + 60  # the slot has begun
    await book.no_show(booked[2].id)
    command = read_command("!bookings wed")
    assert isinstance(command, Command)
    told = await answer_order(book, command, texts, LOCALES, "helpline")
    lines = told.split("\n")[1:]
    assert [line.split(" ", 2)[2] for line in lines] == list(statuses)
    assert not any(code in told for code in ("booked", "cancelled", "no_show"))


def test_a_new_slot_takes_the_defaults_and_the_service_as_its_team() -> None:
    slot = new_slot({"id": "wed", "start": "2030-03-06T18:00:00Z"}, LOCALES, "fi", "fi_line", NOON)
    start = dt.datetime(2030, 3, 6, 18, tzinfo=dt.UTC).timestamp()
    assert slot == Slot("wed", start, 45, "fi", 1, "fi_line")
    with pytest.raises(BadSlot, match="`minutes` must be a whole number"):
        new_slot(
            {"id": "wed", "start": "2030-03-06T18:00Z", "minutes": True}, LOCALES, "en", None, NOON
        )
