"""Following a handoff in a Matrix room, with a fake homeserver client, the real ledger and a
helpline whose clock the test moves: the moments a real Synapse rarely shows (a turn ending
the handoff just as something was pushed, "leave now" with a follower running), the rules
for answering the handoff's questions by typing, and the operator's label escaped.

End to end with a real Synapse: tests/integration/matrix/test_handoff.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from redirection_bot.handoff.desk import Operator, Outcome
from redirection_bot.handoff.machine import HandoffKeys
from redirection_bot.handoff.wire import Push, TicketOpened
from redirection_bot.operations.crypto import Keyring
from redirection_bot.program.load import LoadedProgram
from redirection_bot.program.render import ShownChoice, ShownMessage, ShownOperator
from redirection_bot.turn.runtime import HandoffView
from redirection_bot_connectors.matrix.bot import MatrixBot
from redirection_bot_connectors.matrix.content import turn_content
from redirection_bot_connectors.matrix.handoff import offer_in, picked
from redirection_bot_connectors.matrix.ledger import Ledger, Offer
from tests.fixtures.handoff import Helpline, connected, helpline
from tests.unit.matrix.test_bot import ROOM, FakeClient, make_bot, room, settled, started, texts

ANNA = Operator("@anna:helpline.example", "Anna")


@pytest.fixture
async def line(shipped: LoadedProgram) -> AsyncIterator[Helpline]:
    async with connected(shipped, helpline()) as found:
        yield found


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[Ledger]:
    found = Ledger(tmp_path / "matrix.sqlite", Keyring.generate())
    yield found
    await found.close()


@pytest.fixture
def client() -> FakeClient:
    return FakeClient()


@pytest.fixture
async def bot(
    line: Helpline, client: FakeClient, ledger: Ledger, tmp_path: Path
) -> AsyncIterator[MatrixBot]:
    made = make_bot(line.runtime, client, ledger, tmp_path)
    yield made
    await made.close()


def text(line: Helpline, key: str, **params: str) -> str:
    return line.runtime.loaded.catalog.render(key, "en", params)


async def waiting(bot: MatrixBot, client: FakeClient, line: Helpline) -> str:
    """The person asks for a person; the ticket's name."""
    await line.service.duty(ANNA.ref, True)
    await started(bot)
    ask = text(line, "support.ask_person")
    await bot.handle_batch(room(*texts(("$1", "1"), ("$2", "help"), ("$3", ask))))
    await settled(bot)
    assert text(line, "handoff.available_now") in client.bodies[-1]
    (opened,) = await line.told(TicketOpened)
    assert isinstance(opened, TicketOpened)
    return opened.ticket


async def sent(bot: MatrixBot, client: FakeClient, count: int) -> list[str]:
    deadline = time.monotonic() + 10
    while len(client.messages) < count:
        assert time.monotonic() < deadline, client.bodies
        await asyncio.sleep(0.01)
    await settled(bot)
    return client.bodies


async def test_what_was_pushed_before_the_person_ended_the_handoff_still_comes(
    bot: MatrixBot, client: FakeClient, line: Helpline, ledger: Ledger
) -> None:
    ticket = await waiting(bot, client, line)
    assert await line.service.claim(ticket, ANNA) is Outcome.APPLIED
    before = len(await sent(bot, client, 5))  # greeting, 3 answers, "Anna has joined"
    room_key = bot.room_key(ROOM)
    feed = line.desk.feed(room_key, ticket)
    # Pushed, and the turn that ends the handoff recorded, before the follower ran again.
    await line.desk.push(feed, Push((ShownOperator("Anna", "One last thing."),), True))
    await bot.feeds.after_turn(room_key, HandoffView(False, "bot", feed))
    bodies = await sent(bot, client, before + 1)
    assert bodies[-1].endswith("One last thing.")

    async def let_go() -> bool:
        return not bot.feeds.following(room_key) and not await ledger.followed(room_key)

    deadline = time.monotonic() + 10
    while not await let_go():
        assert time.monotonic() < deadline, "the follower did not stop"
        await asyncio.sleep(0.05)


async def test_leave_now_stops_following_at_once(
    bot: MatrixBot, client: FakeClient, line: Helpline, ledger: Ledger
) -> None:
    ticket = await waiting(bot, client, line)
    room_key = bot.room_key(ROOM)
    assert bot.feeds.following(room_key)
    await bot.handle_batch(room(*texts(("$4", "leave now"))))
    await settled(bot)
    assert not bot.feeds.following(room_key)
    assert await ledger.followed(room_key) == []
    assert client.left == [ROOM]
    # The operator's act reaches nobody: the conversation is gone.
    assert await line.service.claim(ticket, ANNA) is Outcome.UNKNOWN
    assert "has joined" not in client.bodies[-1]


async def test_a_restarted_bot_follows_after_the_last_push_it_queued(
    bot: MatrixBot, client: FakeClient, line: Helpline, ledger: Ledger, tmp_path: Path
) -> None:
    ticket = await waiting(bot, client, line)
    assert await line.service.claim(ticket, ANNA) is Outcome.APPLIED
    count = len(await sent(bot, client, 5))
    await bot.close()  # the process stops
    assert await line.service.write(ticket, ANNA, "Still here.", "m1") is Outcome.APPLIED

    restarted = make_bot(line.runtime, client, ledger, tmp_path)
    try:
        await restarted.resume()
        bodies = await sent(restarted, client, count + 1)
        assert bodies[-1].endswith("Still here.")
        assert len([txn for txn in client.attempts if txn]) == count + 1  # nothing again
    finally:
        await restarted.close()


def test_the_operators_name_and_words_are_escaped_under_their_label(line: Helpline) -> None:
    catalog = line.runtime.loaded.catalog

    def label(name: str) -> str:
        return catalog.render(HandoffKeys.FROM_OPERATOR, "en", {"operator": name})

    shown = (ShownOperator('<img src=x> "Ann"', "a <b>bold</b> & plain word"),)
    content = turn_content(shown, operator_label=label)
    assert content is not None
    assert content["body"] == '<img src=x> "Ann" (support team)\na <b>bold</b> & plain word'
    assert content["formatted_body"] == (
        "<p><strong>&lt;img src=x&gt; &quot;Ann&quot; (support team)</strong><br>"
        "a &lt;b&gt;bold&lt;/b&gt; &amp; plain word</p>"
    )
    # Without a label (the bot's own turns), an operator's words are not shown at all.
    assert turn_content(shown) is None


def test_the_handoffs_answers_are_picked_by_number_only_while_they_are_the_last_shown() -> None:
    keep, back = ShownChoice("handoff:keep", "Keep waiting"), ShownChoice("handoff:back", "Stop")
    asked = offer_in([ShownMessage("handoff.keep_or_go", "Your request stays open.", (keep, back))])
    assert asked == Offer((("handoff:keep", "Keep waiting"), ("handoff:back", "Stop")))
    assert picked(asked, "2") == "handoff:back"
    assert picked(asked, " KEEP waiting! ") == "handoff:keep"
    assert picked(asked, "3") is None and picked(asked, "keep") is None
    assert picked(asked, "\u200b2\u2060") == "handoff:back"  # invisible characters: none
    assert picked(asked, "Keep wai\u00adting") == "handoff:keep"  # read after admission
    later = Offer(asked.choices, numbered=False)
    assert picked(later, "1") is None  # a number written to an operator is the person's
    assert picked(later, "stop") == "handoff:back"
    program = ShownMessage("module.stage", "Where are you now?", (ShownChoice("stop", "Stop"),))
    assert offer_in([program]) == Offer()  # the program's question: its own answers
    assert offer_in([ShownOperator("Anna", "Hello")]) is None  # nothing asked: unchanged
