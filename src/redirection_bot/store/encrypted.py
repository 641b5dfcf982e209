"""Encryption at rest for any store: sealed data under hashed names.

``EncryptedStore`` wraps a store so that what it keeps is AES-GCM ciphertext (crypto.Keyring)
under a keyed hash of the session id: whoever reads the SQLite file or Redis's memory sees
neither what was said nor whose session it is. Each blob is bound to its name (associated
data), so blobs cannot be swapped between sessions.

What is sealed is padded first (``crypto.pad``): a blob's length tells only a size bucket,
not how much the person typed.

The newest key's name of a session is hashed once and kept while the process runs (at most
``NAMES_KEPT``; dropped when the session is deleted): a turn reads, saves and locks under it.

Rotation: sessions written under an older key are found under that key's hashed name, read,
and moved to the newest key's name on their next save.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from redirection_bot.operations.crypto import DecryptionError, Keyring, pad, unpad
from redirection_bot.operations.logs import log_event
from redirection_bot.store import (
    LockingStore,
    SessionStore,
    StoredSession,
    VersionConflict,
    kept_since,
    store_ready,
)

NAMES_KEPT = 4096
"""At most this many sessions' names are kept; more live conversations than that at once
hash some names again."""


class EncryptedStore:
    """A store whose data is sealed with the operator's keys before it leaves the process."""

    def __init__(self, inner: SessionStore, keyring: Keyring) -> None:
        self.inner = inner
        self.keyring = keyring
        self.shared_between_processes: bool = getattr(inner, "shared_between_processes", False)
        self._names: dict[str, str] = {}

    def _name(self, key: str, index: int = 0) -> str:
        """The stored name of session ``key`` under key ``index`` of the ring (0: the newest,
        hashed once per session: every turn reads and saves it, and a locking store locks it)."""
        if index:
            return self.keyring.lookup_key(key, index)
        name = self._names.get(key)
        if name is None:
            if len(self._names) >= NAMES_KEPT:
                self._names.clear()
            name = self._names[key] = self.keyring.lookup_key(key)
        return name

    async def get(self, key: str) -> StoredSession | None:
        for index in range(len(self.keyring)):
            name = self._name(key, index)
            stored = await self.inner.get(name)
            if stored is None:
                continue
            try:
                data = unpad(self.keyring.open(stored.data, name.encode()))
            except DecryptionError:
                # Sealed under a key the operator has since removed: it can never be read again.
                log_event("session unreadable", reason="key")
                await self.inner.delete(name)
                return None
            return StoredSession(data, stored.version)
        return None

    async def save(
        self,
        key: str,
        data: bytes,
        expected_version: int | None,
        ttl_seconds: float,
        *,
        final: bool = False,
    ) -> int:
        name = self._name(key)
        sealed = self.keyring.seal(pad(data), name.encode())
        try:
            return await self.inner.save(name, sealed, expected_version, ttl_seconds, final=final)
        except VersionConflict:
            if expected_version is None:
                raise
            old_name = await self._older_name_at(key, expected_version)
            if old_name is None:
                raise
        version = await self.inner.save(name, sealed, None, ttl_seconds)
        await self.inner.delete(old_name)
        return version

    async def _older_name_at(self, key: str, version: int) -> str | None:
        """The name the session has under an older key, if it is there at ``version``."""
        for index in range(1, len(self.keyring)):
            name = self._name(key, index)
            stored = await self.inner.get(name)
            if stored is not None and stored.version == version:
                return name
        return None

    async def delete(self, key: str) -> None:
        for index in range(len(self.keyring)):
            await self.inner.delete(self._name(key, index))
        self._names.pop(key, None)

    async def expire(self) -> int:
        return await self.inner.expire()

    async def ping(self) -> bool:
        return await store_ready(self.inner)

    async def kept_since(self) -> float | None:
        return await kept_since(self.inner)

    async def close(self) -> None:
        await self.inner.close()


class LockingEncryptedStore(EncryptedStore):
    """An encrypted store over one that locks across processes; locks use the hashed name too."""

    def __init__(self, inner: SessionStore, locking: LockingStore, keyring: Keyring) -> None:
        super().__init__(inner, keyring)
        self._locking = locking

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        return self._locking.lock(self._name(key))


def encrypted(inner: SessionStore, keyring: Keyring) -> EncryptedStore:
    """``inner`` behind encryption, keeping its cross-process lock if it has one."""
    if isinstance(inner, LockingStore):
        return LockingEncryptedStore(inner, inner, keyring)
    return EncryptedStore(inner, keyring)
