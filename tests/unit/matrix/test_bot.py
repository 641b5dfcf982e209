"""Exactly-once replies and room rules, with a fake homeserver client and the real ledger.

The tests with a real Synapse (tests/integration/matrix, tests/e2e/matrix) show the same
things end to end; these reach the moments a real crash rarely hits, such as dying between
the runtime saving a turn and the reply being recorded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from redirection_bot.operations.crypto import Keyring
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store import StoreUnavailable
from redirection_bot.store.memory import MemoryStore
from redirection_bot.turn.actions import RasaActionRunner
from redirection_bot.turn.runtime import Runtime
from redirection_bot_connectors.matrix.bot import MatrixBot
from redirection_bot_connectors.matrix.client import RateLimited, Refused, Unreachable
from redirection_bot_connectors.matrix.ledger import Ledger
from redirection_bot_connectors.matrix.settings import MatrixOptions
from redirection_bot_connectors.matrix.updates import (
    Invite,
    Item,
    OwnJoin,
    PersonText,
    RoomBatch,
    SyncBatch,
    Undecryptable,
)
from tests.integration.matrix.program import load_matrix_program

ROOM = "!room:example.org"


class FakeClient:
    """A homeserver that remembers transaction ids, as Synapse does."""

    user_id = "@helpbot:example.org"

    def __init__(self) -> None:
        self.messages: list[tuple[str, str, dict[str, Any]]] = []
        self.txns: set[str] = set()
        self.attempts: list[str] = []
        self.failures: list[Exception] = []
        self.joined: list[str] = []
        self.left: list[str] = []
        self.keys: dict[str, Item] = {}

    async def join(self, room_id: str) -> None:
        self.joined.append(room_id)

    async def leave(self, room_id: str) -> None:
        self.left.append(room_id)

    async def send(self, room_id: str, content: dict[str, Any], txn: str) -> str:
        self.attempts.append(txn)
        if self.failures:
            raise self.failures.pop(0)
        if txn not in self.txns:
            self.txns.add(txn)
            self.messages.append((room_id, txn, content))
        return f"${txn}"

    async def upload_text(self, room_id: str, filename: str, text: str) -> Any:
        return "mxc://example.org/plan", None, len(text)

    async def backfill(self, room_id: str, prev_batch: str, reached: Any) -> list[Item]:
        return []

    def decrypt(self, room_id: str, source: dict[str, Any]) -> Item | None:
        return self.keys.get(source["event_id"], Undecryptable(source["event_id"], source))

    async def request_key(self, room_id: str, source: dict[str, Any]) -> None:
        return None

    @property
    def bodies(self) -> list[str]:
        return [str(content.get("body")) for _, _, content in self.messages]


class Killed(BaseException):
    """The process dies here."""


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def loaded(tmp_path: Path) -> LoadedProgram:
    return load_matrix_program(tmp_path / "program")


@pytest.fixture
def runtime(loaded: LoadedProgram) -> Runtime:
    return Runtime(loaded, MemoryStore(), RasaActionRunner(loaded))


@pytest.fixture
def client() -> FakeClient:
    return FakeClient()


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[Ledger]:
    found = Ledger(tmp_path / "matrix.sqlite", Keyring.generate())
    yield found
    await found.close()


def settings(tmp_path: Path, **changes: Any) -> MatrixOptions:
    return MatrixOptions(
        **{
            "homeserver": "https://example.org",
            "user_id": FakeClient.user_id,
            "access_token": "token",
            "state_dir": str(tmp_path / "state"),
            "pickle_key": "a pickle key for tests",
            "session_key": "a session key for tests",
            "max_backoff_seconds": 0.01,
            **changes,
        }
    ).checked()


def make_bot(
    runtime: Runtime,
    client: FakeClient,
    ledger: Ledger,
    tmp_path: Path,
    clock: Clock | None = None,
    **changes: Any,
) -> MatrixBot:
    return MatrixBot(
        runtime,
        client,  # type: ignore[arg-type]
        ledger,
        settings(tmp_path, **changes),
        asyncio.Event(),
        clock or Clock(),
    )


async def settled(bot: MatrixBot) -> None:
    deadline = time.monotonic() + 10
    while not bot.idle():
        assert time.monotonic() < deadline, "the bot kept sending"
        await asyncio.sleep(0.01)


def texts(*items: tuple[str, str]) -> tuple[Item, ...]:
    return tuple(PersonText(event_id, text) for event_id, text in items)


def room(*items: Item, members: int = 2) -> SyncBatch:
    return SyncBatch("token", rooms=(RoomBatch(ROOM, members, False, items),))


async def started(bot: MatrixBot) -> None:
    await bot.handle_batch(SyncBatch("t0", invites=(Invite(ROOM, True),)))
    await bot.handle_batch(room(OwnJoin("$join")))
    await settled(bot)


async def test_a_room_is_joined_and_greeted_once(
    runtime: Runtime, client: FakeClient, ledger: Ledger, tmp_path: Path
) -> None:
    bot = make_bot(runtime, client, ledger, tmp_path)
    await started(bot)
    await bot.handle_batch(room(OwnJoin("$join")))  # the same batch again, after a crash
    await settled(bot)
    assert client.joined == [ROOM]
    assert client.bodies == [
        "Hello, and welcome.\n\nWhere are you now?\n1. I want to cut down\n2. I want to stop"
    ]


async def test_a_replayed_batch_is_answered_once(
    runtime: Runtime, client: FakeClient, ledger: Ledger, tmp_path: Path
) -> None:
    bot = make_bot(runtime, client, ledger, tmp_path)
    await started(bot)
    batch = room(*texts(("$1", "2"), ("$2", "7")))
    await bot.handle_batch(batch)
    await bot.handle_batch(batch)
    await settled(bot)
    assert len(client.messages) == 3
    assert client.bodies[2] == "In a few words, why does it matter to you?"


async def killed_between_save_and_record(
    bot: MatrixBot, ledger: Ledger, monkeypatch: pytest.MonkeyPatch, *items: tuple[str, str]
) -> None:
    """The process dies after the runtime saved the turn, before its reply was recorded."""

    async def dies(*args: Any, **kwargs: Any) -> None:
        raise Killed

    monkeypatch.setattr(ledger, "record", dies)
    with pytest.raises(Killed):
        await bot.handle_batch(room(*texts(*items)))
    monkeypatch.undo()


async def test_a_crash_after_the_turn_was_saved_sends_the_reply_it_produced_once(
    runtime: Runtime,
    client: FakeClient,
    ledger: Ledger,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot = make_bot(runtime, client, ledger, tmp_path)
    await started(bot)
    await bot.handle_batch(room(*texts(("$1", "2"), ("$2", "7"))))
    await settled(bot)
    await killed_between_save_and_record(bot, ledger, monkeypatch, ("$3", "for my family"))
    assert client.bodies[-1] == "In a few words, why does it matter to you?"  # nothing sent

    restarted = make_bot(runtime, client, ledger, tmp_path)
    await restarted.handle_batch(room(*texts(("$3", "for my family"))))
    await restarted.handle_batch(room(*texts(("$3", "for my family"))))  # replayed again
    await settled(restarted)
    # The person gets the reply the saved turn produced (their plan, the module's end, the
    # plan as a file), once; their words were taken once.
    assert client.bodies[3:] == [
        "My plan\n\nWhere I started: I want to stop\n\nHow important: 7\n\n"
        "My reasons: for my family\n\nThat is the end of this module.",
        "my-plan.txt",
    ]
    state = await runtime.state(bot.room_key(ROOM))
    assert state is not None and state.slots["reasons"] == "for my family"


async def test_a_crash_before_the_turn_was_saved_handles_the_message_once(
    runtime: Runtime,
    client: FakeClient,
    ledger: Ledger,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot = make_bot(runtime, client, ledger, tmp_path)
    await started(bot)
    await bot.handle_batch(room(*texts(("$1", "2"))))
    await settled(bot)
    store = runtime._store  # the moment between preparing the reply and saving

    async def dies(*args: Any, **kwargs: Any) -> None:
        raise Killed  # the reply was prepared, the turn never saved

    monkeypatch.setattr(store, "save", dies)
    with pytest.raises(Killed):
        await bot.handle_batch(room(*texts(("$2", "7"))))
    monkeypatch.undo()

    restarted = make_bot(runtime, client, ledger, tmp_path)
    await restarted.handle_batch(room(*texts(("$2", "7"))))
    await settled(restarted)
    assert client.bodies[2:] == ["In a few words, why does it matter to you?"]
    state = await runtime.state(bot.room_key(ROOM))
    assert state is not None and state.slots["importance"] == 7


async def test_a_crash_with_the_memory_store_never_leaves_the_persons_room(
    loaded: LoadedProgram,
    runtime: Runtime,
    client: FakeClient,
    ledger: Ledger,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot = make_bot(runtime, client, ledger, tmp_path)
    await started(bot)
    await bot.handle_batch(room(*texts(("$1", "2"))))
    await settled(bot)
    await killed_between_save_and_record(bot, ledger, monkeypatch, ("$2", "7"))

    # Restarted with the memory store: every conversation is gone, the ledger remains.
    forgetful = Runtime(loaded, MemoryStore(), RasaActionRunner(loaded))
    restarted = make_bot(forgetful, client, ledger, tmp_path)
    await restarted.handle_batch(room(*texts(("$2", "7"))))
    await settled(restarted)
    assert client.left == []
    assert not any("erased" in body for body in client.bodies)
    assert client.bodies[-1].startswith("Hello, and welcome.")  # a new conversation
    await restarted.handle_batch(room(*texts(("$3", "2"))))
    await settled(restarted)
    assert client.bodies[-1].startswith("From 0 to 10")


async def test_a_crash_after_leave_now_erased_still_says_so_and_leaves(
    runtime: Runtime,
    client: FakeClient,
    ledger: Ledger,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot = make_bot(runtime, client, ledger, tmp_path)
    await started(bot)
    # "/stop": a plain "stop" here would answer the question's "I want to stop".
    await killed_between_save_and_record(bot, ledger, monkeypatch, ("$1", "/stop"))
    assert await runtime.state(bot.room_key(ROOM)) is None and client.left == []

    restarted = make_bot(runtime, client, ledger, tmp_path)
    await restarted.handle_batch(room(*texts(("$1", "stop"))))
    await settled(restarted)
    assert "I have erased our conversation on my side." in client.bodies[-1]
    assert len(client.messages) == 2 and client.left == [ROOM]


async def test_replies_wait_out_rate_limits_and_outages_with_one_transaction_id(
    runtime: Runtime, client: FakeClient, ledger: Ledger, tmp_path: Path
) -> None:
    bot = make_bot(runtime, client, ledger, tmp_path)
    client.failures = [RateLimited(0.01), Unreachable("ClientConnectorError"), RateLimited(0.01)]
    await started(bot)
    assert len(client.messages) == 1
    assert len(client.attempts) == 4 and len(set(client.attempts)) == 1


async def test_a_refused_reply_is_dropped_and_the_next_is_sent(
    runtime: Runtime, client: FakeClient, ledger: Ledger, tmp_path: Path
) -> None:
    bot = make_bot(runtime, client, ledger, tmp_path)
    client.failures = [Refused("M_FORBIDDEN")]
    await started(bot)
    await bot.handle_batch(room(*texts(("$1", "2"))))
    await settled(bot)
    assert client.bodies == [
        "From 0 to 10, how important is stopping to you?\n0 · 1 · 2 · 3 · 4 · 5 · 6 · 7 · 8 · 9 · 10"
    ]
    assert await ledger.outbox() == []


async def test_what_was_recorded_but_not_sent_goes_after_a_restart_with_the_same_id(
    runtime: Runtime, client: FakeClient, ledger: Ledger, tmp_path: Path
) -> None:
    bot = make_bot(runtime, client, ledger, tmp_path)
    client.failures = [Unreachable("ClientConnectorError")] * 1000
    await bot.handle_batch(SyncBatch("t0", invites=(Invite(ROOM, True),)))
    await bot.handle_batch(room(OwnJoin("$join")))
    await asyncio.sleep(0.05)
    await bot.close()
    first_try = client.attempts[0]
    client.failures = []

    restarted = make_bot(runtime, client, ledger, tmp_path)
    await restarted.resume()
    await settled(restarted)
    assert [txn for _, txn, _ in client.messages] == [first_try]


async def test_messages_from_before_the_bot_joined_are_history(
    runtime: Runtime, client: FakeClient, ledger: Ledger, tmp_path: Path
) -> None:
    bot = make_bot(runtime, client, ledger, tmp_path)
    await bot.handle_batch(SyncBatch("t0", invites=(Invite(ROOM, True),)))
    await bot.handle_batch(room(*texts(("$old", "2")), OwnJoin("$join"), *texts(("$new", "1"))))
    await settled(bot)
    assert client.bodies[0].startswith("Hello, and welcome.")
    assert client.bodies[1].startswith("From 0 to 10")
    state = await runtime.state(bot.room_key(ROOM))
    assert state is not None and state.slots["stage"] == "cut_down"


async def test_invites_to_rooms_not_marked_direct_are_refused_unless_configured(
    runtime: Runtime, client: FakeClient, ledger: Ledger, tmp_path: Path
) -> None:
    strict = make_bot(runtime, client, ledger, tmp_path)
    await strict.handle_batch(SyncBatch("t0", invites=(Invite(ROOM, False),)))
    assert client.left == [ROOM] and client.joined == []
    relaxed = make_bot(runtime, client, ledger, tmp_path, direct_only=False)
    await relaxed.handle_batch(SyncBatch("t1", invites=(Invite(ROOM, False),)))
    assert client.joined == [ROOM]


async def test_a_chat_that_becomes_a_group_is_left_and_its_session_erased(
    runtime: Runtime, client: FakeClient, ledger: Ledger, tmp_path: Path
) -> None:
    bot = make_bot(runtime, client, ledger, tmp_path)
    await started(bot)
    await bot.handle_batch(room(*texts(("$1", "2"))))
    await bot.handle_batch(room(*texts(("$2", "7")), members=3))
    await bot.handle_batch(room(*texts(("$3", "8")), members=3))
    await settled(bot)
    assert "no longer private" in client.bodies[-1]
    assert len(client.messages) == 3
    assert client.left == [ROOM]
    assert await runtime.state(bot.room_key(ROOM)) is None


async def test_when_the_person_leaves_the_bot_leaves_and_erases(
    runtime: Runtime, client: FakeClient, ledger: Ledger, tmp_path: Path
) -> None:
    bot = make_bot(runtime, client, ledger, tmp_path)
    await started(bot)
    await bot.handle_batch(room(members=1))
    await settled(bot)
    assert client.left == [ROOM]
    assert await runtime.state(bot.room_key(ROOM)) is None


async def test_a_message_that_cannot_be_decrypted_waits_for_its_key_then_is_answered(
    runtime: Runtime, client: FakeClient, ledger: Ledger, tmp_path: Path
) -> None:
    clock = Clock()
    bot = make_bot(runtime, client, ledger, tmp_path, clock)
    await started(bot)
    locked = Undecryptable("$locked", {"event_id": "$locked"})
    await bot.handle_batch(room(locked))
    await settled(bot)
    assert len(client.messages) == 1  # nothing to answer yet
    client.keys["$locked"] = PersonText("$locked", "2")
    await bot.handle_batch(SyncBatch("t2"))
    await settled(bot)
    assert client.bodies[-1].startswith("From 0 to 10")
    await bot.handle_batch(SyncBatch("t3"))
    await settled(bot)
    assert len(client.messages) == 2


async def test_a_message_whose_key_never_comes_is_answered_with_a_notice(
    runtime: Runtime, client: FakeClient, ledger: Ledger, tmp_path: Path
) -> None:
    clock = Clock()
    bot = make_bot(runtime, client, ledger, tmp_path, clock, undecryptable_wait_seconds=30)
    await started(bot)
    await bot.handle_batch(room(Undecryptable("$locked", {"event_id": "$locked"})))
    clock.now += 31
    await bot.handle_batch(SyncBatch("t2"))
    await bot.handle_batch(SyncBatch("t3"))
    await settled(bot)
    assert client.bodies[1:] == [
        "I couldn't read your last message because of an encryption problem. "
        "Could you send it again, please?"
    ]


async def test_leave_now_erases_says_so_and_leaves(
    runtime: Runtime, client: FakeClient, ledger: Ledger, tmp_path: Path
) -> None:
    bot = make_bot(runtime, client, ledger, tmp_path)
    await started(bot)
    await bot.handle_batch(room(*texts(("$1", "/stop"))))  # "stop" is the question's answer
    await settled(bot)
    assert "I have erased our conversation on my side." in client.bodies[-1]
    assert client.left == [ROOM]
    assert await runtime.state(bot.room_key(ROOM)) is None
    # Whatever comes after in that room is not answered: the bot has left it.
    await bot.handle_batch(room(*texts(("$2", "hello"))))
    await settled(bot)
    assert len(client.messages) == 2


async def test_the_session_key_is_a_keyed_hash_of_the_room(
    runtime: Runtime, client: FakeClient, ledger: Ledger, tmp_path: Path
) -> None:
    one = make_bot(runtime, client, ledger, tmp_path)
    other = make_bot(runtime, client, ledger, tmp_path, session_key="another session key!")
    assert ROOM not in one.room_key(ROOM)
    assert one.room_key(ROOM) != other.room_key(ROOM)
    assert one.room_key(ROOM) == make_bot(runtime, client, ledger, tmp_path).room_key(ROOM)


async def test_a_room_the_bot_has_no_record_of_is_taken_up_when_the_person_writes(
    runtime: Runtime, client: FakeClient, ledger: Ledger, tmp_path: Path
) -> None:
    bot = make_bot(runtime, client, ledger, tmp_path, locale="fi")
    await bot.handle_batch(room(*texts(("$1", "hello"))))
    await settled(bot)
    assert client.bodies == [
        "Hei, tervetuloa.\n\nMissä olet nyt?\n1. Haluan vähentää\n2. Haluan lopettaa"
    ]
    await bot.handle_batch(room(*texts(("$2", "2"))))
    await settled(bot)
    assert client.bodies[-1].startswith("Asteikolla 0–10")


async def test_a_conversation_whose_room_record_was_lost_goes_on_where_it_was(
    runtime: Runtime, client: FakeClient, ledger: Ledger, tmp_path: Path
) -> None:
    bot = make_bot(runtime, client, ledger, tmp_path)
    await started(bot)
    await bot.handle_batch(room(*texts(("$1", "2"))))
    await settled(bot)
    lost = Ledger(tmp_path / "a new ledger.sqlite", Keyring.generate())
    try:
        restarted = make_bot(runtime, client, lost, tmp_path)
        await restarted.handle_batch(room(*texts(("$2", "7"))))
        await settled(restarted)
    finally:
        await lost.close()
    assert client.bodies[-1] == "In a few words, why does it matter to you?"


async def test_while_the_store_is_away_a_message_waits_and_is_answered_after(
    runtime: Runtime,
    client: FakeClient,
    ledger: Ledger,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot = make_bot(runtime, client, ledger, tmp_path)
    await started(bot)

    async def away(*args: Any, **kwargs: Any) -> None:
        raise StoreUnavailable("restarting")

    monkeypatch.setattr(runtime, "handle", away)
    with pytest.raises(StoreUnavailable):
        await bot.handle_batch(room(*texts(("$1", "2"))))
    monkeypatch.undo()
    await bot.handle_batch(room(*texts(("$1", "2"))))  # the batch again, after a pause
    await settled(bot)
    assert client.bodies[-1].startswith("From 0 to 10")
