"""Encryption at rest: AES-256-GCM under the operator's keys, with rotation.

A ``Keyring`` holds one or more 32-byte keys; the first encrypts, every one of them decrypts,
so a key is rotated by putting a new one first and keeping the old ones until the data they
sealed has expired. A sealed blob is ``version (1) | key id (4) | nonce (12) | ciphertext+tag``;
the key id only says which key to try first.

Store keys (session ids, which may be connector identifiers) are never stored as they are:
``lookup_key`` turns them into a keyed hash, different for every key of the ring.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence

from redirection_bot.errors import ConfigError, RedirectionBotError

KEY_BYTES = 32
NONCE_BYTES = 12
_FORMAT = 1
_KEY_ID_BYTES = 4
_HEADER_BYTES = 1 + _KEY_ID_BYTES + NONCE_BYTES


class DecryptionError(RedirectionBotError):
    """A sealed blob could not be opened: wrong key, or damaged data."""


def new_key_text() -> str:
    """A fresh random key, as operators write it in config or the environment."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def parse_key(text: str, where: str) -> bytes:
    """A key from its base64 text; ``where`` names the setting, for the error message."""
    try:
        stripped = text.strip().rstrip("=")
        padded = stripped + "=" * (-len(stripped) % 4)
        key = base64.b64decode(padded.encode(), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as error:
        raise ConfigError(f"{where}: an encryption key must be base64 text") from error
    if len(key) != KEY_BYTES:
        raise ConfigError(
            f"{where}: an encryption key must be {KEY_BYTES} bytes ({len(key)} given); "
            "make one with `redirection-bot store-key`"
        )
    return key


def _derive(key: bytes, purpose: bytes) -> bytes:
    return hmac.new(key, b"redirection-bot/" + purpose, hashlib.sha256).digest()


class Keyring:
    """The operator's keys, newest first."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        # cryptography (about 7 MB) is imported when a ring is made: a bot with the memory
        # store and no resume phrase in use never needs it
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

        if not keys:
            raise ConfigError("at least one encryption key is needed")
        for key in keys:
            if len(key) != KEY_BYTES:
                raise ConfigError(f"an encryption key must be {KEY_BYTES} bytes")
        self._keys = list(keys)
        self._ids = [_derive(key, b"key-id")[:_KEY_ID_BYTES] for key in keys]
        self._ciphers = [AESGCM(_derive(key, b"seal")) for key in keys]
        self._lookup = [_derive(key, b"lookup") for key in keys]

    @classmethod
    def generate(cls) -> Keyring:
        """A ring with one random key: for stores that live no longer than the process."""
        return cls([secrets.token_bytes(KEY_BYTES)])

    def __len__(self) -> int:
        return len(self._keys)

    def seal(self, plaintext: bytes, associated: bytes = b"") -> bytes:
        """Encrypt with the newest key; ``associated`` is authenticated, not stored."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._ciphers[0].encrypt(nonce, plaintext, associated)
        return bytes([_FORMAT]) + self._ids[0] + nonce + sealed

    def open(self, blob: bytes, associated: bytes = b"") -> bytes:
        """Decrypt with whichever key sealed the blob; raise DecryptionError otherwise."""
        from cryptography.exceptions import InvalidTag  # noqa: PLC0415

        if len(blob) < _HEADER_BYTES or blob[0] != _FORMAT:
            raise DecryptionError("not a sealed blob")
        key_id, nonce, sealed = blob[1:5], blob[5:_HEADER_BYTES], blob[_HEADER_BYTES:]
        for index in self._order(key_id):
            try:
                return self._ciphers[index].decrypt(nonce, sealed, associated)
            except InvalidTag:
                continue
        raise DecryptionError("no key of the ring opens this blob")

    def _order(self, key_id: bytes) -> Iterable[int]:
        matching = [i for i, known in enumerate(self._ids) if known == key_id]
        return matching + [i for i in range(len(self._keys)) if i not in matching]

    def derived(self, purpose: str) -> tuple[bytes, ...]:
        """A key for ``purpose`` from each key of the ring, newest first: the same on every
        instance sharing the keys, and never the key itself."""
        return tuple(_derive(key, b"derived/" + purpose.encode()) for key in self._keys)

    def fingerprint(self, index: int = 0) -> str:
        """A keyed hash of a fixed label under key ``index``: instances sharing a store compare
        it to learn whether they share the key, without revealing it."""
        return _derive(self._keys[index], b"fingerprint").hex()[:32]

    def lookup_key(self, name: str, index: int = 0) -> str:
        """The stored name for ``name`` under key ``index`` (0: the newest)."""
        digest = hmac.new(self._lookup[index], name.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode()


PADDED_AT_LEAST = 1024
_PADDED = b"\x00"


def pad(data: bytes) -> bytes:
    """``data`` framed and padded with zeros to the next power of two (at least 1 KiB), so that
    a sealed blob's length says little about how much was typed. ``unpad`` reverses it."""
    framed = len(data).to_bytes(4, "big") + data
    size = PADDED_AT_LEAST
    while size < len(framed) + 1:
        size *= 2
    return _PADDED + framed + bytes(size - len(framed) - 1)


def unpad(data: bytes) -> bytes:
    """What ``pad`` padded; data stored before padding (JSON, never starting with a zero byte)
    is returned as it is."""
    if not data.startswith(_PADDED):
        return data
    length = int.from_bytes(data[1:5], "big")
    if len(data) < 5 + length:
        raise DecryptionError("padded data is shorter than its length says")
    return data[5 : 5 + length]
