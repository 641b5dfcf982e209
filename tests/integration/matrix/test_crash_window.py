"""The connector stopped dead between the runtime saving a turn and the ledger recording its
reply (a test hook where a real crash hits about one time in a thousand): after a restart the
person gets that reply, once, and the bot never leaves their room because of the crash."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from redirection_bot.store.memory import MemoryStore
from redirection_bot.turn.actions import RasaActionRunner
from redirection_bot.turn.runtime import Runtime
from redirection_bot_connectors.matrix.ledger import Ledger
from tests.fixtures.synapse import SynapseServer
from tests.integration.matrix.conftest import InProcessBot, StartBot
from tests.integration.matrix.people import Person

pytestmark = [pytest.mark.matrix, pytest.mark.slow]


class Killed(BaseException):
    """The process dies here."""


async def killed_after_saving(
    bot: InProcessBot, person: Person, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``person`` says ``text``; the connector dies once the runtime has saved that turn,
    before its reply is recorded; then it starts again over the same state folder."""

    async def dies(*args: Any, **kwargs: Any) -> None:
        raise Killed

    monkeypatch.setattr(Ledger, "record", dies)
    await person.say(text)
    with pytest.raises(Killed):
        await bot.wait()
    monkeypatch.undo()


async def test_the_reply_of_a_turn_saved_just_before_a_crash_arrives_once(
    synapse: SynapseServer,
    start_bot: StartBot,
    people: Callable[[SynapseServer], Person],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot = await start_bot(synapse)
    person = people(synapse)
    await person.open_chat(bot.user_id)
    await person.replies(1)
    await person.answer_to("2")
    await person.answer_to("7")

    await killed_after_saving(bot, person, "for my family", monkeypatch)
    await person.pump(500)
    assert len(person.received) == 3  # the reply was lost with the process
    bot.start_connector()

    received = await person.replies(5)
    plan = received[3]
    assert plan.body.startswith("My plan")
    assert "My reasons: for my family" in plan.body
    assert plan.body.endswith("That is the end of this module.")
    assert received[4].body == "my-plan.txt"
    await person.pump(2000)  # nothing more comes: no repeat, no second copy
    assert len(person.received) == 5
    bot.check_alive()


async def test_a_restart_that_lost_the_conversation_never_leaves_the_room(
    synapse: SynapseServer,
    start_bot: StartBot,
    people: Callable[[SynapseServer], Person],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot = await start_bot(synapse)
    person = people(synapse)
    await person.open_chat(bot.user_id, encrypted=True)
    await person.replies(1)
    await person.answer_to("2")

    await killed_after_saving(bot, person, "7", monkeypatch)
    # Restarted with the memory store: every conversation is gone, the ledger remains.
    bot.runtime = Runtime(bot.loaded, MemoryStore(), RasaActionRunner(bot.loaded))
    bot.start_connector()

    answer = (await person.replies(3))[2]
    assert answer.body.startswith("Hello, and welcome.")  # a new conversation, in the room
    assert "erased" not in answer.body
    assert (await person.answer_to("2")).body.startswith("From 0 to 10")
    assert person.bot_membership == "join"
    bot.check_alive()
