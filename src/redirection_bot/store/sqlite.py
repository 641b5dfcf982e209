"""The SQLite session store: one node, sessions survive a restart.

One connection, used from one worker thread so that the event loop never waits on the disk.
The database runs in WAL mode with ``synchronous=NORMAL``: a crashed or killed process loses
nothing that was committed, and only a power cut can lose the last few turns. Expiry times are
wall-clock seconds, since they must mean the same thing after a restart, rounded up to a grain
(``coarse_ttl``) so that they do not tell when a conversation was last saved.

Erased means erased: deleted rows are overwritten (``secure_delete``), and after an erasure or
an expiry the write-ahead log, which still holds every earlier version of the conversation, is
checkpointed into the database and truncated to nothing (so too on opening, after a crash).
The files are the operator's alone (0600; SQLite gives its -wal and -shm files the database
file's mode).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from redirection_bot.store import (
    StoredSession,
    StoreUnavailable,
    VersionConflict,
    coarse_ttl,
    new_version,
)

_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    key TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    version INTEGER NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at);
"""


OPEN_WAIT_SECONDS = 10.0
"""How long a process starting on a file another is setting up waits for its lock."""


def _until_unlocked(step: Callable[[], object], wait: float = OPEN_WAIT_SECONDS) -> None:
    """Run ``step``, again while the file is locked by another process, for up to ``wait``."""
    deadline = time.monotonic() + wait
    pause = 0.01
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as error:
            locked = "locked" in str(error) or "busy" in str(error)
            if not locked or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


class SqliteStore:
    """Sessions in one SQLite file (or ``:memory:``)."""

    def __init__(self, path: Path | str, clock: Callable[[], float] = time.time) -> None:
        self.path = str(path)
        self.shared_between_processes = self.path != ":memory:"
        """A file other processes on this machine may use too: a page this process holds may
        have been erased there (``Runtime.shares_store``)."""
        self._clock = clock
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        self._connection = self._worker.submit(self._open).result()

    def _open(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            _private_files(Path(self.path))
        connection = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=10.0
        )
        # Instances started together on a new file: switching it to WAL takes a lock SQLite
        # does not wait for (the forty-sixth attack: one of two failed to start, "database is
        # locked"); tried again for as long as a turn would wait.
        _until_unlocked(lambda: connection.execute("PRAGMA journal_mode=WAL"))
        connection.execute("PRAGMA synchronous=NORMAL")
        # Deleted rows are overwritten on disk, so an erased conversation leaves no bytes behind.
        connection.execute("PRAGMA secure_delete=ON")
        _until_unlocked(lambda: connection.executescript(_SCHEMA))
        _truncate_log(connection)  # frames a killed process left behind
        return connection

    async def _run(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._worker, work, self._connection)
        except sqlite3.OperationalError as error:  # disk full, file locked too long, ...
            raise StoreUnavailable(f"the SQLite store failed: {type(error).__name__}") from error

    async def get(self, key: str) -> StoredSession | None:
        now = self._clock()

        def read(db: sqlite3.Connection) -> StoredSession | None:
            row = db.execute(
                "SELECT data, version FROM sessions WHERE key = ? AND expires_at > ?", (key, now)
            ).fetchone()
            return None if row is None else StoredSession(bytes(row[0]), int(row[1]))

        return await self._run(read)

    async def save(
        self,
        key: str,
        data: bytes,
        expected_version: int | None,
        ttl_seconds: float,
        *,
        final: bool = False,
    ) -> int:
        now = self._clock()

        def write(db: sqlite3.Connection) -> int:
            # IMMEDIATE takes the write lock before reading, so the check and the write are one
            # step even when another process shares the file.
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT version FROM sessions WHERE key = ? AND expires_at > ?", (key, now)
                ).fetchone()
                current = None if row is None else int(row[0])
                if current != expected_version:
                    raise VersionConflict("the session was changed by someone else")
                version = new_version(current)
                db.execute(
                    "INSERT OR REPLACE INTO sessions (key, data, version, expires_at)"
                    " VALUES (?, ?, ?, ?)",
                    (key, data, version, now + coarse_ttl(now, ttl_seconds)),
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return version

        return await self._run(write)

    async def delete(self, key: str) -> None:
        def remove(db: sqlite3.Connection) -> None:
            if db.execute("DELETE FROM sessions WHERE key = ?", (key,)).rowcount:
                _truncate_log(db)

        await self._run(remove)

    async def expire(self) -> int:
        now = self._clock()

        def remove(db: sqlite3.Connection) -> int:
            removed = db.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,)).rowcount
            if removed:
                _truncate_log(db)
            return int(removed)

        return await self._run(remove)

    async def ping(self) -> bool:
        try:
            await self._run(lambda db: db.execute("SELECT 1").fetchone())
        except sqlite3.Error:
            return False
        return True

    async def close(self) -> None:
        await self._run(lambda db: db.close())
        self._worker.shutdown(wait=True)


PRIVATE_MODE = 0o600


def _private_files(path: Path) -> None:
    """Create the database file readable by its owner only (before SQLite does, with the
    process's umask), and tighten the files of an older database."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, PRIVATE_MODE))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and file.stat().st_mode & 0o777 != PRIVATE_MODE:
            file.chmod(PRIVATE_MODE)


def _truncate_log(db: sqlite3.Connection) -> None:
    """Copy the write-ahead log into the database and cut it to nothing: the log holds every
    earlier version of the rows written since the last checkpoint, erased ones included."""
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
