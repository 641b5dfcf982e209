"""Anonymous appointments with a counsellor: slots, bookings, and coming back on time.

A live handoff helps only while someone is on duty; an appointment helps the rest. Slots are
declared in the configuration (``appointments.slots``) and added or removed by operators at
run time. A booking holds no identity: its slot, a random booking id, its status and the
name of the copy parked under the person's resume words (``store/resume.py``), which the
server can neither read nor find without the words. When the person types their words within
their slot, the runtime finds the booking by that name (``AppointmentBook.arrival``) and hands
the conversation to the slot's team.

Everything is kept in the session store (sealed like sessions), each slot's bookings under a
key of their own changed with the store's version check, so two instances sharing Redis can
never give the last place twice. Cancellations and no-shows free the place. Bookings are kept
``retention_days`` after their slot ends, then expire with the store's time to live.

The person's time zone is never kept: the booking flow shows times at an offset the person
picked (``local_time``), and the offset is cleared when the flow ends.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from redirection_bot.operations.config import AppointmentSettings, AppointmentSlotSettings
from redirection_bot.store import SessionStore, StoreUnavailable, VersionConflict

SLOTS_KEY = "appointments:slots"
BOOKINGS_PREFIX = "appointments:bookings:"
BOOKING_PREFIX = "appointments:booking:"
PARKED_PREFIX = "appointments:parked:"
SLOTS_KEPT_SECONDS = 400 * 24 * 3600.0
"""Slots added at run time are kept this long after the last change to the list."""
MAX_RETRIES = 50


@dataclass(frozen=True, slots=True)
class Slot:
    """A time a counsellor keeps free: ``start`` in seconds since the epoch (UTC)."""

    id: str
    start: float
    minutes: int
    locale: str
    capacity: int = 1
    team: str | None = None
    operator: str | None = None

    @property
    def end(self) -> float:
        return self.start + self.minutes * 60.0

    @classmethod
    def from_settings(cls, declared: AppointmentSlotSettings) -> Slot:
        start = dt.datetime.fromisoformat(declared.start).timestamp()
        return cls(
            declared.id,
            start,
            declared.minutes,
            declared.locale,
            declared.capacity,
            declared.team,
            declared.operator,
        )

    def starts_at(self) -> str:
        """The start in UTC, ISO-8601, for operators."""
        return dt.datetime.fromtimestamp(self.start, dt.UTC).strftime("%Y-%m-%dT%H:%MZ")


class BookingStatus(enum.StrEnum):
    BOOKED = "booked"
    ARRIVED = "arrived"
    """The person came back in time and was handed to the slot's team."""
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"

    @property
    def holds_place(self) -> bool:
        return self in (BookingStatus.BOOKED, BookingStatus.ARRIVED)


@dataclass(frozen=True, slots=True)
class Booking:
    """A place in a slot: nothing about the person but the name of their parked copy."""

    id: str
    slot: str
    parked: str
    status: BookingStatus = BookingStatus.BOOKED

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> Booking:
        return cls(values["id"], values["slot"], values["parked"], BookingStatus(values["status"]))


class Arrival(enum.StrEnum):
    """How a person who typed their words stands with their booking."""

    NONE = "none"
    """No booking for these words (or it was cancelled or its slot removed)."""
    EARLY = "early"
    ON_TIME = "on_time"
    LATE = "late"
    """The slot is over (or the person was marked as not having come)."""


@dataclass(frozen=True, slots=True)
class Arrived:
    """What ``arrival`` found: how the person stands, and their slot and booking."""

    arrival: Arrival
    slot: Slot | None = None
    booking: Booking | None = None


class BookResult(enum.StrEnum):
    """What an operator's change did."""

    DONE = "done"
    UNKNOWN = "unknown"
    EXISTS = "exists"
    HAS_BOOKINGS = "has_bookings"
    """A slot with people booked in cannot be removed: cancel their bookings first."""
    UNCHANGED = "unchanged"
    """Nothing to change: already so, or the booking is no longer waiting (its place is free
    already, or the person came)."""
    NOT_STARTED = "not_started"
    """A no-show before the slot has started: the person may still come."""


def new_booking_id() -> str:
    """``B-`` and 8 random letters: says nothing about the person or the slot."""
    return "B-" + base64.b32encode(secrets.token_bytes(5)).decode()


def local_time(moment: float, offset_minutes: int) -> dt.datetime:
    """``moment`` as a clock ``offset_minutes`` from UTC shows it."""
    zone = dt.timezone(dt.timedelta(minutes=offset_minutes))
    return dt.datetime.fromtimestamp(moment, zone)


TWELVE_HOUR_MARKS = {"am": 0, "a": 0, "ap": 0, "pm": 12, "p": 12, "ip": 12}
"""What follows a time on a 12-hour clock, dots and spaces taken out: ``am``, ``a.m.``,
``a. m.`` (Spanish), ``ap.`` (Finnish), and the afternoon's."""


def offset_from_clock(now: float, clock: str) -> int | None:
    """The UTC offset (minutes, to the nearest quarter hour) of a clock that shows ``clock``
    (``14:30``, ``14.30``, ``2:30`` in 24 hours; ``1:10 am``, ``1:10pm``, ``1 pm``,
    ``1:10 p. m.`` on a 12-hour clock) at ``now``; None when it is not a time."""
    text = clock.strip().lower()
    digits = text.rstrip("apmi. ")
    mark = text[len(digits) :].replace(".", "").replace(" ", "")
    if mark and mark not in TWELVE_HOUR_MARKS:
        return None
    hours_text, _, minutes_text = digits.strip().replace(".", ":").partition(":")
    if not hours_text.isdigit() or (minutes_text and not minutes_text.isdigit()):
        return None
    hours, minutes = int(hours_text), int(minutes_text or "0")
    if hours > 23 or minutes > 59 or len(minutes_text) not in (0, 2):
        return None
    if mark:
        if not 1 <= hours <= 12:
            return None
        hours = hours % 12 + TWELVE_HOUR_MARKS[mark]
    utc = dt.datetime.fromtimestamp(now, dt.UTC)
    difference = (hours * 60 + minutes) - (utc.hour * 60 + utc.minute)
    # The clock may be on the next or the previous day: take the offset nearest to zero
    # that exists (UTC-12 to UTC+14).
    difference = (difference + 12 * 60) % (24 * 60) - 12 * 60
    if difference < -12 * 60:
        difference += 24 * 60
    quarters = round(difference / 15) * 15
    return quarters if -12 * 60 <= quarters <= 14 * 60 else None


@dataclass(slots=True)
class _Slots:
    """The run-time changes to the configured slots (one record in the store)."""

    added: dict[str, Slot]
    removed: set[str]

    def encode(self) -> bytes:
        body = {
            "added": {name: asdict(slot) for name, slot in self.added.items()},
            "removed": sorted(self.removed),
        }
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes | None) -> _Slots:
        if data is None:
            return cls({}, set())
        body = json.loads(data)
        return cls(
            {name: Slot(**values) for name, values in body["added"].items()}, set(body["removed"])
        )


class AppointmentBook:
    """Slots and bookings, shared by every instance through the session store."""

    def __init__(
        self,
        settings: AppointmentSettings,
        store: SessionStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self._declared = {slot.id: Slot.from_settings(slot) for slot in settings.slots}

    # --- slots --------------------------------------------------------------------------------

    async def slots(self) -> list[Slot]:
        """Every slot (declared, plus added, minus removed), soonest first."""
        changes, _version = await self._read_slots()
        slots = {**self._declared, **changes.added}
        kept = [slot for name, slot in slots.items() if name not in changes.removed]
        return sorted(kept, key=lambda slot: (slot.start, slot.id))

    async def slot(self, slot_id: str) -> Slot | None:
        return next((slot for slot in await self.slots() if slot.id == slot_id), None)

    async def add_slot(self, slot: Slot) -> BookResult:
        def add(changes: _Slots) -> BookResult:
            exists = (slot.id in self._declared or slot.id in changes.added) and (
                slot.id not in changes.removed
            )
            if exists:
                return BookResult.EXISTS
            changes.added[slot.id] = slot
            changes.removed.discard(slot.id)
            return BookResult.DONE

        return await self._change_slots(add)

    async def remove_slot(self, slot_id: str) -> BookResult:
        if await self.slot(slot_id) is None:
            return BookResult.UNKNOWN
        if any(b.status.holds_place for b in await self.bookings(slot_id)):
            return BookResult.HAS_BOOKINGS

        def remove(changes: _Slots) -> BookResult:
            changes.added.pop(slot_id, None)
            if slot_id in self._declared:
                changes.removed.add(slot_id)
            return BookResult.DONE

        return await self._change_slots(remove)

    async def free(self, locale: str) -> list[tuple[Slot, int]]:
        """Slots in ``locale`` that start after the lead time and have places left, with how
        many; soonest first, at most ``offered``."""
        soonest = self.clock() + self.settings.lead_minutes * 60.0
        found: list[tuple[Slot, int]] = []
        for slot in await self.slots():
            if slot.locale != locale or slot.start < soonest:
                continue
            taken = sum(1 for b in await self.bookings(slot.id) if b.status.holds_place)
            if taken < slot.capacity:
                found.append((slot, slot.capacity - taken))
            if len(found) >= self.settings.offered:
                break
        return found

    # --- bookings -----------------------------------------------------------------------------

    async def bookings(self, slot_id: str) -> list[Booking]:
        stored = await self.store.get(BOOKINGS_PREFIX + slot_id)
        if stored is None:
            return []
        return [Booking.from_json(values) for values in json.loads(stored.data)]

    async def book(self, slot_id: str, parked: str) -> Booking | None:
        """A place in ``slot_id`` for the copy parked as ``parked``; None when the slot is
        full, gone or too soon. Compare-and-set: of two instances booking the last place at
        once, one gets it and the other reads the slot again and finds it full."""
        slot = await self.slot(slot_id)
        if slot is None or slot.start < self.clock():
            return None
        booking = Booking(new_booking_id(), slot_id, parked)
        key = BOOKINGS_PREFIX + slot_id
        for _ in range(MAX_RETRIES):
            stored = await self.store.get(key)
            current = [Booking.from_json(v) for v in json.loads(stored.data)] if stored else []
            if sum(1 for b in current if b.status.holds_place) >= slot.capacity:
                return None
            body = json.dumps([asdict(b) for b in [*current, booking]]).encode()
            try:
                await self.store.save(
                    key, body, stored.version if stored else None, self._kept(slot)
                )
            except VersionConflict:
                continue
            await self._put(BOOKING_PREFIX + booking.id, slot_id.encode(), slot)
            await self._put(PARKED_PREFIX + parked, booking.id.encode(), slot)
            return booking
        raise StoreUnavailable("the slot's bookings kept changing")

    async def cancel(self, booking_id: str) -> BookResult:
        """The place is free again (an operator cancelled, or the person left)."""
        return await self._set_status(booking_id, BookingStatus.CANCELLED)

    async def no_show(self, booking_id: str) -> BookResult:
        """The person did not come: the place is free, and their words no longer bring them
        to the counsellor (they are offered to book again)."""
        return await self._set_status(booking_id, BookingStatus.NO_SHOW)

    async def forget_parked(self, parked: str) -> bool:
        """The words of the copy parked as ``parked`` are gone (the person erased everything,
        or was given new words, as when they book again): a booking not yet used is cancelled
        and its place freed; one they came to stays as it was. Whether one was cancelled."""
        cancelled = False
        stored = await self.store.get(PARKED_PREFIX + parked)
        if stored is not None:
            booking = await self._booking(stored.data.decode())
            if booking is not None and booking.status is BookingStatus.BOOKED:
                await self._set_status(booking.id, BookingStatus.CANCELLED)
                cancelled = True
            await self.store.delete(PARKED_PREFIX + parked)
        return cancelled

    async def waiting_for(self, parked: str) -> bool:
        """Whether the words of the copy parked as ``parked`` hold a place the person has not
        used yet, in a slot not over (the place new words would carry)."""
        stored = await self.store.get(PARKED_PREFIX + parked)
        booking = await self._booking(stored.data.decode()) if stored is not None else None
        if booking is None or booking.status is not BookingStatus.BOOKED:
            return False
        slot = await self.slot(booking.slot)
        return slot is not None and self.clock() <= self._closes(slot)

    async def move_parked(self, parked: str, to: str) -> None:
        """The person was given new words (``to``) in place of those of ``parked``: a place
        they still wait for goes with the new words. Where the new words hold a booking of
        their own (the person booked again), the earlier place is freed instead."""
        if await self.store.get(PARKED_PREFIX + to) is not None or not await self.waiting_for(
            parked
        ):
            await self.forget_parked(parked)
            return
        stored = await self.store.get(PARKED_PREFIX + parked)
        assert stored is not None
        booking_id = stored.data.decode()
        index = await self.store.get(BOOKING_PREFIX + booking_id)
        slot = await self.slot(index.data.decode()) if index is not None else None
        if slot is None or await self._set_parked(slot.id, booking_id, to) is not BookResult.DONE:
            await self.forget_parked(parked)
            return
        await self._put(PARKED_PREFIX + to, booking_id.encode(), slot)
        await self.store.delete(PARKED_PREFIX + parked)

    async def arrival(self, parked: str) -> Arrived:
        """How the person whose copy is parked as ``parked`` stands with their booking now;
        on time, the booking is marked ``arrived`` (once: a second arrival is still on time,
        for a person who reconnects)."""
        stored = await self.store.get(PARKED_PREFIX + parked)
        if stored is None:
            return Arrived(Arrival.NONE)
        booking = await self._booking(stored.data.decode())
        slot = await self.slot(booking.slot) if booking is not None else None
        if booking is None or slot is None or booking.status is BookingStatus.CANCELLED:
            return Arrived(Arrival.NONE)
        now = self.clock()
        opens = slot.start - self.settings.early_minutes * 60.0
        if booking.status is BookingStatus.NO_SHOW or now > self._closes(slot):
            return Arrived(Arrival.LATE, slot, booking)
        if now < opens:
            return Arrived(Arrival.EARLY, slot, booking)
        if booking.status is BookingStatus.BOOKED:
            await self._set_status(booking.id, BookingStatus.ARRIVED)
        return Arrived(Arrival.ON_TIME, slot, replace(booking, status=BookingStatus.ARRIVED))

    def _closes(self, slot: Slot) -> float:
        """When the words stop bringing the person to the counsellor."""
        return min(slot.end, slot.start + self.settings.late_minutes * 60.0)

    # --- the store ----------------------------------------------------------------------------

    def _kept(self, slot: Slot) -> float:
        """A booking's time to live: until its slot ends, and ``retention_days`` after."""
        return max(60.0, slot.end - self.clock() + self.settings.retention_days * 86400.0)

    async def _put(self, key: str, value: bytes, slot: Slot) -> None:
        await self.store.delete(key)
        await self.store.save(key, value, None, self._kept(slot))

    async def _booking(self, booking_id: str) -> Booking | None:
        stored = await self.store.get(BOOKING_PREFIX + booking_id)
        if stored is None:
            return None
        return next(
            (b for b in await self.bookings(stored.data.decode()) if b.id == booking_id), None
        )

    async def _set_status(self, booking_id: str, status: BookingStatus) -> BookResult:
        index = await self.store.get(BOOKING_PREFIX + booking_id)
        if index is None:
            return BookResult.UNKNOWN

        def change(found: Booking, slot: Slot | None) -> Booking | BookResult:
            if found.status is not BookingStatus.BOOKED:
                return BookResult.UNCHANGED
            if status is BookingStatus.NO_SHOW and slot is not None and self.clock() < slot.start:
                return BookResult.NOT_STARTED
            return replace(found, status=status)

        return await self._change_booking(index.data.decode(), booking_id, change)

    async def _set_parked(self, slot_id: str, booking_id: str, parked: str) -> BookResult:
        return await self._change_booking(
            slot_id, booking_id, lambda found, _slot: replace(found, parked=parked)
        )

    async def _change_booking(
        self,
        slot_id: str,
        booking_id: str,
        change: Callable[[Booking, Slot | None], Booking | BookResult],
    ) -> BookResult:
        """Change one booking of a slot by compare-and-set, retried on conflict: ``change``
        gives the booking as it is to be, or the result to answer without changing it."""
        key = BOOKINGS_PREFIX + slot_id
        slot = await self.slot(slot_id)
        for _ in range(MAX_RETRIES):
            stored = await self.store.get(key)
            current = [Booking.from_json(v) for v in json.loads(stored.data)] if stored else []
            found = next((b for b in current if b.id == booking_id), None)
            if stored is None or found is None:
                return BookResult.UNKNOWN
            changed_one = change(found, slot)
            if isinstance(changed_one, BookResult):
                return changed_one
            changed = [changed_one if b.id == booking_id else b for b in current]
            ttl = self._kept(slot) if slot is not None else self.settings.retention_days * 86400.0
            try:
                body = json.dumps([asdict(b) for b in changed]).encode()
                await self.store.save(key, body, stored.version, ttl)
            except VersionConflict:
                continue
            return BookResult.DONE
        raise StoreUnavailable("the slot's bookings kept changing")

    async def _read_slots(self) -> tuple[_Slots, int | None]:
        stored = await self.store.get(SLOTS_KEY)
        return _Slots.decode(stored.data if stored else None), stored.version if stored else None

    async def _change_slots(self, change: Callable[[_Slots], BookResult]) -> BookResult:
        for _ in range(MAX_RETRIES):
            changes, version = await self._read_slots()
            result = change(changes)
            if result is not BookResult.DONE:
                return result
            try:
                await self.store.save(SLOTS_KEY, changes.encode(), version, SLOTS_KEPT_SECONDS)
            except VersionConflict:
                continue
            return result
        raise StoreUnavailable("the slots kept changing")
