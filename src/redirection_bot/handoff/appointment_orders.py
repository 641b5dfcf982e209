"""What operators may do with the appointment book, whatever their channel.

The Matrix room (``!slots``, ``!addslot`` ...) and the webhook (``"type": "add_slot"`` ...)
read their own words into an ``Order`` and its fields; this module checks a new slot with
the configuration's own rules and carries the order out on the shared ``AppointmentBook``.
What comes back names slots and bookings only: a booking's id, its slot and its status,
never anything about the person (the book holds nothing else).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from redirection_bot.handoff.appointments import AppointmentBook, Booking, BookResult, Slot
from redirection_bot.operations.config import slot_id_problem, utc_time_problem

MINUTES = (5, 240)
CAPACITY = (1, 50)
"""The limits of the configuration's slots (``AppointmentSlotSettings``), kept the same."""


class Order(enum.StrEnum):
    """What an operator asks of the appointment book."""

    SLOTS = "slots"
    BOOKINGS = "bookings"
    ADD_SLOT = "add_slot"
    REMOVE_SLOT = "remove_slot"
    CANCEL = "cancel_booking"
    NO_SHOW = "no_show"


class BadSlot(ValueError):
    """A slot an operator described that cannot be added; the message says why."""


@dataclass(frozen=True, slots=True)
class SlotView:
    """A slot as operators see it: how many of its places are taken."""

    slot: Slot
    taken: int

    def line(self) -> str:
        slot = self.slot
        team = f", {slot.team}" if slot.team else ""
        return (
            f"{slot.id} {slot.starts_at()} {slot.minutes} min {slot.locale} "
            f"{self.taken}/{slot.capacity}{team}"
        )


def booking_line(booking: Booking, status: str | None = None) -> str:
    """A booking as one line: id, slot and ``status`` (the status's label in the reader's
    language; its code when None)."""
    return f"{booking.id} {booking.slot} {status or booking.status.value}"


def new_slot(
    fields: Mapping[str, object],
    locales: Sequence[str],
    default_locale: str,
    team: str | None,
    now: float,
) -> Slot:
    """A slot from an operator's fields (``id``, ``start`` in UTC; ``minutes``, ``locale``,
    ``capacity`` optional); raises BadSlot saying what is wrong."""
    slot_id, start = fields.get("id"), fields.get("start")
    if not isinstance(slot_id, str) or not isinstance(start, str):
        raise BadSlot("a slot needs an id and a start (in UTC, like 2030-03-06T18:00Z)")
    problem = slot_id_problem(slot_id)
    if problem is not None:
        raise BadSlot(f"the id `{slot_id}` {problem}")
    problem = utc_time_problem(start)
    if problem is not None:
        raise BadSlot(f"the start `{start}` {problem}")
    begins = dt.datetime.fromisoformat(start).timestamp()
    if begins <= now:
        raise BadSlot(f"the start `{start}` has passed")
    minutes = _whole(fields.get("minutes", 45), "minutes", MINUTES)
    capacity = _whole(fields.get("capacity", 1), "capacity", CAPACITY)
    locale = fields.get("locale", default_locale)
    if not isinstance(locale, str) or locale not in locales:
        raise BadSlot(f"the locale `{locale}` is not one of the program's: {', '.join(locales)}")
    return Slot(slot_id, begins, minutes, locale, capacity, team)


def _whole(value: object, name: str, limits: tuple[int, int]) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    low, high = limits
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadSlot(f"`{name}` must be a whole number from {low} to {high}")
    return value


async def slot_views(book: AppointmentBook) -> list[SlotView]:
    """Every slot, soonest first, with the places taken."""
    views = []
    for slot in await book.slots():
        taken = sum(1 for b in await book.bookings(slot.id) if b.status.holds_place)
        views.append(SlotView(slot, taken))
    return views


async def bookings(book: AppointmentBook, slot_id: str | None = None) -> list[Booking] | None:
    """The bookings of one slot, or of every slot (None: no such slot)."""
    if slot_id is not None:
        if await book.slot(slot_id) is None:
            return None
        return await book.bookings(slot_id)
    return [b for slot in await book.slots() for b in await book.bookings(slot.id)]


async def change(book: AppointmentBook, order: Order, name: str) -> BookResult:
    """Remove slot ``name``, or cancel booking ``name``, or mark it as not come."""
    if order is Order.REMOVE_SLOT:
        return await book.remove_slot(name)
    if order is Order.CANCEL:
        return await book.cancel(name)
    if order is Order.NO_SHOW:
        return await book.no_show(name)
    raise ValueError(f"{order} changes nothing by name")
