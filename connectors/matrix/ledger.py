"""The connector's own record, in one SQLite file: what was handled and what is still to send.

This is what makes replies exactly-once across a crash:

- ``handled``: the incoming events (by keyed hash) already turned into replies. A replayed
  event (the sync token is saved only after its batch was recorded) is skipped.
- ``pending``: written just before the runtime handles an event, with a digest of the
  session state before it.
- ``prepared``: the reply a turn produced, with a digest of the state it leaves, written
  just before the runtime saves that state. If the process dies after the save but before
  the reply was recorded, the replayed event finds the state the turn left and the prepared
  reply is sent, instead of applying the person's answer twice or losing the reply.
- ``outbox``: replies recorded with their transaction ids in the same transaction that marks
  the event handled, and deleted once the homeserver has them. Sending again after a crash
  uses the same transaction id, so the homeserver returns the same event, not a new one.
- ``rooms``: the rooms the bot accepted, by keyed hash, and whether their greeting is done.
- ``meta``: the sync token, and the device (and, after a password login, its access token).
- ``feeds``: the rooms whose handoff the bot follows (``handoff.py``): the handoff's feed
  and the id of the last push queued from it, updated in the transaction that queues the
  push, so that after a restart following goes on after it: nothing twice, nothing lost.
- ``offers``: the handoff's answers shown last in a room ("End the chat with the person"),
  which the person may pick by their words, and their next message also by number.

Rooms and events are stored as keyed hashes. What must be kept readable for a while (a
reply's text and room until the homeserver has it, a message held for its key, the access
token, a followed feed and the answers offered) is sealed with AES-256-GCM under a key
derived from the connector's ``session_key``, so that neither the file nor the pages SQLite
leaves behind in its write-ahead log show it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from redirection_bot.api import ConnectorError, DecryptionError, Keyring

_T = TypeVar("_T")

HANDLED_KEPT_SECONDS = 7 * 24 * 3600
"""How long handled events are remembered: far longer than one sync batch can be replayed."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS rooms (
    room TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    generation TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS handled (
    room TEXT NOT NULL,
    event TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (room, event)
);
CREATE TABLE IF NOT EXISTS pending (
    room TEXT NOT NULL,
    event TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (room, event)
);
CREATE TABLE IF NOT EXISTS prepared (
    room TEXT NOT NULL,
    event TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (room, event)
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    room TEXT NOT NULL,
    room_id BLOB NOT NULL,
    txn TEXT NOT NULL,
    kind TEXT NOT NULL,
    content BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS held (
    room TEXT NOT NULL,
    event TEXT NOT NULL,
    room_id BLOB NOT NULL,
    source BLOB NOT NULL,
    since REAL NOT NULL,
    PRIMARY KEY (room, event)
);
CREATE TABLE IF NOT EXISTS feeds (room TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS offers (room TEXT PRIMARY KEY, value BLOB NOT NULL);
"""

FEED_START = "0"
"""The cursor of a feed nothing was read from yet (the relay's "from the first message")."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """Something to send to a room: a message, the plan as a file, or leaving the room."""

    kind: str
    """``message``, ``plan_file`` or ``leave``."""
    txn: str
    content: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OutboxRow:
    seq: int
    room: str
    room_id: str
    outgoing: Outgoing
    attempts: int


@dataclass(frozen=True, slots=True)
class Offer:
    """The handoff's answers open to the person, as (choice id, label); ``numbered``: their
    numbers are still the last shown, so that a number picks one."""

    choices: tuple[tuple[str, str], ...] = ()
    numbered: bool = True


@dataclass(frozen=True, slots=True)
class Followed:
    """A room whose handoff feed the bot follows, and the id of the last push queued."""

    room: str
    room_id: str
    feed: str
    after: str


@dataclass(frozen=True, slots=True)
class Follow:
    """What a turn changes in the feed a room follows: ``feed`` (kept, with its cursor, if
    it is the one already followed), or None to follow nothing."""

    feed: str | None


@dataclass(frozen=True, slots=True)
class Prepared:
    """A turn's reply, recorded before the runtime saved the state it leaves (``after``, a
    digest): what to send if the process dies before the turn is recorded."""

    after: str
    outgoing: tuple[Outgoing, ...]
    offer: Offer
    follow: Follow | None
    handoff: tuple[bool, str, str | None] | None
    """The reply's handoff view (active, status, feed), to follow its feed after sending."""


@dataclass(frozen=True, slots=True)
class HeldEvent:
    """An encrypted message that could not be decrypted yet."""

    room: str
    event: str
    room_id: str
    source: dict[str, Any]
    since: float


class Ledger:
    """The connector's record in one SQLite file, used from one worker thread."""

    def __init__(
        self, path: Path, keyring: Keyring, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = path
        self._keyring = keyring
        self._clock = clock
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="matrix-ledger")
        self._db = self._worker.submit(self._open).result()

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        new = not self.path.exists()
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        if new:
            os.chmod(self.path, 0o600)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA secure_delete=ON")
        db.executescript(_SCHEMA)
        return db

    async def _run(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._worker, work, self._db)

    async def _transaction(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        def wrapped(db: sqlite3.Connection) -> _T:
            db.execute("BEGIN IMMEDIATE")
            try:
                result = work(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result

        return await self._run(wrapped)

    async def close(self) -> None:
        await self._run(lambda db: db.close())
        self._worker.shutdown(wait=True)

    def _seal(self, value: Any, context: str) -> bytes:
        return self._keyring.seal(json.dumps(value).encode(), context.encode())

    def _open_sealed(self, blob: bytes, context: str) -> Any:
        try:
            return json.loads(self._keyring.open(bytes(blob), context.encode()))
        except DecryptionError as error:
            raise ConnectorError(
                f"{self.path} cannot be read with this session_key: was it changed? "
                "(the key must stay the same for as long as the state folder is used)"
            ) from error

    # --- meta ----------------------------------------------------------------------------------

    async def get(self, name: str) -> str | None:
        row = await self._run(
            lambda db: db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        )
        return None if row is None else str(self._open_sealed(row[0], f"meta\n{name}"))

    async def put(self, name: str, value: str) -> None:
        sealed = self._seal(value, f"meta\n{name}")
        await self._run(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, sealed)
            )
        )

    # --- rooms ---------------------------------------------------------------------------------

    async def room_status(self, room: str) -> tuple[str, str] | None:
        """(status, generation) of an accepted room, or None."""
        row = await self._run(
            lambda db: db.execute(
                "SELECT status, generation FROM rooms WHERE room = ?", (room,)
            ).fetchone()
        )
        return None if row is None else (str(row[0]), str(row[1]))

    async def accept_room(self, room: str, status: str, generation: str) -> None:
        await self._run(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO rooms (room, status, generation) VALUES (?, ?, ?)",
                (room, status, generation),
            )
        )

    async def room_left(self, room: str) -> None:
        """The bot is out of a room: forget what happened there, in one step, keeping only
        that it left (so that a sync still in flight cannot take the room up again)."""

        def forget(db: sqlite3.Connection) -> None:
            for table in ("handled", "pending", "prepared", "held", "feeds", "offers"):
                db.execute(f"DELETE FROM {table} WHERE room = ?", (room,))
            db.execute(
                "INSERT OR REPLACE INTO rooms (room, status, generation) VALUES (?, 'left', '-')",
                (room,),
            )

        await self._transaction(forget)

    # --- turns ---------------------------------------------------------------------------------

    async def is_handled(self, room: str, event: str) -> bool:
        row = await self._run(
            lambda db: db.execute(
                "SELECT 1 FROM handled WHERE room = ? AND event = ?", (room, event)
            ).fetchone()
        )
        return row is not None

    async def pending_state(self, room: str, event: str) -> str | None:
        """The state digest recorded before an event was handled, if its handling was cut."""
        row = await self._run(
            lambda db: db.execute(
                "SELECT state FROM pending WHERE room = ? AND event = ?", (room, event)
            ).fetchone()
        )
        return None if row is None else str(row[0])

    async def mark_pending(self, room: str, event: str, state: str) -> None:
        await self._run(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO pending (room, event, state) VALUES (?, ?, ?)",
                (room, event, state),
            )
        )

    async def prepare(self, room: str, event: str, prepared: Prepared) -> None:
        """Keep a turn's reply until the turn is recorded (sealed: it holds the reply's text)."""
        value = {
            "after": prepared.after,
            "outgoing": [[item.kind, item.txn, item.content] for item in prepared.outgoing],
            "offer": {
                "choices": [list(c) for c in prepared.offer.choices],
                "numbered": prepared.offer.numbered,
            },
            "follow": None if prepared.follow is None else [prepared.follow.feed],
            "handoff": None if prepared.handoff is None else list(prepared.handoff),
        }
        sealed = self._seal(value, f"prepared\n{room}\n{event}")
        await self._run(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO prepared (room, event, value) VALUES (?, ?, ?)",
                (room, event, sealed),
            )
        )

    async def prepared(self, room: str, event: str) -> Prepared | None:
        """The reply prepared for an event whose turn was not recorded, if any."""
        row = await self._run(
            lambda db: db.execute(
                "SELECT value FROM prepared WHERE room = ? AND event = ?", (room, event)
            ).fetchone()
        )
        if row is None:
            return None
        kept = self._open_sealed(row[0], f"prepared\n{room}\n{event}")
        offer = kept["offer"]
        handoff = kept["handoff"]
        return Prepared(
            str(kept["after"]),
            tuple(
                Outgoing(str(kind), str(txn), dict(content))
                for kind, txn, content in kept["outgoing"]
            ),
            Offer(
                tuple((str(i), str(label)) for i, label in offer["choices"]),
                bool(offer["numbered"]),
            ),
            None if kept["follow"] is None else Follow(kept["follow"][0]),
            None if handoff is None else (bool(handoff[0]), str(handoff[1]), handoff[2]),
        )

    async def record(
        self,
        room: str,
        event: str,
        room_id: str,
        outgoing: Sequence[Outgoing],
        status: str | None = None,
        offer: Offer | None = None,
        follow: Follow | None = None,
    ) -> None:
        """Mark an event handled and queue its replies, in one transaction; with ``offer``,
        the handoff answers now open to the person, and with ``follow``, the
        feed the room follows from now on."""
        now = self._clock()

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR REPLACE INTO handled (room, event, at) VALUES (?, ?, ?)",
                (room, event, now),
            )
            db.execute("DELETE FROM pending WHERE room = ? AND event = ?", (room, event))
            db.execute("DELETE FROM prepared WHERE room = ? AND event = ?", (room, event))
            db.execute("DELETE FROM held WHERE room = ? AND event = ?", (room, event))
            self._queue(db, room, room_id, outgoing)
            if status is not None:
                db.execute("UPDATE rooms SET status = ? WHERE room = ?", (status, room))
            if offer is not None:
                self._offer(db, room, offer)
            if follow is not None:
                self._follow(db, room, room_id, follow.feed)

        await self._transaction(write)

    def _queue(
        self, db: sqlite3.Connection, room: str, room_id: str, outgoing: Sequence[Outgoing]
    ) -> None:
        db.executemany(
            "INSERT INTO outbox (room, room_id, txn, kind, content) VALUES (?, ?, ?, ?, ?)",
            [
                (
                    room,
                    self._seal(room_id, f"room\n{room}"),
                    item.txn,
                    item.kind,
                    self._seal(item.content, f"content\n{room}\n{item.txn}"),
                )
                for item in outgoing
            ],
        )

    async def prune(self) -> int:
        """Forget handled events older than ``HANDLED_KEPT_SECONDS``; return how many."""
        before = self._clock() - HANDLED_KEPT_SECONDS
        return await self._run(
            lambda db: db.execute("DELETE FROM handled WHERE at < ?", (before,)).rowcount
        )

    # --- outbox --------------------------------------------------------------------------------

    async def outbox(self, room: str | None = None) -> list[OutboxRow]:
        """What is still to be sent, oldest first (to one room, or to all)."""

        def read(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
            query = "SELECT seq, room, room_id, txn, kind, content, attempts FROM outbox"
            if room is None:
                return db.execute(query + " ORDER BY seq").fetchall()
            return db.execute(query + " WHERE room = ? ORDER BY seq", (room,)).fetchall()

        return [
            OutboxRow(
                int(seq),
                room_key,
                self._open_sealed(room_id, f"room\n{room_key}"),
                Outgoing(kind, txn, self._open_sealed(content, f"content\n{room_key}\n{txn}")),
                int(attempts),
            )
            for seq, room_key, room_id, txn, kind, content, attempts in await self._run(read)
        ]

    async def sent(self, seq: int) -> None:
        await self._run(lambda db: db.execute("DELETE FROM outbox WHERE seq = ?", (seq,)))

    async def failed(self, seq: int) -> None:
        await self._run(
            lambda db: db.execute("UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?", (seq,))
        )

    # --- messages waiting for their keys ---------------------------------------------------------

    async def hold(self, room: str, event: str, room_id: str, source: dict[str, Any]) -> None:
        now = self._clock()
        sealed_room = self._seal(room_id, f"room\n{room}")
        sealed_source = self._seal(source, f"held\n{room}\n{event}")
        await self._run(
            lambda db: db.execute(
                "INSERT OR IGNORE INTO held (room, event, room_id, source, since)"
                " VALUES (?, ?, ?, ?, ?)",
                (room, event, sealed_room, sealed_source, now),
            )
        )

    async def held(self) -> list[HeldEvent]:
        rows = await self._run(
            lambda db: db.execute(
                "SELECT room, event, room_id, source, since FROM held ORDER BY since"
            ).fetchall()
        )
        return [
            HeldEvent(
                room,
                event,
                self._open_sealed(room_id, f"room\n{room}"),
                self._open_sealed(source, f"held\n{room}\n{event}"),
                float(since),
            )
            for room, event, room_id, source, since in rows
        ]

    # --- handoff feeds and the answers they offer ------------------------------------------------

    async def followed(self, room: str | None = None) -> list[Followed]:
        """The rooms whose handoff feed is followed (or the one room, if it is)."""

        def read(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
            if room is None:
                return db.execute("SELECT room, value FROM feeds").fetchall()
            return db.execute("SELECT room, value FROM feeds WHERE room = ?", (room,)).fetchall()

        return [self._followed(str(key), value) for key, value in await self._run(read)]

    async def record_push(
        self, room: str, feed: str, after: str, outgoing: Sequence[Outgoing], offer: Offer | None
    ) -> bool:
        """Queue what a push showed and move the feed's cursor past it, in one transaction;
        False (nothing queued) when the room no longer follows ``feed``."""

        def write(db: sqlite3.Connection) -> bool:
            row = db.execute("SELECT value FROM feeds WHERE room = ?", (room,)).fetchone()
            followed = None if row is None else self._followed(room, row[0])
            if followed is None or followed.feed != feed:
                return False
            self._queue(db, room, followed.room_id, outgoing)
            self._put_feed(db, room, followed.room_id, feed, after)
            if offer is not None:
                self._offer(db, room, offer)
            return True

        return await self._transaction(write)

    async def unfollow(self, room: str, feed: str | None = None) -> None:
        """Stop following ``feed`` in a room (a newer feed followed since is kept), or any."""

        def write(db: sqlite3.Connection) -> None:
            row = db.execute("SELECT value FROM feeds WHERE room = ?", (room,)).fetchone()
            if row is not None and feed in (None, self._followed(room, row[0]).feed):
                db.execute("DELETE FROM feeds WHERE room = ?", (room,))

        await self._transaction(write)

    async def offer(self, room: str) -> Offer:
        """The handoff answers open to the person (none: an empty offer)."""
        row = await self._run(
            lambda db: db.execute("SELECT value FROM offers WHERE room = ?", (room,)).fetchone()
        )
        if row is None:
            return Offer()
        kept = self._open_sealed(row[0], f"offer\n{room}")
        choices = tuple((str(i), str(label)) for i, label in kept["choices"])
        return Offer(choices, bool(kept["numbered"]))

    def _follow(self, db: sqlite3.Connection, room: str, room_id: str, feed: str | None) -> None:
        if feed is None:
            db.execute("DELETE FROM feeds WHERE room = ?", (room,))
            return
        row = db.execute("SELECT value FROM feeds WHERE room = ?", (room,)).fetchone()
        if row is None or self._followed(room, row[0]).feed != feed:
            self._put_feed(db, room, room_id, feed, FEED_START)

    def _put_feed(
        self, db: sqlite3.Connection, room: str, room_id: str, feed: str, after: str
    ) -> None:
        value = self._seal({"room_id": room_id, "feed": feed, "after": after}, f"feed\n{room}")
        db.execute("INSERT OR REPLACE INTO feeds (room, value) VALUES (?, ?)", (room, value))

    def _followed(self, room: str, value: bytes) -> Followed:
        kept = self._open_sealed(value, f"feed\n{room}")
        return Followed(room, str(kept["room_id"]), str(kept["feed"]), str(kept["after"]))

    def _offer(self, db: sqlite3.Connection, room: str, offer: Offer) -> None:
        if not offer.choices:
            db.execute("DELETE FROM offers WHERE room = ?", (room,))
            return
        kept = {"choices": [list(choice) for choice in offer.choices], "numbered": offer.numbered}
        value = self._seal(kept, f"offer\n{room}")
        db.execute("INSERT OR REPLACE INTO offers (room, value) VALUES (?, ?)", (room, value))
