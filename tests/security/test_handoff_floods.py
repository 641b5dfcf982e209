"""Floods of "talk to a person" (issue 18, the fifty-sixth attack).

One client sending 100 REST requests "I want to talk to a person" from new senders took every
pooled Redis connection at an instance (each open handoff's listener held one in a blocking
read): from then on every handoff request at that instance failed with 503, a person in crisis
who answered "I'm in danger" included, whose turn (and its emergency advice) was lost; each
refused request still left a ticket in the shared queue that operators were never sent.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from redirection_bot.engine import Waiting
from redirection_bot.engine.events import ChoicePicked, Text
from redirection_bot.handoff.desk import DESK_KEY, Operator
from redirection_bot.handoff.machine import HandoffKeys
from redirection_bot.handoff.wire import TicketOpened
from redirection_bot.operations.config import StoreSettings
from redirection_bot.operations.crypto import new_key_text
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store import StoredSession, StoreUnavailable
from redirection_bot.store.factory import open_relay, open_store
from redirection_bot.store.memory import MemoryStore
from redirection_bot.store.relay import MemoryRelay
from tests.fixtures.handoff import Clock, connected, helpline
from tests.fixtures.redis import RedisServer
from tests.integration.handoff.conftest import handoff_settings, running
from tests.security.conftest import WEBHOOK

ANNA = Operator("@anna:helpline.example", "Anna")
CONNECTIONS = 12
"""The instance's Redis connections: far fewer than the flood's requests."""
FLOOD = 110
"""Over redis-py's default pool of 100, which the relay used."""
PEOPLE = 150
"""People asking for a person at the same moment."""


def sender() -> str:
    return uuid.uuid4().hex


@pytest.mark.redis
async def test_a_flood_of_requests_for_a_person_leaves_handoffs_and_the_crisis_path_working(
    shipped: LoadedProgram, redis_server: RedisServer
) -> None:
    store = StoreSettings(
        backend="redis",
        url=redis_server.url,
        prefix=f"flood-{uuid.uuid4().hex[:8]}:",
        keys=(new_key_text(),),
        redis_connections=CONNECTIONS,
        redis_wait_seconds=3.0,
    )
    settings = handoff_settings("test", {})
    async with running(shipped, settings, open_store(store), open_relay(store)) as setup:
        operators = await setup.operators()
        await operators.service.duty(ANNA.ref, True)
        http = setup.client

        async def ask(message: str, who: str | None = None) -> tuple[int, Any]:
            body = {"sender": who or sender(), "message": message}
            response = await http.post(WEBHOOK, json=body)
            return response.status, await response.json()

        flood = [await ask("I want to talk to a person") for _ in range(FLOOD)]
        assert {status for status, _answer in flood} == {200}

        # Then a person in crisis, over REST, answers that they are in danger now.
        person = sender()
        status, answer = await ask("i want to kill myself tonight", person)
        assert status == 200, answer
        danger = next(
            button["payload"]
            for message in answer
            for button in message.get("buttons", [])
            if "danger" in button["title"].lower()
        )
        status, answer = await ask(danger, person)
        assert status == 200, answer
        said = " ".join(message.get("text", "") for message in answer)
        assert "112" in said or "911" in said, said

        # Every request that was answered is a ticket the operators were told of.
        await asyncio.sleep(0.5)
        opened = await operators.told(TicketOpened, FLOOD + 1)
        queue = await setup.desk.queue("helpline")
        assert len(opened) == len(queue) == FLOOD + 1
        await operators.stop()


class _RelayDown(MemoryRelay):
    """A relay that cannot be written to (Redis failing between a turn's save and its
    ticket's announcement)."""

    async def publish(self, topic: str, data: bytes) -> str:
        raise StoreUnavailable("the relay cannot be reached")


async def test_a_crisis_turn_whose_ticket_cannot_be_announced_still_gives_its_advice(
    shipped: LoadedProgram,
) -> None:
    async with running(shipped, handoff_settings("test", {}), relay=_RelayDown()) as setup:
        await setup.desk.on_duty("helpline", ANNA.ref, True)
        person = sender()

        async def say(message: str) -> tuple[int, Any]:
            body = {"sender": person, "message": message}
            response = await setup.client.post(WEBHOOK, json=body)
            return response.status, await response.json()

        status, answer = await say("i want to kill myself tonight")
        danger = next(
            button["payload"]
            for message in answer
            for button in message.get("buttons", [])
            if "danger" in button["title"].lower()
        )
        status, answer = await say(danger)
        assert status == 200, answer
        said = " ".join(message.get("text", "") for message in answer)
        assert "112" in said or "911" in said, said


class _CountingStore(MemoryStore):
    """Counts the reads of the desk's shared record."""

    desk_reads = 0

    async def get(self, session_id: str) -> StoredSession | None:
        if session_id == DESK_KEY:
            self.desk_reads += 1
        return await super().get(session_id)


async def test_open_requests_by_the_hundred_cost_a_tick_little(shipped: LoadedProgram) -> None:
    """2,000 open requests froze the memory-store web chat 36 s in every 42: each tick read
    and sorted the whole shared record once for every open request, and looked at every
    request every few seconds. A tick now reads the record once, and looks at a request only
    when its next notice or fallback is due (or at least once a minute)."""
    store = _CountingStore()
    clock = Clock()
    async with connected(shipped, store=store, clock=clock) as line:
        await line.service.duty(ANNA.ref, True)
        for _ in range(150):
            await line.runtime.handle(sender(), Text("I want to talk to a person"))
        assert len(await line.desk.queue("helpline")) == 150

        store.desk_reads = 0
        assert await line.desk.tick_once(line.runtime) == 150
        assert store.desk_reads == 1
        clock.advance(5)
        assert await line.desk.tick_once(line.runtime) == 0  # nothing due yet
        clock.advance(130)  # past the notice interval: each gets its "still waiting" notice
        assert await line.desk.tick_once(line.runtime) == 150


async def test_a_full_line_is_said_with_the_services_and_queues_nothing_more(
    shipped: LoadedProgram,
) -> None:
    """One client's requests by the thousand made the line thousands long ("you are number
    1,984"), each costing every later request more: a service's line takes ``max_waiting``."""
    async with connected(shipped, settings=helpline(max_waiting=3)) as line:
        await line.service.duty(ANNA.ref, True)
        for _ in range(3):
            await line.runtime.handle(sender(), Text("I want to talk to a person"))
        reply = await line.runtime.handle(sender(), Text("I want to talk to a person"))
        said = [m.key for m in reply.messages]
        assert HandoffKeys.LINE_FULL in said
        assert "services.emergency_elsewhere" in said[said.index(HandoffKeys.LINE_FULL) :]
        assert reply.handoff is None or not reply.handoff.active
        assert len(await line.desk.queue("helpline")) == 3


@pytest.mark.redis
async def test_people_asking_for_a_person_at_once_each_get_a_ticket(
    shipped: LoadedProgram, redis_server: RedisServer
) -> None:
    """The fifty-seventh attack: with 30 to 100 people asking at once, many were told "you are
    number N in line" with no ticket behind it (the one shared record ran out of retries)."""
    store = StoreSettings(
        backend="redis",
        url=redis_server.url,
        prefix=f"once-{uuid.uuid4().hex[:8]}:",
        keys=(new_key_text(),),
    )
    settings = handoff_settings("test", {})
    async with running(shipped, settings, open_store(store), open_relay(store)) as setup:
        await setup.desk.on_duty("helpline", ANNA.ref, True)

        async def ask() -> int:
            body = {"sender": sender(), "message": "I want to talk to a person"}
            response = await setup.client.post(WEBHOOK, json=body)
            await response.read()
            return response.status

        statuses = await asyncio.gather(*(ask() for _ in range(PEOPLE)))
        assert statuses == [200] * PEOPLE
        assert len(await setup.desk.queue("helpline")) == PEOPLE


class _DeskUnwritable(MemoryStore):
    """A store that takes every write but the desk's (Redis failing at that moment)."""

    failing = False

    async def save(self, *args: Any, **kwargs: Any) -> Any:
        if args and args[0] == DESK_KEY and self.failing:
            raise StoreUnavailable("the desk cannot be written")
        return await super().save(*args, **kwargs)


async def test_a_request_whose_ticket_cannot_be_written_never_says_you_are_in_line(
    shipped: LoadedProgram,
) -> None:
    """The fifty-seventh attack: the ticket written after the session, a failed write left a
    person told "you are number 2 in line" with no ticket, no notice, no fallback, ever. The
    ticket is written first: its failure fails the turn (its notice has the emergency number),
    and the person is not left waiting."""
    store = _DeskUnwritable()
    async with connected(shipped, store=store) as line:
        await line.service.duty(ANNA.ref, True)
        person = sender()
        await line.runtime.handle(person, Text("hello"))
        store.failing = True
        with pytest.raises(StoreUnavailable):
            await line.runtime.handle(person, Text("I want to talk to a person"))
        store.failing = False
        state = await line.runtime.state(person)
        assert state is not None and state.waiting is not Waiting.HANDOFF
        reply = await line.runtime.handle(person, Text("I want to talk to a person"))
        assert reply.handoff is not None and reply.handoff.active
        assert len(await line.desk.queue("helpline")) == 1


async def test_a_line_full_of_ordinary_requests_still_takes_a_crisis(
    shipped: LoadedProgram,
) -> None:
    """The fifty-seventh attack: 200 scripted requests filled the line, and a person who wrote
    of ending their life was told it was full. An urgent request has as many places again."""
    async with connected(shipped, settings=helpline(max_waiting=3)) as line:
        await line.service.duty(ANNA.ref, True)
        for _ in range(3):
            await line.runtime.handle(sender(), Text("I want to talk to a person"))
        person = sender()
        await line.runtime.handle(person, Text("i want to kill myself tonight"))
        reply = await line.runtime.handle(person, ChoicePicked("in_danger"))
        assert HandoffKeys.LINE_FULL not in [m.key for m in reply.messages]
        assert reply.handoff is not None and reply.handoff.active
        assert len(await line.desk.queue("helpline")) == 4
