"""The appointment book's commands in the operator room: what each answers.

``!slots`` lists every slot (id, start in UTC, minutes, language, places taken/places);
``!bookings [SLOT]`` the bookings (booking id, slot, status: nothing about the person);
``!addslot ID START [MINUTES] [LANGUAGE] [PLACES]`` adds a slot for this room's service;
``!removeslot ID`` removes one (refused while someone is booked in it); ``!cancel BOOKING``
and ``!noshow BOOKING`` free a place. Every answer is one notice in the room's language.
"""

from __future__ import annotations

from redirection_bot.api import (
    AppointmentBook,
    BadSlot,
    BookResult,
    Order,
    booking_line,
    bookings,
    change,
    new_slot,
    slot_views,
)

from .commands import Command, Verb
from .texts import OperatorTexts

ORDERS = {
    Verb.SLOTS: Order.SLOTS,
    Verb.BOOKINGS: Order.BOOKINGS,
    Verb.ADD_SLOT: Order.ADD_SLOT,
    Verb.REMOVE_SLOT: Order.REMOVE_SLOT,
    Verb.CANCEL: Order.CANCEL,
    Verb.NO_SHOW: Order.NO_SHOW,
}
ADD_SLOT_FIELDS = ("id", "start", "minutes", "locale", "capacity")
"""The words after ``!addslot``, in order."""
CHANGED = {
    Order.REMOVE_SLOT: "removed",
    Order.CANCEL: "cancelled",
    Order.NO_SHOW: "no_show",
}


async def answer_order(
    book: AppointmentBook | None,
    command: Command,
    texts: OperatorTexts,
    locales: tuple[str, ...],
    service: str,
) -> str:
    """Carry out an appointment command; the room's answer."""
    order = ORDERS[command.verb]
    if book is None:
        return texts.say("appointments.not_offered")
    words = command.argument.split()
    if order is Order.SLOTS:
        views = await slot_views(book)
        if not views:
            return texts.say("appointments.no_slots")
        return texts.say("appointments.slots", slots="\n".join(view.line() for view in views))
    if order is Order.BOOKINGS:
        slot_id = words[0] if words else None
        found = await bookings(book, slot_id)
        if found is None:
            return texts.say("appointments.no_such_slot", slot=slot_id or "")
        if not found:
            return texts.say("appointments.no_bookings")
        lines = (booking_line(b, texts.label("appointments.status", b.status)) for b in found)
        return texts.say("appointments.bookings", bookings="\n".join(lines))
    if order is Order.ADD_SLOT:
        return await _add(book, words, texts, locales, service)
    if not words:
        return texts.say("appointments.say_which", command=command.verb.value)
    name = words[0]
    result = await change(book, order, name)
    if result is BookResult.DONE:
        return texts.say(f"appointments.{CHANGED[order]}", slot=name, booking=name)
    if result is BookResult.UNCHANGED:
        return texts.say("appointments.unchanged")
    if result is BookResult.HAS_BOOKINGS:
        return texts.say("appointments.has_bookings", slot=name)
    if result is BookResult.NOT_STARTED:
        return texts.say("appointments.not_started", booking=name)
    unknown = "no_such_slot" if order is Order.REMOVE_SLOT else "no_such_booking"
    return texts.say(f"appointments.{unknown}", slot=name, booking=name)


async def _add(
    book: AppointmentBook,
    words: list[str],
    texts: OperatorTexts,
    locales: tuple[str, ...],
    service: str,
) -> str:
    fields = dict(zip(ADD_SLOT_FIELDS, words, strict=False))
    try:
        if len(words) > len(ADD_SLOT_FIELDS):
            raise BadSlot(f"too many words after !addslot ({len(words)}; at most 5)")
        slot = new_slot(fields, locales, texts.language, service, book.clock())
    except BadSlot as problem:
        return texts.say("appointments.bad_slot", problem=str(problem))
    if await book.add_slot(slot) is BookResult.EXISTS:
        return texts.say("appointments.exists", slot=slot.id)
    view = next(v for v in await slot_views(book) if v.slot.id == slot.id)
    return texts.say("appointments.added", slot=view.line())
