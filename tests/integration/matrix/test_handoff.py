"""A person in a direct Matrix chat (a real Synapse, a real matrix-nio client) asks for a person
from the helpline; the test plays the operator through the desk's service, as an operator
channel does. What the handoff shows between the person's turns reaches their room: the
operator joining, their words (labelled as the support team's, escaped), the notices while
waiting, the fallback on time, and the program taking over again; the handoff's questions
are answered by typing; the program says nothing while the operator has the conversation;
and a connector restarted mid-handoff goes on after the last message it sent."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from redirection_bot.handoff.desk import Operator, Outcome
from redirection_bot.handoff.wire import PersonWrote, TicketChanged, TicketOpened
from redirection_bot.operations.config import HandoffSettings
from redirection_bot.program.load import LoadedProgram
from tests.fixtures.handoff import Helpline, helpline
from tests.fixtures.synapse import SynapseServer
from tests.helpers import async_wait_until
from tests.integration.matrix.conftest import InProcessBot, StartBot
from tests.integration.matrix.people import Person, Received

pytestmark = [pytest.mark.matrix, pytest.mark.slow]

ANNA = Operator("@anna:helpline.example", "Anna")


def text(bot: InProcessBot, key: str, **params: str) -> str:
    return bot.loaded.catalog.render(key, "en", params)


async def with_anna_on_duty(
    start_bot: StartBot, server: SynapseServer, loaded: LoadedProgram, settings: HandoffSettings
) -> tuple[InProcessBot, Helpline]:
    """The bot with a helpline attached (the desk's clock running in real time), Anna on
    duty, and someone reading what the helpline's operators are told."""
    bot = await start_bot(server, loaded=loaded, handoff=settings)
    assert bot.runtime is not None and bot.desk is not None
    service = bot.desk.service("helpline", bot.runtime)
    line = Helpline(bot.runtime, bot.desk, lambda: 0.0, service)  # type: ignore[arg-type]
    await line.start_reading()
    await line.service.duty(ANNA.ref, True)
    return bot, line


async def ask_for_a_person(bot: InProcessBot, line: Helpline, person: Person) -> Received:
    """From the greeting: on to the program, then `help` and "Talk to a person"; the answer,
    once the operators have the ticket."""
    await person.open_chat(bot.user_id, encrypted=True)
    await person.replies(1)
    await person.answer_to("1")
    await person.answer_to("help")
    asked = await person.answer_to(text(bot, "support.ask_person"))
    await line.told(TicketOpened)
    return asked


def ticket(line: Helpline) -> str:
    (opened,) = [event for event in line.seen if isinstance(event, TicketOpened)]
    return opened.ticket


async def next_from_bot(person: Person, timeout: float = 30.0) -> Received:
    return (await person.replies(len(person.received) + 1, timeout))[-1]


async def let_go(bot: InProcessBot, person: Person) -> None:
    """Wait until the bot no longer follows the handoff in the person's room."""
    assert bot.connector is not None and bot.connector.bot is not None
    matrix = bot.connector.bot

    async def stopped_following() -> bool:
        return not matrix.feeds.following(matrix.room_key(person.room_id))

    await async_wait_until(stopped_following, 10, "the feed to be let go")


async def test_a_person_in_matrix_talks_with_an_operator_and_the_program_resumes(
    synapse: SynapseServer,
    shipped: LoadedProgram,
    start_bot: StartBot,
    people: Callable[[SynapseServer], Person],
) -> None:
    bot, line = await with_anna_on_duty(start_bot, synapse, shipped, helpline())
    person = people(synapse)
    asked = await ask_for_a_person(bot, line, person)
    assert text(bot, "handoff.available_now") in asked.body

    assert await line.service.claim(ticket(line), ANNA) is Outcome.APPLIED
    joined = await next_from_bot(person)
    assert text(bot, "handoff.operator_joined", operator="Anna") in joined.body
    assert text(bot, "handoff.ask_to_share") in joined.body
    assert "2. " + text(bot, "handoff.choice_no_share") in joined.body
    # The handoff's own question is answered by its number, as the program's are.
    end = text(bot, "handoff.choice_end")
    assert (await person.answer_to("2")).body == f"{text(bot, 'handoff.not_shared')}\n1. {end}"
    changes = await line.told(TicketChanged, 2)
    assert [c.change for c in changes if isinstance(c, TicketChanged)] == [
        "claimed",
        "not_shared",
    ]

    words = "I'm <b>here</b> & listening. Take your time."
    assert await line.service.write(ticket(line), ANNA, words, "m1") is Outcome.APPLIED
    said = await next_from_bot(person)
    label = text(bot, "handoff.from_operator", operator="Anna")
    assert said.body == f"{label}\n{words}"  # labelled as the support team's
    assert said.formatted_body == (
        f"<p><strong>{label}</strong><br>"
        "I&#x27;m &lt;b&gt;here&lt;/b&gt; &amp; listening. Take your time.</p>"
    )

    before = len(person.received)
    await person.say("thank you, I was not sure anyone would answer")
    (wrote,) = await line.told(PersonWrote)
    assert isinstance(wrote, PersonWrote)
    assert wrote.text == "thank you, I was not sure anyone would answer"

    assert await line.service.close(ticket(line), ANNA) is Outcome.APPLIED
    back = await next_from_bot(person)
    # The program said nothing to the person's words: the next message is the close.
    assert person.received.index(back) == before
    assert text(bot, "handoff.operator_left") in back.body
    assert text(bot, "engine.handoff_ended") in back.body

    await let_go(bot, person)
    # The program has the conversation again: the person's words are its to answer.
    assert (await person.answer_to("help")).body.startswith(text(bot, "support.intro")[:30])
    assert len(await line.told(PersonWrote)) == 1
    bot.check_alive()
    await line.stop()


async def test_nobody_claims_and_the_fallback_reaches_the_room_on_time(
    synapse: SynapseServer,
    shipped: LoadedProgram,
    start_bot: StartBot,
    people: Callable[[SynapseServer], Person],
) -> None:
    timeout = 3.0
    settings = helpline(claim_timeout_seconds=timeout, notice_interval_seconds=1.0)
    bot, line = await with_anna_on_duty(start_bot, synapse, shipped, settings)
    person = people(synapse)
    asked = await ask_for_a_person(bot, line, person)
    asked_at = time.monotonic()
    assert text(bot, "handoff.available_now") in asked.body
    fallback_text = text(bot, "handoff.fallback")
    while fallback_text not in (fallback := await next_from_bot(person, timeout + 15)).body:
        # The wait is never silent: a notice at least every second until then.
        assert text(bot, "handoff.queue_position", position="1") in fallback.body
    waited = time.monotonic() - asked_at
    assert timeout - 0.5 <= waited <= timeout + 15
    assert text(bot, "handoff.safety_plan") in fallback.body
    assert text(bot, "handoff.keep_or_go") in fallback.body
    assert fallback.body.endswith("2. " + text(bot, "handoff.choice_back"))

    # "Stop waiting, back to the program", typed in its own words.
    withdrawn = await person.answer_to(text(bot, "handoff.choice_back").upper())
    assert text(bot, "handoff.withdrawn") in withdrawn.body
    changes = await line.told(TicketChanged, 2)
    assert [c.change for c in changes if isinstance(c, TicketChanged)][-1] == "withdrawn"

    await let_go(bot, person)
    bot.check_alive()
    await line.stop()


async def test_a_connector_restarted_mid_handoff_goes_on_after_the_last_message_it_sent(
    synapse: SynapseServer,
    shipped: LoadedProgram,
    start_bot: StartBot,
    people: Callable[[SynapseServer], Person],
) -> None:
    bot, line = await with_anna_on_duty(start_bot, synapse, shipped, helpline())
    person = people(synapse)
    await ask_for_a_person(bot, line, person)
    assert await line.service.claim(ticket(line), ANNA) is Outcome.APPLIED
    joined = await next_from_bot(person)
    assert text(bot, "handoff.operator_joined", operator="Anna") in joined.body
    count = len(person.received)

    await bot.stop_connector()
    first = "Are you still there? I'm here whenever you are ready."
    assert await line.service.write(ticket(line), ANNA, first, "m1") is Outcome.APPLIED
    bot.start_connector()
    assert (await next_from_bot(person, 60)).body.endswith(first)
    # Again, with nothing new: nothing is sent twice.
    await bot.stop_connector()
    bot.start_connector()
    second = "Take your time."
    assert await line.service.write(ticket(line), ANNA, second, "m2") is Outcome.APPLIED
    assert (await next_from_bot(person, 60)).body.endswith(second)
    assert [r.body.rsplit("\n", 1)[-1] for r in person.received[count:]] == [first, second]

    # "End the chat with the person", offered before the restarts, still ends it by its words.
    ended = await person.answer_to(text(bot, "handoff.choice_end"))
    assert text(bot, "handoff.ended_by_person") in ended.body
    assert text(bot, "engine.handoff_ended") in ended.body
    assert not await line.told(PersonWrote, 0)

    await bot.stop()
    state_dir = Path(bot.options.state_dir)
    data = b"".join(f.read_bytes() for f in sorted(state_dir.glob("matrix.sqlite*")))
    assert data
    for kept_nowhere in (person.room_id, ticket(line), "Anna", first, second, "handoff:"):
        assert kept_nowhere.encode() not in data, kept_nowhere
    await line.stop()
