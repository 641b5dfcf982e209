"""Which rooms the bot talks in: direct one-to-one chats only, and never about the past."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.fixtures.synapse import SynapseServer
from tests.integration.matrix.conftest import StartBot
from tests.integration.matrix.people import Person

pytestmark = pytest.mark.matrix

GROUP_REFUSED = "this chat has other people in it, so I am leaving it"
GROUP_LEFT_FI = "Tähän keskusteluun on tullut mukaan joku muu"


async def test_an_invite_to_a_room_that_is_not_direct_is_refused(
    synapse: SynapseServer, start_bot: StartBot, people: Callable[[SynapseServer], Person]
) -> None:
    bot = await start_bot(synapse)
    person = people(synapse)
    await person.open_chat(bot.user_id, direct=False)
    await person.wait_for_bot_to_leave()
    assert person.received == []


async def test_a_group_room_is_refused_with_a_message(
    synapse: SynapseServer, start_bot: StartBot, people: Callable[[SynapseServer], Person]
) -> None:
    bot = await start_bot(synapse)
    person, friend = people(synapse), people(synapse)
    await person.open_chat(bot.user_id, others=(friend.user_id,))
    await person.wait_for_bot_to_leave()
    assert len(person.received) == 1
    assert GROUP_REFUSED in person.received[0].body


async def test_a_chat_that_becomes_a_group_is_left_in_the_persons_language_and_erased(
    synapse: SynapseServer, start_bot: StartBot, people: Callable[[SynapseServer], Person]
) -> None:
    bot = await start_bot(synapse)
    person, friend = people(synapse), people(synapse)
    await person.open_chat(bot.user_id, encrypted=True)
    await person.replies(1)
    languages = await person.answer_to("language")
    assert "suomi" in languages.body
    assert "Missä olet nyt?" in (await person.answer_to("suomi")).body
    assert (await person.answer_to("2")).body.startswith("Asteikolla 0–10")
    assert bot.runtime is not None and bot.connector is not None and bot.connector.bot
    session = bot.connector.bot.room_key(person.room_id)
    assert await bot.runtime.state(session) is not None

    await person.invite(friend.user_id)
    await person.wait_for_bot_to_leave()
    assert GROUP_LEFT_FI in person.received[-1].body
    assert await bot.runtime.state(session) is None


async def test_messages_from_before_the_bot_joined_are_not_answered(
    synapse: SynapseServer, start_bot: StartBot, people: Callable[[SynapseServer], Person]
) -> None:
    bot = await start_bot(synapse, direct_only=False)
    person = people(synapse)
    await person.open_chat(bot.user_id, direct=False, invite_bot=False)
    await person.say("2")
    await person.say("something I wrote before asking for help")
    await person.invite(bot.user_id)
    greeting = (await person.replies(1))[0]
    assert greeting.body.startswith("Hello, and welcome.")
    # The next answer is to what is said now: the "2" above was never taken as a choice.
    assert (await person.answer_to("1")).body.startswith("From 0 to 10")
    assert len(person.received) == 2


async def test_leave_now_erases_the_conversation_and_the_bot_leaves(
    synapse: SynapseServer, start_bot: StartBot, people: Callable[[SynapseServer], Person]
) -> None:
    bot = await start_bot(synapse)
    person = people(synapse)
    await person.open_chat(bot.user_id)
    await person.replies(1)
    await person.answer_to("1")
    assert bot.connector is not None and bot.connector.bot is not None and bot.runtime
    session = bot.connector.bot.room_key(person.room_id)
    assert await bot.runtime.state(session) is not None

    # One word at a question never erases: it says how to leave, and asks again.
    confirm = await person.answer_to("stop")
    assert "To leave and erase" in confirm.body
    goodbye = await person.answer_to("/stop")
    assert "I have erased our conversation on my side" in goodbye.body
    await person.wait_for_bot_to_leave()
    assert await bot.runtime.state(session) is None


async def test_malformed_events_and_other_messages_do_not_stop_the_bot(
    synapse: SynapseServer, start_bot: StartBot, people: Callable[[SynapseServer], Person]
) -> None:
    bot = await start_bot(synapse)
    person = people(synapse)
    # Encrypted, so that the homeserver cannot check what the bot receives.
    await person.open_chat(bot.user_id, encrypted=True)
    await person.replies(1)
    await person.send({"body": "not a message type"}, event_type="org.example.custom")
    await person.send({"msgtype": "m.notice", "body": "a notice, as bots send"})
    for unreadable in (
        {"msgtype": "m.text", "body": 42},
        {"msgtype": "m.text"},
        {"nothing": "useful"},
        {"msgtype": "m.image", "body": "photo.png", "url": "mxc://localhost/nothing"},
        {"msgtype": "m.location", "body": "somewhere", "geo_uri": "geo:0,0"},
    ):
        answer = await person.answer_to_content(unreadable)
        assert answer.body == "I can only read typed messages. Please type your answer."
    # Readable words with a broken relation are still the person's words.
    odd = await person.answer_to_content(
        {"msgtype": "m.text", "body": "hello?", "m.relates_to": "nonsense"}
    )
    assert odd.body.startswith("Sorry, I did not understand.")
    assert (await person.answer_to("1")).body.startswith("From 0 to 10")
    assert len(person.received) == 8
    bot.check_alive()
