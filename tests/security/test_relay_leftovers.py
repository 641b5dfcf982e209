"""What the relay keeps of a person after "erase" (issue 18, the fifty-sixth attack).

A person's words to an operator go to the service's desk topic (a Redis stream shared by
every instance), sealed. After "Erase my conversation" or "Leave now" the topic of that
handoff went, but the words stayed in the desk's stream for a day, readable by anyone with
the store's keys: "erased" must mean erased there too, whether the operator is still with
the person or closed the conversation before.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from redirection_bot.dialogue.model import CommandName
from redirection_bot.engine.events import ChoicePicked, CommandGiven, Start, Text
from redirection_bot.handoff.desk import Operator, Outcome
from redirection_bot.handoff.machine import HandoffChoice
from redirection_bot.handoff.wire import (
    ConversationShared,
    PersonWrote,
    TicketOpened,
    decode_desk_event,
)
from redirection_bot.operations.config import StoreSettings
from redirection_bot.operations.crypto import new_key_text
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store.factory import open_relay
from redirection_bot.store.relay import MemoryRelay, Relay
from tests.fixtures.handoff import Helpline, connected

ANNA = Operator("@anna:helpline.example", "Anna")
SESSION = "web:leftovers"
WORDS = "i have not told anyone this before"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def relay(request: pytest.FixtureRequest) -> AsyncIterator[Relay]:
    if request.param == "memory":
        yield MemoryRelay()
        return
    server = request.getfixturevalue("redis_server")
    settings = StoreSettings(
        "redis", url=server.url, prefix=f"left-{uuid.uuid4().hex[:8]}:", keys=(new_key_text(),)
    )
    made = open_relay(settings)
    yield made
    await made.close()


async def with_anna(line: Helpline) -> str:
    """The person asks for a person, Anna claims and writes, the person shares and writes:
    the ticket."""
    runtime = line.runtime
    await line.service.duty(ANNA.ref, True)
    await runtime.handle(SESSION, Start())
    await runtime.handle(SESSION, ChoicePicked("go_on"))
    await runtime.handle(SESSION, CommandGiven(CommandName.HELP))
    await runtime.handle(SESSION, ChoicePicked("person"))
    (opened,) = await line.told(TicketOpened)
    assert isinstance(opened, TicketOpened)
    assert await line.service.claim(opened.ticket, ANNA) is Outcome.APPLIED
    assert await line.service.write(opened.ticket, ANNA, "I'm here.", "m1") is Outcome.APPLIED
    await runtime.handle(SESSION, ChoicePicked(HandoffChoice.SHARE.choice_id))
    await runtime.handle(SESSION, Text(WORDS))
    await line.told(PersonWrote)
    return opened.ticket


async def words_kept(line: Helpline) -> list[object]:
    entries = await line.desk.relay.entries(line.desk.topic("helpline"))
    events = [decode_desk_event(entry.data) for entry in entries]
    return [e for e in events if isinstance(e, PersonWrote | ConversationShared)]


@pytest.mark.parametrize("ending", ["erase", "leave now", "erase after the close"])
async def test_an_erased_persons_words_leave_the_desks_topic(
    shipped: LoadedProgram, relay: Relay, ending: str
) -> None:
    async with connected(shipped, relay=relay) as line:
        ticket = await with_anna(line)
        assert len(await words_kept(line)) == 2  # what they shared, and what they wrote
        if ending == "erase after the close":
            assert await line.service.close(ticket, ANNA) is Outcome.APPLIED
            ending = "erase"
        if ending == "erase":
            await line.runtime.erase(SESSION)
        else:
            await line.runtime.handle(SESSION, Text("leave now"))
        assert await line.runtime.state(SESSION) is None
        assert await words_kept(line) == []
        feed = line.desk.feed(SESSION, ticket)  # what the operator wrote to the person
        assert await line.desk.relay.entries(feed) == []
