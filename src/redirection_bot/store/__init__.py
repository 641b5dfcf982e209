"""Session stores: where conversation states are kept between turns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from redirection_bot.errors import RedirectionBotError


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A stored state and its version (incremented on every save)."""

    data: bytes
    version: int


class VersionConflict(RedirectionBotError):
    """Someone else saved the session since it was read."""


class SessionStore(Protocol):
    """The store contract: get, save with a version check, delete, expire."""

    async def get(self, key: str) -> StoredSession | None: ...

    async def save(
        self, key: str, data: bytes, expected_version: int | None, ttl_seconds: float
    ) -> int:
        """Save and return the new version; raise VersionConflict if the stored version differs
        from ``expected_version`` (None: the session must not exist yet)."""
        ...

    async def delete(self, key: str) -> None: ...

    async def expire(self) -> int:
        """Remove sessions idle for longer than their time to live; return how many."""
        ...

    async def close(self) -> None: ...
