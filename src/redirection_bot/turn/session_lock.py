"""One turn at a time per session: in this process, and across processes when the store can
lock (Redis).

A class rather than an ``asynccontextmanager``: it is taken on every turn, and a generator
based one (with a spare ``asyncio.Lock`` built for ``setdefault`` each time) cost about twice
as much (docs/performance.md, sixteenth round).
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from types import TracebackType

from redirection_bot.store import LockingStore


@dataclass(slots=True)
class LockEntry:
    """A session's lock in this process, with how many turns hold or await it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class SessionLock:
    """The session's lock in this process (made when a turn needs it, dropped when no turn
    holds or awaits it), then the store's across processes. Entered once."""

    __slots__ = ("_entry", "_inner", "_key", "_locks", "_store")

    def __init__(self, locks: dict[str, LockEntry], key: str, store: LockingStore | None) -> None:
        self._locks, self._key, self._store = locks, key, store
        self._entry: LockEntry | None = None
        self._inner: AbstractAsyncContextManager[None] | None = None

    async def __aenter__(self) -> None:
        entry = self._locks.get(self._key)
        if entry is None:
            entry = self._locks[self._key] = LockEntry()
        entry.users += 1
        try:
            await entry.lock.acquire()
        except BaseException:  # cancelled while waiting: no longer a user
            self._leave(entry)
            raise
        self._entry = entry
        if self._store is not None:
            inner = self._store.lock(self._key)
            try:
                await inner.__aenter__()
            except BaseException:  # SessionBusy, the store unavailable, cancelled
                entry.lock.release()
                self._leave(entry)
                raise
            self._inner = inner

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> bool | None:
        entry = self._entry
        assert entry is not None, "exited a session lock never entered"
        try:
            if self._inner is not None:
                return await self._inner.__aexit__(kind, error, trace)
            return None
        finally:
            entry.lock.release()
            self._leave(entry)

    def _leave(self, entry: LockEntry) -> None:
        entry.users -= 1
        if entry.users == 0:
            self._locks.pop(self._key, None)
