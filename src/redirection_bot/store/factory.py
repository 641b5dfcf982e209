"""Opening the configured store, and sweeping idle sessions away.

``StoreSettings`` is the ``store:`` section of the operator's config. SQLite and Redis keep
sessions outside the process, so they are always wrapped in ``EncryptedStore`` and refuse to
start without a key; the memory store lives and dies with the process and needs none.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from redirection_bot.crypto import KEYS_ENVIRONMENT_VARIABLE, Keyring, keys_from_environment
from redirection_bot.errors import ConfigError
from redirection_bot.logs import log_event
from redirection_bot.resume import DEFAULT_RESUME_TTL_SECONDS
from redirection_bot.store import SessionStore, StoreUnavailable
from redirection_bot.store.encrypted import encrypted
from redirection_bot.store.memory import MemoryStore

DEFAULT_SESSION_TTL_SECONDS = 24 * 3600.0
DEFAULT_SWEEP_SECONDS = 300.0


class StoreKind(enum.StrEnum):
    MEMORY = "memory"
    SQLITE = "sqlite"
    REDIS = "redis"


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """Where sessions are kept, how they are sealed, and for how long."""

    kind: StoreKind = StoreKind.MEMORY
    path: Path = Path("sessions.sqlite3")
    """The SQLite file (kind: sqlite)."""
    url: str = "redis://127.0.0.1:6379/0"
    """The Redis server (kind: redis); ``rediss://`` for TLS."""
    prefix: str = "rb:"
    """Prefix of every Redis key, so that one Redis can serve several deployments."""
    keys: tuple[bytes, ...] = field(default=(), repr=False)
    """Encryption keys, newest first (or ``REDIRECTION_BOT_STORE_KEYS``)."""
    session_ttl_seconds: float = DEFAULT_SESSION_TTL_SECONDS
    resume_ttl_seconds: float = DEFAULT_RESUME_TTL_SECONDS
    sweep_seconds: float = DEFAULT_SWEEP_SECONDS


def open_store(settings: StoreSettings, environ: Mapping[str, str] | None = None) -> SessionStore:
    """The configured store, encrypted when it keeps anything outside the process."""
    if settings.kind is StoreKind.MEMORY:
        return MemoryStore()
    keys: Sequence[bytes] = settings.keys or keys_from_environment(
        dict(environ) if environ is not None else None
    )
    if not keys:
        raise ConfigError(
            f"store.keys: the {settings.kind} store keeps conversations outside this process, "
            "so it needs an encryption key; make one with `redirection-bot store-key` and put "
            f"it in store.keys or in the environment variable {KEYS_ENVIRONMENT_VARIABLE}"
        )
    inner: SessionStore
    if settings.kind is StoreKind.SQLITE:
        from redirection_bot.store.sqlite import SqliteStore  # noqa: PLC0415

        inner = SqliteStore(settings.path)
    else:
        try:
            from redirection_bot.store.redis import RedisStore  # noqa: PLC0415
        except ImportError as error:
            raise ConfigError(
                "store.kind: redis needs the redis package: pip install 'redirection-bot[redis]'"
            ) from error
        inner = RedisStore.from_url(settings.url, prefix=settings.prefix)
    return encrypted(inner, Keyring(list(keys)))


async def sweep_forever(store: SessionStore, every_seconds: float) -> None:
    """Remove idle sessions now and then, until cancelled (Redis expires them itself)."""
    while True:
        with contextlib.suppress(StoreUnavailable):
            removed = await store.expire()
            if removed:
                log_event("sessions expired", count=removed)
        await asyncio.sleep(every_seconds)
