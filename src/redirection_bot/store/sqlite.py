"""The SQLite session store: one node, sessions survive a restart.

One connection, used from one worker thread so that the event loop never waits on the disk.
The database runs in WAL mode with ``synchronous=NORMAL``: a crashed or killed process loses
nothing that was committed, and only a power cut can lose the last few turns. Expiry times are
wall-clock seconds, since they must mean the same thing after a restart.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from redirection_bot.store import StoredSession, StoreUnavailable, VersionConflict

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


class SqliteStore:
    """Sessions in one SQLite file (or ``:memory:``)."""

    def __init__(self, path: Path | str, clock: Callable[[], float] = time.time) -> None:
        self.path = str(path)
        self._clock = clock
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        self._connection = self._worker.submit(self._open).result()

    def _open(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=10.0
        )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        # Deleted rows are overwritten on disk, so an erased conversation leaves no bytes behind.
        connection.execute("PRAGMA secure_delete=ON")
        connection.executescript(_SCHEMA)
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
        self, key: str, data: bytes, expected_version: int | None, ttl_seconds: float
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
                version = (current or 0) + 1
                db.execute(
                    "INSERT OR REPLACE INTO sessions (key, data, version, expires_at)"
                    " VALUES (?, ?, ?, ?)",
                    (key, data, version, now + ttl_seconds),
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return version

        return await self._run(write)

    async def delete(self, key: str) -> None:
        await self._run(lambda db: db.execute("DELETE FROM sessions WHERE key = ?", (key,)))

    async def expire(self) -> int:
        now = self._clock()

        def remove(db: sqlite3.Connection) -> int:
            return db.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,)).rowcount

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
