"""The in-memory session store: the default, for one process."""

from __future__ import annotations

import time
from collections.abc import Callable

from redirection_bot.store import StoredSession, VersionConflict, new_version


class MemoryStore:
    """Sessions in a dictionary, gone when the process ends (``kept_since``: when it began)."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, since: float | None = None
    ) -> None:
        self._clock = clock
        self._sessions: dict[str, tuple[StoredSession, float]] = {}
        self._since = time.time() if since is None else since

    async def kept_since(self) -> float:
        return self._since

    async def get(self, key: str) -> StoredSession | None:
        found = self._sessions.get(key)
        if found is None:
            return None
        if found[1] <= self._clock():
            del self._sessions[key]
            return None
        return found[0]

    async def save(
        self,
        key: str,
        data: bytes,
        expected_version: int | None,
        ttl_seconds: float,
        *,
        final: bool = False,
    ) -> int:
        current = await self.get(key)
        current_version = current.version if current is not None else None
        if current_version != expected_version:
            raise VersionConflict("the session was changed by someone else")
        version = new_version(current_version)
        self._sessions[key] = (StoredSession(data, version), self._clock() + ttl_seconds)
        return version

    async def delete(self, key: str) -> None:
        self._sessions.pop(key, None)

    async def expire(self) -> int:
        now = self._clock()
        expired = [key for key, (_session, until) in self._sessions.items() if until <= now]
        for key in expired:
            del self._sessions[key]
        return len(expired)

    async def close(self) -> None:
        self._sessions.clear()

    def __len__(self) -> int:
        return len(self._sessions)
