"""Session stores: where conversation states are kept between turns.

Three implementations share one contract (tests/integration/stores/test_contract.py):
``memory`` (the default, one process), ``sqlite`` (one node, survives restarts) and ``redis``
(several instances). ``open_store`` (store.factory) builds the configured one, wrapped in
``EncryptedStore`` so that nothing readable reaches the disk or Redis's memory.
"""

from __future__ import annotations

import math
import secrets
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from redirection_bot.errors import RedirectionBotError


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A stored state and its version (a new one at every save: ``new_version``)."""

    data: bytes
    version: int


VERSIONS = 2**52
"""Versions are drawn below this: exact in a Lua number (Redis scripts) and in JSON."""


def new_version(current: int | None) -> int:
    """A session's next version: a random number, not a count, so that a store read from disk
    does not tell how many turns a conversation had (the fourteenth attack: the version beside
    each sealed record was its number of saves)."""
    while True:
        version = secrets.randbelow(VERSIONS - 1) + 1
        if version != current:
            return version


EXPIRY_GRAIN_SECONDS = 600.0
"""The most an expiry written to disk is rounded up by (ten minutes; a tenth of the time to
live where that is less): ``coarse_ttl``."""


def coarse_ttl(now: float, ttl_seconds: float) -> float:
    """``ttl_seconds``, lengthened so that the expiry it gives (``now`` plus it) falls on a
    whole grain: ten minutes, or a tenth of ``ttl_seconds`` where that is less. The expiry
    beside a sealed record is readable without the key; rounded, it tells when the
    conversation was last saved only to the grain, not to the second (an outside attacker's
    finding: exact save times on disk). Never shorter than asked."""
    grain = min(EXPIRY_GRAIN_SECONDS, ttl_seconds / 10)
    if grain <= 0:
        return ttl_seconds
    return math.ceil((now + ttl_seconds) / grain) * grain - now


class VersionConflict(RedirectionBotError):
    """Someone else saved the session since it was read."""


class StoreUnavailable(RedirectionBotError):
    """The store cannot be reached (Redis restarting, disk full); nothing was changed."""


class StoreRefused(StoreUnavailable):
    """This instance may not use the store (it seals with other keys than the instances
    already using it): every turn gets the "try again" notice, nothing is read or written."""


class SessionLost(RedirectionBotError):
    """The store no longer holds a session its channel knows was there (Redis restarted without
    persistence): the person must be told, not silently started over."""


class SessionBusy(RedirectionBotError):
    """Another instance held the session's lock for longer than the wait allowed."""


class SessionStore(Protocol):
    """The store contract: get, save with a version check, delete, expire."""

    async def get(self, key: str) -> StoredSession | None: ...

    async def save(
        self,
        key: str,
        data: bytes,
        expected_version: int | None,
        ttl_seconds: float,
        *,
        final: bool = False,
    ) -> int:
        """Save and return the new version (``new_version``: never the one before, never a
        count); raise VersionConflict if the stored version differs
        from ``expected_version`` (None: the session must not exist yet). ``final``: the turn's
        last write under the session's lock; a store that locks across processes may end the
        lock with it (one round trip less), others ignore it."""
        ...

    async def delete(self, key: str) -> None: ...

    async def expire(self) -> int:
        """Remove sessions idle for longer than their time to live; return how many."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class LockingStore(Protocol):
    """A store that can lock a session across processes (Redis); others are locked in-process."""

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        """Hold the session's lock; raise SessionBusy if it cannot be had in time."""
        ...


@runtime_checkable
class PingableStore(Protocol):
    """A store that can say whether it answers (for ``/readyz``)."""

    async def ping(self) -> bool: ...


@runtime_checkable
class ForgetfulStore(Protocol):
    """A store that can lose everything it holds (memory, at a restart; Redis restarted without
    persistence, or flushed), and says since when it has held every save made to it."""

    async def kept_since(self) -> float | None:
        """Unix time since which nothing saved here was lost (None: never lost anything): a
        conversation the store lacks that was opened before then was lost (or erased, or ran
        out its time), one opened after was never lost."""
        ...


async def kept_since(store: SessionStore) -> float | None:
    """``ForgetfulStore.kept_since``; None for a store that never loses what it holds."""
    return await store.kept_since() if isinstance(store, ForgetfulStore) else None


async def store_ready(store: SessionStore) -> bool:
    """Whether ``store`` answers now; stores in the process always do."""
    return await store.ping() if isinstance(store, PingableStore) else True
