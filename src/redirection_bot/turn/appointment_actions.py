"""The booking flow's actions (dialogues/flows/appointment.yaml), behind the action seam.

- ``action_appointment_zones`` sets the time now at a few UTC offsets used where the
  conversation's language is spoken, for the buttons that show them: the person taps the
  one their clock shows (or types their clock's time), so no time zone is asked by name and
  none is kept.
- ``action_appointment_slots`` sets the free slots in the conversation's language, in the
  person's own time, for the buttons that show them.
- ``action_appointment_book`` books the slot picked, gives resume words (the conversation is
  parked under them when the turn is saved, as ``action_resume_phrase`` does) and says
  plainly that no reminder can come.
- ``action_appointment_forget`` clears what the flow kept (the offset above all).

The offset lives in the conversation's slots only while the person books; every way out of
the flow clears it, and the parked copy is saved without it.
"""

from __future__ import annotations

from collections.abc import Mapping

from redirection_bot.dialogue.model import SlotValue
from redirection_bot.engine import ActionResult, Message
from redirection_bot.engine.outputs import Label
from redirection_bot.handoff.appointments import (
    AppointmentBook,
    Slot,
    local_time,
    offset_from_clock,
)
from redirection_bot.operations.logs import log_event
from redirection_bot.store.resume import ResumeVault
from redirection_bot.turn.actions import ActionCall
from redirection_bot.work_lane import LaneFull

ZONES_ACTION = "action_appointment_zones"
SLOTS_ACTION = "action_appointment_slots"
BOOK_ACTION = "action_appointment_book"
FORGET_ACTION = "action_appointment_forget"
ACTIONS = (ZONES_ACTION, SLOTS_ACTION, BOOK_ACTION, FORGET_ACTION)
APPOINTMENT_FLOW = "appointment"
"""The ticket of a person who came at their booked time says it was asked in
``appointment:<slot id>``: operators see an appointment, and which."""

AGAIN_NODE = "again"
CONTINUE_CHOICE = "continue"
"""The booked copy is parked at the flow's ``again`` question (book another time, or
continue); a person who comes back early or on time goes on by ``continue``."""

MAX_OFFERED = 6
"""The flow has a button for each of at most this many free times."""
ZONE_TIME_SLOTS = tuple(f"appointment_zone_time_{n}" for n in range(1, 5))
"""The time now on each clock offered, as its button shows it ("18:05")."""
OFFERED_PARTS = ("weekday", "day", "month", "time")
OFFERED_SLOTS = tuple(
    f"appointment_{part}_{n}" for n in range(1, MAX_OFFERED + 1) for part in OFFERED_PARTS
)
"""Each free time offered, as its button shows it: weekday and month as values whose labels
are texts, the day and the time ("18:00") in the person's own time."""
FLOW_SLOTS = (
    "appointment_zone_pick",
    "appointment_clock",
    "appointment_zone",
    "appointment_free",
    "appointment_listed",
    "appointment_pick",
    *ZONE_TIME_SLOTS,
    *OFFERED_SLOTS,
)
"""Every slot the flow uses; all cleared when it ends."""

ZONES: dict[str, tuple[int, ...]] = {
    "en": (-480, -300, 0, 60),
    "es": (-360, -300, -180, 60),
    "fi": (0, 60, 120, 180),
}
"""UTC offsets (minutes) shown first, per language: four, west to east (the flow offers four
buttons and "another time zone"). A language not listed gets UTC-5, UTC, UTC+1, UTC+2."""
OTHER_ZONES = (-300, 0, 60, 120)


class AppointmentKeys:
    """Texts the booking actions say (locales/appointments.<locale>.yml)."""

    CLOCK_UNCLEAR = "appointments.clock_unclear"
    BOOKED = "appointments.booked"
    WORDS = "appointments.words"
    NO_REMINDERS = "appointments.no_reminders"
    TAKEN = "appointments.taken"
    EARLY = "appointments.early"
    EARLY_MINUTES = "appointments.early_minutes"
    """Early by less than an hour: the wait in minutes only."""
    LATE = "appointments.late"
    ARRIVED = "appointments.arrived"
    MOVED = "appointments.moved"


def zones_for(locale: str) -> tuple[int, ...]:
    return ZONES.get(locale, OTHER_ZONES)


def offered_sets(number: int, slot: Slot, offset: int) -> list[tuple[str, SlotValue | None]]:
    """The slots that show a free time on button ``number``, in the person's own time."""
    start = local_time(slot.start, offset)
    values: tuple[SlotValue, ...] = (
        str(start.isoweekday()),
        start.day,
        str(start.month),
        start.strftime("%H:%M"),
    )
    return [
        (f"appointment_{part}_{number}", value)
        for part, value in zip(OFFERED_PARTS, values, strict=True)
    ]


def when_params(slot: Slot, offset: int) -> dict[str, str | int | Label]:
    """A slot's start as the person's clock shows it: weekday and month as texts."""
    start = local_time(slot.start, offset)
    return {
        "weekday": Label(f"appointments.weekday.{start.isoweekday()}"),
        "day": start.day,
        "month": Label(f"appointments.month.{start.month}"),
        "time": start.strftime("%H:%M"),
        "minutes": slot.minutes,
    }


class AppointmentActions:
    """Runs the booking flow's actions over the shared ``AppointmentBook``."""

    def __init__(self, book: AppointmentBook, resume: ResumeVault) -> None:
        self.book = book
        self._resume = resume

    async def run(self, call: ActionCall) -> ActionResult:
        if call.action == ZONES_ACTION:
            return self._zones(call)
        if call.action == SLOTS_ACTION:
            return await self._slots(call)
        if call.action == BOOK_ACTION:
            return await self._book(call)
        return ActionResult(call.action, slot_sets=_cleared())

    def _zones(self, call: ActionCall) -> ActionResult:
        now = self.book.clock()
        sets: tuple[tuple[str, SlotValue | None], ...] = tuple(
            (name, local_time(now, offset).strftime("%H:%M"))
            for name, offset in zip(ZONE_TIME_SLOTS, zones_for(call.state.locale), strict=False)
        )
        return ActionResult(call.action, slot_sets=sets)

    async def _slots(self, call: ActionCall) -> ActionResult:
        slots = call.state.slots
        offset = _offset(slots, call.state.locale, self.book.clock())
        forget_asked: tuple[tuple[str, SlotValue | None], ...] = (
            ("appointment_zone_pick", None),
            ("appointment_clock", None),
            ("appointment_pick", None),
        )
        if offset is None:
            unclear = Message(AppointmentKeys.CLOCK_UNCLEAR)
            sets = (*forget_asked, ("appointment_free", None))
            return ActionResult(call.action, slot_sets=sets, messages=(unclear,))
        free = (await self.book.free(call.state.locale))[:MAX_OFFERED]
        offered = [
            item
            for number, (slot, _left) in enumerate(free, start=1)
            for item in offered_sets(number, slot, offset)
        ]
        sets = (
            *forget_asked,
            *((name, None) for name in (*ZONE_TIME_SLOTS, *OFFERED_SLOTS)),
            *offered,
            ("appointment_zone", offset),
            ("appointment_free", len(free)),
            ("appointment_listed", " ".join(slot.id for slot, _left in free) or None),
        )
        return ActionResult(call.action, slot_sets=sets)

    async def _book(self, call: ActionCall) -> ActionResult:
        slots = call.state.slots
        listed = str(slots.get("appointment_listed") or "").split()
        pick, offset = slots.get("appointment_pick"), slots.get("appointment_zone")
        if not isinstance(pick, int) or not isinstance(offset, int) or not 1 <= pick <= len(listed):
            return ActionResult(call.action, failed=True)
        slot = await self.book.slot(listed[pick - 1])
        words = await self._resume.new_phrase(call.state.locale)
        try:
            key = await self._resume.key_for(words)
        except LaneFull:
            log_event("resume busy", session=call.sender)
            return ActionResult(call.action, failed=True)
        booking = await self.book.book(slot.id, key.name) if slot is not None else None
        if slot is None or booking is None:
            log_event("appointment full", session=call.sender)
            taken = Message(AppointmentKeys.TAKEN)
            return ActionResult(
                call.action, slot_sets=(("appointment_pick", None),), messages=(taken,)
            )
        call.after.park_under = key
        log_event("appointment booked", session=call.sender)
        days = round(self._resume.ttl_seconds / 86400)
        told = (
            Message(AppointmentKeys.BOOKED, when_params(slot, offset)),
            Message(AppointmentKeys.WORDS, {"phrase": " ".join(words), "days": days}),
            Message(AppointmentKeys.NO_REMINDERS),
        )
        return ActionResult(call.action, slot_sets=_cleared(), messages=told)


def _offset(slots: Mapping[str, SlotValue], locale: str, now: float) -> int | None:
    """The offset the person picked (a number) or their clock's (typed), if readable."""
    picked = slots.get("appointment_zone_pick")
    zones = zones_for(locale)
    if isinstance(picked, int) and 1 <= picked <= len(zones):
        return zones[picked - 1]
    clock = slots.get("appointment_clock")
    if isinstance(clock, str):
        return offset_from_clock(now, clock)
    zone = slots.get("appointment_zone")
    return zone if isinstance(zone, int) else None


def _cleared() -> tuple[tuple[str, SlotValue | None], ...]:
    return tuple((name, None) for name in FLOW_SLOTS)
