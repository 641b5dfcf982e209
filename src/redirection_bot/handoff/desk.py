"""The help desk: what every instance shares about handoffs, and what operators act through.

- **Tickets and the queue.** Which handoffs are open, for which service, how urgent, since
  when, and whether an operator has one; a person's place in line follows urgency, then
  time. Kept in the session store under one key (sealed like sessions, so every instance
  sees the same queue), changed with the store's version check.
- **Who is on duty.** Operators say so through their channel; it lasts ``duty_hours``
  unless said again (claiming a conversation says it too). With each service's office hours
  and holidays this gives the ``Situation`` the state machine decides by.
- **Topics on the relay.** Desk events go to each service's topic (``events``), read in
  order by its operator channel, which saves its cursor in ``memory`` and so misses nothing
  across a restart or an outage. Pushes go to each handoff's own topic (``pushes``), read
  by the instance that has the person's page or room.
- **Operators act** through a ``ServiceDesk`` (one per service): claim, write, close,
  transfer, on duty. Each act becomes an event of the state machine, applied by the runtime
  to the session under its lock (``HandoffSessions``); the answer says whether it changed
  anything (a repeat, a late or a colleague's conversation change nothing).
- **Time passes**: ``run`` ticks every open handoff, so the wait is never silent and the
  fallback comes on time, whatever the operators' channel is doing.

The desk itself never calls the runtime: the runtime is built with the desk, and what acts
on sessions (a ``ServiceDesk``, the clock) is given the runtime (``HandoffSessions``) when it
is built or run.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import datetime as dt
import enum
import json
import random
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from redirection_bot.dialogue.model import HandoffUrgency, Place
from redirection_bot.handoff.machine import (
    Claimed,
    Closed,
    Duplicate,
    HandoffEvent,
    HandoffStatus,
    HandoffTimings,
    OperatorSaid,
    Situation,
    Step,
    Tick,
    TicketChange,
    Transferred,
    Unchanged,
    tick_due,
    urgency_rank,
)
from redirection_bot.handoff.wire import (
    ConversationShared,
    DeskEvent,
    PersonWrote,
    Push,
    TicketChanged,
    WireError,
    decode_desk_event,
    decode_push,
    encode_desk_event,
    encode_push,
)
from redirection_bot.operations.logs import log_event
from redirection_bot.store import SessionStore, StoreUnavailable, VersionConflict
from redirection_bot.store.relay import START, Relay

if TYPE_CHECKING:
    from redirection_bot.operations.config import HandoffSettings, ServiceSettings
    from redirection_bot.program.load import LoadedProgram

DESK_KEY = "handoff:desk"
MEMORY_PREFIX = "handoff:memory:"
KEPT_SECONDS = 30 * 24 * 3600.0
"""How long the desk's own record and a channel's memory are kept after their last change."""
MAX_RETRIES = 50
ENDED_KEPT_SECONDS = 24 * 3600.0
"""An ended ticket is remembered this long, so that a late act on it is a duplicate."""
ENDED_KEPT = 500
"""At most this many ended tickets are remembered (the oldest go first): a late act on one
forgotten is answered as unknown rather than as a duplicate."""
LOOK_AGAIN_SECONDS = 60.0
"""A tick looks at an open handoff at least this often (whether its session still exists),
sooner when its next notice or its fallback is due, or the desk's record of it changed."""


class Outcome(enum.StrEnum):
    """What an operator's act did."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    """A repeat or a late act (claimed already, closed already): nothing changed."""
    NOT_YOURS = "not_yours"
    """A colleague has this conversation."""
    NOT_CLAIMED = "not_claimed"
    """Words for a person whose request nobody has claimed yet: not sent."""
    UNKNOWN = "unknown"
    """No such open handoff for this service (ended, erased, expired, or never opened)."""
    BAD_TARGET = "bad_target"
    """The place to return to is not a flow or node of the program."""


@dataclass(frozen=True, slots=True)
class Operator:
    """An operator as their channel knows them: ``ref`` (their id there, never shown to the
    person) and ``name`` (how the person is told who joined: a first name or a role)."""

    ref: str
    name: str


class HandoffSessions(Protocol):
    """What the runtime does for the desk: apply a handoff event to a session, under its lock;
    and the program it runs, whose texts operator channels write in."""

    @property
    def loaded(self) -> LoadedProgram:
        """The current program and its catalog."""
        ...

    async def apply_handoff(
        self, session_id: str, event: HandoffEvent, words: str | None = None
    ) -> Step | None:
        """The step taken (None: the session is gone)."""
        ...

    def place(self, target: str) -> Place | None:
        """A flow (its start) or ``flow.node`` of the current program, if it exists."""
        ...


@dataclass(slots=True)
class _Ticket:
    session: str
    service: str
    urgency: HandoffUrgency
    requested_at: float
    status: HandoffStatus = HandoffStatus.WAITING
    """``WAITING`` or ``WITH_OPERATOR`` while open, ``ENDED`` once the handoff is over."""
    operator: str | None = None
    ended_at: float | None = None

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> _Ticket:
        ticket = cls(**values)
        ticket.urgency = HandoffUrgency(ticket.urgency)
        ticket.status = HandoffStatus(ticket.status)
        return ticket


@dataclass(slots=True)
class _Record:
    tickets: dict[str, _Ticket] = field(default_factory=dict)
    duty: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per service: operator reference -> until when they are on duty."""

    def encode(self) -> bytes:
        body = {
            "tickets": {name: asdict(ticket) for name, ticket in self.tickets.items()},
            "duty": self.duty,
        }
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> _Record:
        body = json.loads(data)
        tickets = {name: _Ticket.from_json(values) for name, values in body["tickets"].items()}
        duty = {name: {k: float(v) for k, v in refs.items()} for name, refs in body["duty"].items()}
        return cls(tickets, duty)

    def waiting(self, service: str) -> list[tuple[str, _Ticket]]:
        """The service's queue, next first: more urgent first, then longer waiting."""
        queued = [
            (name, ticket)
            for name, ticket in self.tickets.items()
            if ticket.service == service and ticket.status is HandoffStatus.WAITING
        ]
        return sorted(
            queued,
            key=lambda item: (
                -urgency_rank(item[1].urgency),
                item[1].requested_at,
                item[0],
            ),
        )


class _View:
    """The desk's record as one tick read it, with each service's queue sorted once: a
    tick's situations are all read from it (reading and sorting the whole record for each
    open handoff made a tick's work grow with the square of the open requests: 2,000 of
    them froze the web chat 36 s in every 42, the fifty-sixth attack)."""

    def __init__(self, record: _Record) -> None:
        self.record = record
        self._queues: dict[str, list[tuple[str, _Ticket]]] = {}
        self._places: dict[str, dict[str, int]] = {}

    def queue(self, service: str) -> list[tuple[str, _Ticket]]:
        queue = self._queues.get(service)
        if queue is None:
            queue = self._queues[service] = self.record.waiting(service)
        return queue

    def place(self, service: str, ticket: str) -> int | None:
        """``ticket``'s place in ``service``'s line (1 = next), if it is in it."""
        places = self._places.get(service)
        if places is None:
            places = {name: n for n, (name, _t) in enumerate(self.queue(service), start=1)}
            self._places[service] = places
        return places.get(ticket)


_TICKING: contextvars.ContextVar[_View | None] = contextvars.ContextVar("ticking", default=None)
"""The record a tick in this task reads its situations from (``HandoffDesk.tick_once``)."""


@dataclass(frozen=True, slots=True)
class _Look:
    """When a tick last looked at a ticket: what the desk's record said of it then, and
    when the next look is due."""

    seen: tuple[HandoffStatus, float, HandoffUrgency]
    due: float


def _forget_ended(record: _Record, now: float) -> None:
    """Drop the ended tickets remembered longer than a day, and the oldest beyond
    ``ENDED_KEPT``: asking and withdrawing again and again grew the record to 655 KB, every
    later request five to seven times slower (the fifty-seventh attack)."""
    forgotten = now - ENDED_KEPT_SECONDS
    ended = sorted(
        (ticket.ended_at, name)
        for name, ticket in record.tickets.items()
        if ticket.ended_at is not None
    )
    recent = [name for at, name in ended if at >= forgotten]
    old = [name for at, name in ended if at < forgotten]
    for name in old + recent[: max(0, len(recent) - ENDED_KEPT)]:
        del record.tickets[name]


class ChannelMemory:
    """Small values an operator channel keeps between restarts (its cursor, which thread is
    which ticket, webhook ids already seen), in the session store, sealed like sessions."""

    def __init__(self, store: SessionStore, prefix: str) -> None:
        self._store = store
        self._prefix = prefix

    async def get(self, name: str) -> str | None:
        stored = await self._store.get(self._prefix + name)
        return stored.data.decode() if stored is not None else None

    async def put(self, name: str, value: str, ttl_seconds: float = KEPT_SECONDS) -> None:
        key = self._prefix + name
        for _ in range(MAX_RETRIES):
            stored = await self._store.get(key)
            try:
                await self._store.save(
                    key, value.encode(), stored.version if stored else None, ttl_seconds
                )
                return
            except VersionConflict:
                continue
        raise StoreUnavailable("channel memory kept changing")

    async def add_once(self, name: str, ttl_seconds: float) -> bool:
        """Record ``name``; False if it was already recorded (for replayed requests)."""
        key = self._prefix + name
        if await self._store.get(key) is not None:
            return False
        try:
            await self._store.save(key, b"1", None, ttl_seconds)
        except VersionConflict:
            return False
        return True

    async def delete(self, name: str) -> None:
        await self._store.delete(self._prefix + name)


class HandoffDesk:
    """The desk shared by every instance (see the module's description)."""

    def __init__(
        self,
        config: HandoffSettings,
        store: SessionStore,
        relay: Relay,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.services = {service.name: service for service in config.services}
        self.timings = HandoffTimings(config.claim_timeout_seconds, config.notice_interval_seconds)
        self.store = store
        self.relay = relay
        self.clock = clock
        self._looks: dict[str, _Look] = {}
        """What this instance's ticks saw of each open ticket, and when to look again."""
        self._changing = asyncio.Lock()

    def service(self, name: str, sessions: HandoffSessions) -> ServiceDesk:
        """The desk as the operator channel of service ``name`` sees it; its acts are applied
        to the sessions of ``sessions`` (the runtime)."""
        return ServiceDesk(self, self.services[name], sessions)

    def service_for(self, locale: str) -> str:
        """The service a person in ``locale`` goes to: the first that serves the language,
        else the first one (its people may still speak it)."""
        for service in self.config.services:
            if service.serves(locale):
                return service.name
        return self.config.services[0].name

    @staticmethod
    def new_ticket() -> str:
        """A random ticket name that says nothing about the person: ``T-`` and 8 letters."""
        return "T-" + base64.b32encode(secrets.token_bytes(5)).decode()

    # --- the shared record ----------------------------------------------------------------------

    async def _read(self) -> tuple[_Record, int | None]:
        stored = await self.store.get(DESK_KEY)
        if stored is None:
            return _Record(), None
        return _Record.decode(stored.data), stored.version

    async def _change(self, change: Callable[[_Record], None]) -> _Record:
        # One change at a time in this instance: 30 to 100 people asking for a person at once
        # each read and wrote the one record, and many ran out of retries: told "you are
        # number 4 in line" with no ticket behind it (the fifty-seventh attack). Instances
        # sharing a store still meet on the version check, and retry after a moment.
        async with self._changing:
            for attempt in range(MAX_RETRIES):
                record, version = await self._read()
                change(record)
                _forget_ended(record, self.clock())
                try:
                    await self.store.save(DESK_KEY, record.encode(), version, KEPT_SECONDS)
                except VersionConflict:
                    await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))
                    continue
                return record
        raise StoreUnavailable("the desk record kept changing")

    async def situation(
        self, service: str, ticket: str | None, urgency: HandoffUrgency | None
    ) -> Situation:
        """How things stand for a handoff of ``service`` (a new one when ``ticket`` is None or
        not queued yet, with ``urgency``)."""
        view = _TICKING.get()
        if view is None:
            view = _View((await self._read())[0])
        record = view.record
        now = self.clock()
        queued = view.place(service, ticket) if ticket is not None else None
        position = queued
        if position is None:
            rank = urgency_rank(urgency)
            ahead = [t for _n, t in view.queue(service) if urgency_rank(t.urgency) >= rank]
            position = len(ahead) + 1
        on_duty = sum(1 for until in record.duty.get(service, {}).values() if until > now)
        settings = self.services.get(service)
        open_now = settings is not None and settings.hours.is_open(
            dt.datetime.fromtimestamp(now, dt.UTC)
        )
        # A crisis's request (urgent) has as many places again: a script's ordinary requests
        # filling the line no longer turn away a person who wrote of ending their life (the
        # fifty-seventh attack); what is urgent comes first in the line anyway.
        urgent = urgency_rank(urgency) >= urgency_rank(HandoffUrgency.HIGH)
        places = self.config.max_waiting * (2 if urgent else 1)
        full = queued is None and len(view.queue(service)) >= places
        return Situation(now, on_duty, open_now, position, full)

    async def opened(
        self,
        ticket: str,
        session_id: str,
        service: str,
        urgency: HandoffUrgency,
        requested_at: float,
    ) -> None:
        def add(record: _Record) -> None:
            record.tickets[ticket] = _Ticket(session_id, service, urgency, requested_at)

        await self._change(add)

    async def changed(
        self,
        ticket: str,
        status: HandoffStatus | None,
        operator: str | None = None,
        urgency: HandoffUrgency | None = None,
        requested_at: float | None = None,
    ) -> None:
        """Record a ticket's new status (None: the handoff is over; the ticket is remembered
        for a day, so that a late act on it is answered as a duplicate)."""

        def apply(record: _Record) -> None:
            found = record.tickets.get(ticket)
            if found is None or found.status is HandoffStatus.ENDED:
                return
            if status is None:
                found.status, found.ended_at = HandoffStatus.ENDED, self.clock()
                return
            found.status = status
            found.operator = operator
            if urgency is not None:
                found.urgency = urgency
            if requested_at is not None:
                found.requested_at = requested_at

        await self._change(apply)

    async def session_of(self, ticket: str, service: str) -> str | None:
        record, _version = await self._read()
        found = record.tickets.get(ticket)
        return found.session if found is not None and found.service == service else None

    async def on_duty(self, service: str, operator_ref: str, on: bool) -> None:
        until = self.clock() + self.config.duty_hours * 3600.0

        def apply(record: _Record) -> None:
            roster = record.duty.setdefault(service, {})
            now = self.clock()
            for ref in [ref for ref, ends in roster.items() if ends <= now]:
                del roster[ref]
            if on:
                roster[operator_ref] = until
            else:
                roster.pop(operator_ref, None)

        await self._change(apply)
        log_event("operator duty", status="on" if on else "off", kind=service)

    async def on_duty_count(self, service: str) -> int:
        return (await self.situation(service, None, None)).operators_on_duty

    async def queue(self, service: str) -> list[str]:
        """The service's waiting tickets, next first."""
        record, _version = await self._read()
        return [name for name, _ticket in record.waiting(service)]

    # --- topics -----------------------------------------------------------------------------------

    @staticmethod
    def feed(session_id: str, ticket: str) -> str:
        """The topic of one handoff's pushes to the person."""
        return f"handoff:person:{session_id}:{ticket}"

    @staticmethod
    def topic(service: str) -> str:
        """The topic of one service's desk events."""
        return f"handoff:desk:{service}"

    async def announce(self, service: str, event: DeskEvent) -> str:
        return await self.relay.publish(self.topic(service), encode_desk_event(event))

    async def events(
        self, service: str, after: str = START
    ) -> AsyncIterator[tuple[str, DeskEvent]]:
        """The service's desk events after the id ``after``, then new ones as they come."""
        async for message in self.relay.listen(self.topic(service), after):
            try:
                yield message.id, decode_desk_event(message.data)
            except WireError:
                log_event("desk event unreadable", kind=service)

    async def push(self, feed: str, push: Push) -> str:
        return await self.relay.publish(feed, encode_push(push))

    async def pushes(self, feed: str, after: str = START) -> AsyncIterator[tuple[str, Push]]:
        async for message in self.relay.listen(feed, after):
            try:
                yield message.id, decode_push(message.data)
            except WireError:
                log_event("push unreadable")

    async def forget_feed(self, feed: str) -> None:
        await self.relay.forget(feed)

    async def forget_words(self, session_id: str) -> int:
        """Delete from the desk's topics what the person of ``session_id`` wrote to an operator
        or agreed to share, and each of their handoffs' feeds, for every ticket of theirs the
        desk remembers (open, or ended within a day: as long as the relay keeps its
        messages); how many messages of the desk's topics went. The
        fifty-sixth attack: after "erase", their sealed words stayed a day in the service's
        stream, read by anyone with the store's keys."""
        record, _version = await self._read()
        tickets: dict[str, set[str]] = {}
        for name, ticket in record.tickets.items():
            if ticket.session == session_id:
                tickets.setdefault(ticket.service, set()).add(name)
        removed = 0
        for service, theirs in tickets.items():
            for name in theirs:
                # Each handoff's own feed too: one closed by an operator kept its words a day
                # after the erase (the fifty-seventh attack).
                await self.relay.forget(self.feed(session_id, name))
            topic = self.topic(service)
            doomed = []
            for message in await self.relay.entries(topic):
                try:
                    event = decode_desk_event(message.data)
                except WireError:
                    continue
                if isinstance(event, PersonWrote | ConversationShared) and event.ticket in theirs:
                    doomed.append(message.id)
            await self.relay.remove(topic, doomed)
            removed += len(doomed)
        return removed

    # --- time ---------------------------------------------------------------------------------------

    async def tick_once(self, sessions: HandoffSessions) -> int:
        """Tick the open handoffs of ``sessions`` that are due (``LOOK_AGAIN_SECONDS``);
        return how many were looked at. A ticket whose session is gone (expired) or has
        moved on is dropped, and its operators told."""
        record, _version = await self._read()
        now = self.clock()
        ticking = _TICKING.set(_View(record))
        looked = 0
        try:
            for ticket, found in list(record.tickets.items()):
                if found.status is HandoffStatus.ENDED:
                    self._looks.pop(ticket, None)
                    continue
                seen = (found.status, found.requested_at, found.urgency)
                look = self._looks.get(ticket)
                if look is not None and look.seen == seen and now < look.due:
                    continue
                looked += 1
                step = await sessions.apply_handoff(found.session, Tick())
                if step is None:
                    await self.changed(ticket, None)
                    await self.announce(
                        found.service,
                        TicketChanged(ticket, TicketChange.EXPIRED, found.urgency, ()),
                    )
                elif step.state.ticket != ticket or not step.state.active:
                    await self.changed(ticket, None)
                else:
                    due = tick_due(step.state, self.timings)
                    again = now + LOOK_AGAIN_SECONDS
                    self._looks[ticket] = _Look(seen, again if due is None else min(due, again))
        finally:
            _TICKING.reset(ticking)
        for gone in self._looks.keys() - record.tickets.keys():
            del self._looks[gone]
        return looked

    async def run(self, sessions: HandoffSessions, stop: asyncio.Event) -> None:
        """Tick every ``tick_seconds`` until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.tick_once(sessions)
            except StoreUnavailable as error:
                log_event("handoff tick failed", error=type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.config.tick_seconds)


class ServiceDesk:
    """The desk as one service's operator channel sees it."""

    def __init__(
        self, desk: HandoffDesk, service: ServiceSettings, sessions: HandoffSessions
    ) -> None:
        self.desk = desk
        self.sessions = sessions
        self.service = service
        self.name = service.name
        self.memory = ChannelMemory(desk.store, f"{MEMORY_PREFIX}{service.name}:")

    def events(self, after: str = START) -> AsyncIterator[tuple[str, DeskEvent]]:
        return self.desk.events(self.name, after)

    @property
    def program(self) -> LoadedProgram:
        """The program being served (its locales, and the catalog a channel renders its own
        texts with), as it is now: after a reload, the new one."""
        return self.sessions.loaded

    async def claim(self, ticket: str, operator: Operator) -> Outcome:
        outcome = await self._act(ticket, Claimed(ticket, operator.name, operator.ref))
        if outcome in (Outcome.APPLIED, Outcome.DUPLICATE):
            await self.desk.on_duty(self.name, operator.ref, True)
        return outcome

    async def write(self, ticket: str, operator: Operator, text: str, key: str) -> Outcome:
        """Pass ``text`` on to the person; ``key`` names the message, so that the same message
        delivered twice reaches the person once."""
        return await self._act(ticket, OperatorSaid(ticket, operator.ref, key), text)

    async def close(self, ticket: str, operator: Operator, return_to: str | None = None) -> Outcome:
        """Close; the program resumes at ``return_to`` (a flow, or ``flow.node``) or where the
        person was."""
        place = None
        if return_to:
            place = self.sessions.place(return_to)
            if place is None:
                return Outcome.BAD_TARGET
        return await self._act(ticket, Closed(ticket, operator.ref, place))

    async def transfer(self, ticket: str, operator: Operator, to: Operator | None) -> Outcome:
        """Pass the conversation to a colleague, or back to the queue (``to`` None)."""
        event = Transferred(ticket, operator.ref, to.name if to else None, to.ref if to else None)
        return await self._act(ticket, event)

    async def duty(self, operator_ref: str, on: bool) -> None:
        await self.desk.on_duty(self.name, operator_ref, on)

    async def on_duty_count(self) -> int:
        return await self.desk.on_duty_count(self.name)

    async def queue(self) -> list[str]:
        return await self.desk.queue(self.name)

    async def _act(self, ticket: str, event: HandoffEvent, words: str | None = None) -> Outcome:
        session = await self.desk.session_of(ticket, self.name)
        if session is None:
            return Outcome.UNKNOWN
        step = await self.sessions.apply_handoff(session, event, words)
        if step is None:
            return Outcome.UNKNOWN
        duplicate = next((o for o in step.outputs if isinstance(o, Duplicate)), None)
        if duplicate is None:
            return Outcome.APPLIED
        refusals = {
            Unchanged.NOT_YOURS: Outcome.NOT_YOURS,
            Unchanged.NOT_CLAIMED: Outcome.NOT_CLAIMED,
        }
        return refusals.get(duplicate.why, Outcome.DUPLICATE)
