"""Resume phrases: coming back later, still anonymous.

At the end of a module a person may ask for a phrase of ``PHRASE_WORDS`` words from a fixed
word list (the last word is a check word, so that typos and ordinary sentences are told
apart from phrases). The phrase is shown once and never kept. A copy of the session is
"parked" under a name and a key both derived from the phrase with scrypt (memory-hard): the
server cannot read it, nor even find it, without the phrase. Typing the phrase in any
connector brings the person back to where they were, with their plan. Parked copies expire
after a configurable time (30 days by default).

Wrong phrases are counted per session and for the whole service (``AttemptLimiter``), and
every failure, whatever its cause, gets the same gentle answer.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import secrets
from dataclasses import dataclass
from importlib import resources

from redirection_bot.store import SessionStore, StoredSession, VersionConflict
from redirection_bot.textnorm import fold

RESUME_ACTION = "action_resume_phrase"
PHRASE_WORDS = 6
DEFAULT_RESUME_TTL_SECONDS = 30 * 24 * 3600
SCRYPT_COST = 2**15
"""scrypt's N: 32 MiB and about 0.1 s per phrase on one core."""


class ResumeKeys:
    """Texts the resume feature says; a program that offers phrases has them in every locale."""

    PHRASE = "resume.phrase"
    """Shows the new phrase once: ``%{phrase}``."""
    RESTORED = "resume.restored"
    NOT_FOUND = "resume.not_found"
    """The one answer to every failed attempt (wrong, expired, erased, too many tries)."""
    UNAVAILABLE = "resume.unavailable"
    """Said by the action where no runtime can keep phrases (a plain Rasa action server)."""

    @classmethod
    def all(cls) -> tuple[str, ...]:
        return tuple(value for name, value in vars(cls).items() if name.isupper())


@functools.cache
def word_list() -> tuple[str, ...]:
    text = resources.files("redirection_bot").joinpath("resume_words.txt").read_text("utf-8")
    words = [line.strip() for line in text.splitlines()]
    return tuple(word for word in words if word and not word.startswith("#"))


@functools.cache
def _word_set() -> frozenset[str]:
    return frozenset(word_list())


def check_word(words: tuple[str, ...]) -> str:
    """The check word for the random words of a phrase."""
    digest = hashlib.sha256(" ".join(words).encode()).digest()
    return word_list()[int.from_bytes(digest[:8], "big") % len(word_list())]


def new_phrase() -> tuple[str, ...]:
    """A fresh phrase: random words from the list, then their check word."""
    chosen = tuple(secrets.choice(word_list()) for _ in range(PHRASE_WORDS - 1))
    return (*chosen, check_word(chosen))


@dataclass(frozen=True, slots=True)
class PhraseAttempt:
    """A message that has the shape of a phrase; ``checked``: its check word is right."""

    words: tuple[str, ...]
    checked: bool


def read_phrase(text: str) -> PhraseAttempt | None:
    """The phrase in a message, or None when the message is not shaped like one.

    Spaces, commas, hyphens and capitals do not matter: "Acorn-river, ..." reads as
    "acorn river ...".
    """
    words = tuple(fold(text).split())
    if len(words) != PHRASE_WORDS or not all(word in _word_set() for word in words):
        return None
    return PhraseAttempt(words, check_word(words[:-1]) == words[-1])


@dataclass(frozen=True, slots=True)
class PhraseKey:
    """What a phrase opens: the parked copy's name and the key that seals it."""

    name: str
    cipher_key: bytes


def derive_key(words: tuple[str, ...], cost: int = SCRYPT_COST) -> PhraseKey:
    """scrypt over the phrase: 32 bytes of key, and 32 more hashed into the copy's name."""
    derived = hashlib.scrypt(
        " ".join(words).encode(),
        salt=b"redirection-bot resume phrase v1",
        n=cost,
        r=8,
        p=1,
        maxmem=256 * cost * 8 + 2**20,
        dklen=64,
    )
    digest = hashlib.sha256(derived[32:]).digest()
    return PhraseKey("resume:" + base64.urlsafe_b64encode(digest).decode(), derived[:32])


class AttemptLimiter:
    """Counts phrase attempts in the store, so every instance sees the same counts.

    A count lives as long as attempts keep coming: after ``per_session`` attempts in one
    session (or ``overall`` in the whole service), the next succeed only after a quiet
    ``window_seconds``.
    """

    def __init__(
        self,
        store: SessionStore,
        per_session: int = 5,
        overall: int = 120,
        window_seconds: float = 600.0,
    ) -> None:
        self._store = store
        self.per_session = per_session
        self.overall = overall
        self.window_seconds = window_seconds

    async def allow(self, session_id: str) -> bool:
        mine = await self._count("attempts:session:" + session_id)
        everyone = await self._count("attempts:all")
        return mine <= self.per_session and everyone <= self.overall

    async def forgive(self, session_id: str) -> None:
        await self._store.delete("attempts:session:" + session_id)

    async def _count(self, name: str) -> int:
        for _ in range(20):
            stored = await self._store.get(name)
            count = int(stored.data) + 1 if stored is not None else 1
            try:
                await self._store.save(
                    name,
                    str(count).encode(),
                    stored.version if stored is not None else None,
                    self.window_seconds,
                )
            except VersionConflict:
                continue  # another attempt counted at the same moment: count again
            return count
        return self.per_session + self.overall + 1  # contended beyond reason: refuse


class ResumeVault:
    """Parked copies of sessions, each sealed under its own phrase."""

    def __init__(
        self,
        store: SessionStore,
        ttl_seconds: float = DEFAULT_RESUME_TTL_SECONDS,
        limiter: AttemptLimiter | None = None,
        cost: int = SCRYPT_COST,
    ) -> None:
        self._store = store
        self.ttl_seconds = ttl_seconds
        self.limiter = limiter or AttemptLimiter(store)
        self.cost = cost

    async def key_for(self, words: tuple[str, ...]) -> PhraseKey:
        """Derive a phrase's key in a worker thread (scrypt takes a tenth of a second)."""
        return await asyncio.to_thread(derive_key, words, self.cost)

    async def park(self, key: PhraseKey, data: bytes) -> None:
        # cryptography (about 7 MB) is imported when a phrase is first used, not at start
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

        nonce = secrets.token_bytes(12)
        sealed = nonce + AESGCM(key.cipher_key).encrypt(nonce, data, key.name.encode())
        await self._store.delete(key.name)
        await self._store.save(key.name, sealed, None, self.ttl_seconds)

    async def open(self, key: PhraseKey) -> bytes | None:
        from cryptography.exceptions import InvalidTag  # noqa: PLC0415
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

        stored: StoredSession | None = await self._store.get(key.name)
        if stored is None or len(stored.data) < 12:
            return None
        try:
            return AESGCM(key.cipher_key).decrypt(
                stored.data[:12], stored.data[12:], key.name.encode()
            )
        except InvalidTag:
            return None

    async def forget(self, name: str) -> None:
        await self._store.delete(name)
