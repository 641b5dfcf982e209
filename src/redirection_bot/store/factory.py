"""Opening the configured store (``store:`` in operations/config.py) and the evaluation counts.

SQLite and Redis keep sessions outside the process, so they are always wrapped in
``EncryptedStore`` and refuse to start without a key; the memory store lives and dies with
the process and needs none. Evaluation counts are kept beside the sessions.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from redirection_bot.errors import ConfigError
from redirection_bot.operations.crypto import Keyring, parse_key
from redirection_bot.operations.evaluation import EvaluationCounts, MemoryCounts, SqliteCounts
from redirection_bot.operations.logs import log_event
from redirection_bot.store import SessionStore, StoreUnavailable
from redirection_bot.store.encrypted import encrypted
from redirection_bot.store.memory import MemoryStore
from redirection_bot.store.relay import EncryptedRelay, MemoryRelay, Relay

if TYPE_CHECKING:
    from redirection_bot.operations.config import StoreSettings


def open_store(settings: StoreSettings) -> SessionStore:
    """The configured store, encrypted when it keeps anything outside the process."""
    if settings.backend == "memory":
        return MemoryStore()
    if not settings.keys:
        raise ConfigError(
            f"store.keys: the {settings.backend} store keeps conversations outside this "
            "process, so it needs an encryption key; make one with `redirection-bot store-key` "
            "and give it as REDIRECTION_BOT_STORE__KEYS='[\"<key>\"]' (or in store.keys)"
        )
    keyring = Keyring([parse_key(key, f"store.keys[{n}]") for n, key in enumerate(settings.keys)])
    inner: SessionStore
    if settings.backend == "sqlite":
        from redirection_bot.store.sqlite import SqliteStore  # noqa: PLC0415

        inner = SqliteStore(settings.path)
    else:
        inner = _redis_store(settings, keyring)
    return encrypted(inner, keyring)


def open_relay(settings: StoreSettings) -> Relay:
    """The relay between instances for handoff conversations: Redis streams, sealed with the
    store's keys, beside a Redis store; in this process otherwise (one instance)."""
    if settings.backend != "redis":
        return MemoryRelay()
    try:
        from redirection_bot.store.redis import RedisRelay  # noqa: PLC0415
    except ImportError as error:
        raise ConfigError(_REDIS_MISSING) from error
    keyring = Keyring([parse_key(key, f"store.keys[{n}]") for n, key in enumerate(settings.keys)])
    relay = RedisRelay.from_url(
        settings.url, prefix=settings.prefix, connections=settings.redis_connections
    )
    return EncryptedRelay(relay, keyring)


def open_counts(settings: StoreSettings) -> EvaluationCounts:
    """Where anonymous evaluation counts are kept: beside the sessions."""
    if settings.backend == "sqlite":
        import sqlite3  # noqa: PLC0415 (as SqliteCounts: only with this backend)

        try:
            return SqliteCounts(settings.path)
        except sqlite3.Error as error:
            raise StoreUnavailable(
                f"store.path: cannot open the SQLite file {settings.path} ({error}); "
                "does its folder exist, and may this user write there?"
            ) from None
    if settings.backend == "redis":
        return _redis_counts(settings)
    return MemoryCounts()


_REDIS_MISSING = (
    "store.backend: redis needs the redis package: pip install 'redirection-bot[redis]'"
)


def _redis_store(settings: StoreSettings, keyring: Keyring) -> SessionStore:
    try:
        from redirection_bot.store.redis import (  # noqa: PLC0415
            REFUSED,
            KeyCheck,
            RedisStore,
            shares_key,
        )
    except ImportError as error:
        raise ConfigError(_REDIS_MISSING) from error
    fingerprints = [keyring.fingerprint(index) for index in range(len(keyring))]
    try:
        shared: bool | None = shares_key(settings.url, settings.prefix, fingerprints)
    except StoreUnavailable:
        # A helpline restarting during a Redis blip still serves its pages: each turn gets the
        # "try again" notice until Redis answers, and the keys are checked then (KeyCheck).
        log_event("store unavailable at start", level=logging.WARNING, reason="store.keys")
        shared = None
    if shared is False:
        raise ConfigError(REFUSED.replace("this Redis", f"this Redis (prefix {settings.prefix!r})"))
    return RedisStore.from_url(
        settings.url,
        prefix=settings.prefix,
        connections=settings.redis_connections,
        wait_seconds=settings.redis_wait_seconds,
        lock_seconds=settings.lease_seconds,
        key_check=KeyCheck(fingerprints, passed=shared is True),
    )


def _redis_counts(settings: StoreSettings) -> EvaluationCounts:
    try:
        from redirection_bot.store.redis import RedisCounts  # noqa: PLC0415
    except ImportError as error:
        raise ConfigError(_REDIS_MISSING) from error
    return RedisCounts.from_url(settings.url, settings.prefix)
