"""Resume phrases: coming back later, still anonymous.

At the end of a module a person may ask for a phrase of ``PHRASE_WORDS`` words from a fixed
word list. The last word is a check word, keyed with the service's own secret
(``PhraseCheck``): typos and ordinary sentences are told apart from phrases, and a phrase made
up without the secret (a guess, a script) has one chance in 877 (589, 611) of a right check
word, so it is turned away before any scrypt. The phrase is shown once and never kept. A copy of the session is
"parked" under a name and a key both derived from the phrase with scrypt (memory-hard): the
server cannot read it, nor even find it, without the phrase. Typing the phrase in any
connector brings the person back to where they were, with their plan. Parked copies expire
after a configurable time (30 days by default).

Wrong phrases are counted per session and per bucket of phrases (``AttemptLimiter``, which
says why), and every failure, whatever its cause, gets the same gentle answer after the same
scrypt work: how long a wrong phrase takes tells nothing. scrypt runs in a ``WorkLane`` of a
few places with a short queue: phrases with a right check word that arrive by the hundred fill
the queue and are refused at once (``LaneFull``), instead of holding every person's restore
behind them for seconds and the process's memory at 32 MiB a try. A phrase with a wrong check
word is answered after as long as a try takes, on no core. Each parked copy is sealed under a
key of its own, drawn from the phrase and a random salt stored beside it (``ResumeVault``).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Generic, TypeVar

from redirection_bot.language.textnorm import fold
from redirection_bot.store import SessionStore, StoredSession, VersionConflict
from redirection_bot.work_lane import LaneFull, WorkLane

RESUME_ACTION = "action_resume_phrase"
PHRASE_WORDS = 6
DEFAULT_RESUME_TTL_SECONDS = 30 * 24 * 3600
SCRYPT_COST = 2**15
"""scrypt's N: 32 MiB and about 0.1 s per phrase on one core."""
TRIES_AT_ONCE = 2
"""scrypts run at once by one process (32 MiB each): about a core each."""
TRIES_WAITING = 32
"""scrypts that may wait for a place; one more is refused (``LaneFull``): at most about two
seconds of waiting for a phrase that is let in (8 let ten scripted senders turn every person
away: attack 7)."""


class ResumeKeys:
    """Texts the resume feature says; a program that offers phrases has them in every locale."""

    PHRASE = "resume.phrase"
    """Shows the new phrase once: ``%{phrase}``."""
    RESTORED = "resume.restored"
    PROGRESS = "resume.progress"
    """A ``progress`` rating again after coming back: ``%{earlier}``, ``%{today}``."""
    NOT_FOUND = "resume.not_found"
    """The one answer to every failed attempt (wrong, expired, erased, too many tries)."""
    BUSY = "resume.busy"
    """Too many phrases were waiting to be tried: this one was not tried (nor counted)."""
    UNAVAILABLE = "resume.unavailable"
    """Said by the action where no runtime can keep phrases (a plain Rasa action server)."""

    @classmethod
    def all(cls) -> tuple[str, ...]:
        return tuple(value for name, value in vars(cls).items() if name.isupper())


WORD_LISTS = {"en": "resume_words.txt", "es": "resume_words.es.txt", "fi": "resume_words.fi.txt"}
"""A word list per language (``resume_words.*.txt``, each header says how it was made)."""
FALLBACK_WORDS = "en"


def words_language(locale: str) -> str:
    """The language whose list gives a conversation its words: its own, else English."""
    language = locale.replace("_", "-").split("-")[0].casefold()
    return language if language in WORD_LISTS else FALLBACK_WORDS


@functools.cache
def word_list(locale: str) -> tuple[str, ...]:
    """The words of the locale's list, as shown (Spanish and Finnish with their accents)."""
    name = WORD_LISTS[words_language(locale)]
    text = resources.files("redirection_bot.store").joinpath(name).read_text("utf-8")
    words = [line.strip() for line in text.splitlines()]
    return tuple(word for word in words if word and not word.startswith("#"))


@functools.cache
def _folded_set(language: str) -> frozenset[str]:
    return frozenset(fold(word) for word in word_list(language))


def check_word(words: tuple[str, ...], locale: str, secret: bytes | None = None) -> str:
    """The check word, from the locale's list, for the random words of a phrase: keyed with
    ``secret`` (an HMAC), or public (a plain hash, as phrases were made before 2026-12-05).

    Computed over the words as read (folded: "café" and "cafe" alike), which for the English
    list are the words themselves, so English phrases given before the other lists still open.
    """
    folded = " ".join(fold(word) for word in words).encode()
    keyed = hmac.new(secret, folded, hashlib.sha256) if secret is not None else None
    digest = keyed.digest() if keyed is not None else hashlib.sha256(folded).digest()
    chosen = word_list(locale)
    return chosen[int.from_bytes(digest[:8], "big") % len(chosen)]


@dataclass(frozen=True, slots=True)
class PhraseAttempt:
    """A message that has the shape of a phrase. ``checked``: its check word is right, keyed
    or public (a phrase, not a sentence); ``keyed``: right under the service's secret (a
    phrase this service gave, or a lucky guess: one in 877)."""

    words: tuple[str, ...]
    checked: bool
    keyed: bool = False


@dataclass(frozen=True, slots=True)
class PhraseCheck:
    """How a phrase's last word follows from the five before it.

    Keyed (``secret``): an HMAC of the five words under a secret the service keeps in its
    store, so that only the service can make a phrase with a right check word, and a made-up
    phrase is turned away before its scrypt (876 in 877). Without a secret, public: the plain
    hash phrases were given with before; such phrases are still tried until ``old_until``
    (Unix time: one resume lifetime after the service first kept a secret), in a lane of their
    own. The check word adds nothing to what a phrase protects (that is the five random words
    and scrypt); it decides only which phrases are worth a scrypt.
    """

    secret: bytes | None = None
    old_until: float = 0.0

    def word(self, words: tuple[str, ...], locale: str) -> str:
        return check_word(words, locale, self.secret)

    def new_phrase(self, locale: str) -> tuple[str, ...]:
        """A fresh phrase in the conversation's language: random words from its list, then
        their check word (English where the locale has no list)."""
        chosen = tuple(secrets.choice(word_list(locale)) for _ in range(PHRASE_WORDS - 1))
        return (*chosen, self.word(chosen, locale))

    def read(self, text: str) -> PhraseAttempt | None:
        """The phrase in a message, from any language's list, or None when the message is not
        shaped like one: whatever language the conversation is in now, words given in another
        still open the copy.

        Spaces, commas, hyphens, capitals and accents do not matter: "Acorn-river, ..." reads
        as "acorn river ...", "Limón" as "limon". Six words of which all but one are from one
        list are an attempt too (a word mistyped, "exakt" for "exact"): it cannot open
        anything, but gets the same gentle answer as any wrong phrase, not "I didn't
        understand" (docs/operators.md).
        """
        words = tuple(fold(text).split())
        if len(words) != PHRASE_WORDS:
            return None
        attempt: PhraseAttempt | None = None
        for language in WORD_LISTS:
            known = sum(word in _folded_set(language) for word in words)
            if known < PHRASE_WORDS - 1:
                continue
            if known == PHRASE_WORDS:
                keyed = fold(self.word(words[:-1], language)) == words[-1]
                public = fold(check_word(words[:-1], language)) == words[-1]
                if keyed or public:
                    return PhraseAttempt(words, True, keyed)
            attempt = PhraseAttempt(words, False)
        return attempt


PUBLIC_CHECK = PhraseCheck()
"""Phrases as they were made before check words were keyed (and as tests make guesses)."""


def new_phrase(locale: str) -> tuple[str, ...]:
    """A phrase with a public check word: what anyone can make without the service's secret."""
    return PUBLIC_CHECK.new_phrase(locale)


def read_phrase(text: str, check: PhraseCheck = PUBLIC_CHECK) -> PhraseAttempt | None:
    """``check.read(text)``."""
    return check.read(text)


CHECK_SECRET_NAME = "phrase-check:v1"
"""Where the store keeps the check words' secret and ``old_until`` (sealed like everything
else where ``store.encryption_key`` is set)."""
CHECK_SECRET_BYTES = 32
CHECK_SECRET_KEPT_SECONDS = 100 * 365 * 86400.0
"""The secret outlives every phrase made with it: it is no one's data."""
CHECK_REREAD_SECONDS = 60.0
OLD_TRIES_AT_ONCE = 1
OLD_TRIES_WAITING = 4
"""The lane for phrases with a public check word, while they are still tried: a flood of made-up
phrases there holds at most one core and turns away only phrases given before keyed words."""


@dataclass(frozen=True, slots=True)
class PhraseKey:
    """What a phrase opens: the parked copy's name and the key that seals it."""

    name: str
    cipher_key: bytes


def derive_key(words: tuple[str, ...], cost: int = SCRYPT_COST) -> PhraseKey:
    """scrypt over the phrase as read (folded, so "Limón" and "limon" open the same copy; an
    English phrase is its own folding): 32 bytes of key, and 32 more hashed into the copy's
    name."""
    derived = hashlib.scrypt(
        " ".join(fold(word) for word in words).encode(),
        salt=b"redirection-bot resume phrase v1",
        n=cost,
        r=8,
        p=1,
        maxmem=256 * cost * 8 + 2**20,
        dklen=64,
    )
    digest = hashlib.sha256(derived[32:]).digest()
    return PhraseKey("resume:" + base64.urlsafe_b64encode(digest).decode(), derived[:32])


BUCKET_WORDS = 2
"""Phrases are counted in buckets by their first two words: 877² = 769,129 buckets of English
phrases, 589² = 346,921 of Spanish ones, 611² = 373,321 of Finnish ones."""


def bucket_of(words: tuple[str, ...]) -> str:
    """The bucket a phrase is counted in, as a hash (no word of a phrase is stored)."""
    prefix = " ".join(fold(word) for word in words[:BUCKET_WORDS]).encode()
    return hashlib.blake2b(prefix, person=b"resume-bucket", digest_size=12).hexdigest()


class AttemptLimiter:
    """Counts wrong phrases in the store, so every instance sees the same counts.

    Only wrong phrases count (a person who comes back costs nothing), in fixed windows of
    ``window_seconds`` that no attempt extends, and in two places: the session they were
    typed in (``per_session``), and the bucket of phrases they fall in, by their first two
    words (``per_bucket``). A full bucket refuses every phrase of that bucket until its
    window ends, the right one too: so guessing is slowed however many sessions a guesser
    opens. A bucket holds one phrase in 346,921 or more of those given in its language, so a
    guesser who fills one delays almost nobody, and to delay everyone they would have to fill
    every bucket: some 7.5 million wrong phrases (1.75 million for Spanish alone) in one
    window, each costing the service a scrypt (about 0.1 s of a core), which no instance
    could even be made to compute. One count for the whole
    service, as before, was that lock: 120 wrong phrases shut every person out.
    """

    def __init__(
        self,
        store: SessionStore,
        per_session: int = 5,
        per_bucket: int = 5,
        window_seconds: float = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self.per_session = per_session
        self.per_bucket = per_bucket
        self.window_seconds = window_seconds
        self._clock = clock

    async def allow(self, session_id: str, words: tuple[str, ...]) -> bool:
        """Whether this phrase may be tried now (counts nothing)."""
        session, bucket = self._names(session_id, words)
        return (
            await self._count(session) < self.per_session
            and await self._count(bucket) < self.per_bucket
        )

    async def failed(self, session_id: str, words: tuple[str, ...]) -> None:
        """Count a wrong phrase, in its session and its bucket."""
        for name in self._names(session_id, words):
            await self._add_one(name)

    async def forgive(self, session_id: str) -> None:
        """The person came back: their session's wrong tries are forgotten."""
        await self._store.delete(self._names(session_id, ())[0])

    def _names(self, session_id: str, words: tuple[str, ...]) -> tuple[str, str]:
        window = int(self._clock() // self.window_seconds)
        return (
            f"attempts:session:{window}:{session_id}",
            f"attempts:bucket:{window}:{bucket_of(words)}",
        )

    def _left_in_window(self) -> float:
        return self.window_seconds - self._clock() % self.window_seconds + 1.0

    async def _count(self, name: str) -> int:
        stored = await self._store.get(name)
        return int(stored.data) if stored is not None else 0

    async def _add_one(self, name: str) -> None:
        for _ in range(20):
            stored = await self._store.get(name)
            count = int(stored.data) + 1 if stored is not None else 1
            version = stored.version if stored is not None else None
            try:
                await self._store.save(name, str(count).encode(), version, self._left_in_window())
            except VersionConflict:
                continue  # another attempt counted at the same moment: count again
            return


RECENT_KEYS = 4096
RECENT_SECONDS = 600.0
RESTORE_RANK = 0
NEW_WORDS_RANK = 1
"""A person's words to come back go before new words being made (``WorkLane`` ranks): a
script asking for new words by the hundred (attack 10) never turns a returning person away."""


_V = TypeVar("_V")


class _Lately(Generic[_V]):
    """Values by tag for ``seconds`` after they were kept, at most ``size`` (the oldest go)."""

    def __init__(self, size: int, seconds: float, clock: Callable[[], float]) -> None:
        self.size, self.seconds, self._clock = size, seconds, clock
        self.values: OrderedDict[bytes, tuple[_V, float]] = OrderedDict()

    def get(self, tag: bytes) -> _V | None:
        found = self.values.get(tag)
        if found is None:
            return None
        if found[1] <= self._clock():
            del self.values[tag]
            return None
        return found[0]

    def keep(self, tag: bytes, value: _V) -> None:
        self.values[tag] = (value, self._clock() + self.seconds)
        self.values.move_to_end(tag)
        while len(self.values) > self.size:
            self.values.popitem(last=False)


class OpenedRecently:
    """The keys of phrases that opened their copy lately, by a keyed hash of the phrase (a key
    of this process alone), for ``RECENT_SECONDS``, at most ``RECENT_KEYS``: the same words
    typed again (a person coming back twice, a script replaying one real phrase by the dozen,
    attack 9) cost no second scrypt. Only a phrase that opened a copy is kept, so a guess is
    never cheaper, and knowing that a phrase comes back quickly needs the phrase. Words that
    found no copy are remembered as long, so that typed again they cost no scrypt either
    (attack 10 replayed words given and since replaced, by the hundred). In memory only; an
    erased copy's key is dropped at once."""

    def __init__(
        self,
        size: int = RECENT_KEYS,
        seconds: float = RECENT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._secret = secrets.token_bytes(32)
        self._keys: _Lately[PhraseKey] = _Lately(size, seconds, clock)
        self._failed: _Lately[bool] = _Lately(size, seconds, clock)

    def tag(self, words: tuple[str, ...]) -> bytes:
        folded = " ".join(fold(word) for word in words).encode()
        return hmac.new(self._secret, folded, hashlib.sha256).digest()

    def get(self, tag: bytes) -> PhraseKey | None:
        return self._keys.get(tag)

    def keep(self, tag: bytes, key: PhraseKey) -> None:
        self._keys.keep(tag, key)

    def failed(self, tag: bytes) -> None:
        self._failed.keep(tag, True)

    def failed_lately(self, tag: bytes) -> bool:
        return self._failed.get(tag) is not None

    def drop(self, name: str) -> None:
        kept = self._keys.values
        for tag in [tag for tag, (key, _until) in kept.items() if key.name == name]:
            del kept[tag]


def _written_check(check: PhraseCheck) -> bytes:
    """``secret-in-hex old_until``, as text."""
    assert check.secret is not None
    return f"{check.secret.hex()} {check.old_until!r}".encode()


def _read_check(data: bytes) -> PhraseCheck:
    secret, old_until = data.decode().split()
    return PhraseCheck(bytes.fromhex(secret), float(old_until))


SALTED = b"rv2:"
SALT_BYTES = 16
NONCE_BYTES = 12


def _salted(cipher_key: bytes, salt: bytes) -> bytes:
    """A parked copy's own key: the phrase's key extracted with the copy's salt (HKDF's
    extract step)."""
    return hmac.new(salt, cipher_key, hashlib.sha256).digest()


class ResumeVault:
    """Parked copies of sessions, each sealed under its own phrase and salt.

    The copy's name comes from the phrase alone (scrypt with the service's one salt), since it
    must be found from the phrase; its key, from the phrase and a random salt kept beside it,
    so that no two copies share a key. What stops a search of a stolen store is scrypt over
    877⁵ phrases (589⁵ for Spanish, 611⁵ for Finnish: 46 bits), and, with
    ``store.encryption_key`` set, that the store's contents and names are sealed under a key
    the thief does not hold (docs/safety.md).
    """

    def __init__(
        self,
        store: SessionStore,
        ttl_seconds: float = DEFAULT_RESUME_TTL_SECONDS,
        limiter: AttemptLimiter | None = None,
        cost: int = SCRYPT_COST,
        lane: WorkLane | None = None,
        old_phrases: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``old_phrases``: the store may hold copies parked under public check words (a store
        kept across versions: SQLite, Redis), to be tried for one more resume lifetime."""
        self._store = store
        self.ttl_seconds = ttl_seconds
        self.limiter = limiter or AttemptLimiter(store)
        self.cost = cost
        self.lane = lane or WorkLane(TRIES_AT_ONCE, TRIES_WAITING)
        self.old_lane = WorkLane(OLD_TRIES_AT_ONCE, OLD_TRIES_WAITING)
        self.old_phrases = old_phrases
        self._clock = clock
        self.check: PhraseCheck | None = None
        """The check words' secret, as last read from the store (``phrase_check``)."""
        self._check_until = 0.0
        self._reading = asyncio.Lock()
        self._try_seconds = 0.1 * cost / SCRYPT_COST
        """How long a scrypt takes here lately: what a phrase with a wrong check word waits."""
        self.recent = OpenedRecently()
        self._deriving: dict[bytes, asyncio.Future[PhraseKey]] = {}

    async def phrase_check(self) -> PhraseCheck:
        """The service's ``PhraseCheck``, from the store; the first instance to need it makes
        the secret, and every other one (and every restart) reads the same. Read again every
        ``CHECK_REREAD_SECONDS``: a store that lost everything (Redis flushed) gets the secret
        back from the first instance to read it, and the others take that one."""
        if self.check is not None and self._clock() < self._check_until:
            return self.check
        async with self._reading:
            if self.check is not None and self._clock() < self._check_until:
                return self.check
            while True:
                stored = await self._store.get(CHECK_SECRET_NAME)
                if stored is not None:
                    found = _read_check(stored.data)
                    break
                old_until = self._clock() + self.ttl_seconds if self.old_phrases else 0.0
                found = self.check or PhraseCheck(
                    secrets.token_bytes(CHECK_SECRET_BYTES), old_until
                )
                try:
                    await self._store.save(
                        CHECK_SECRET_NAME, _written_check(found), None, CHECK_SECRET_KEPT_SECONDS
                    )
                except VersionConflict:
                    continue  # another instance wrote it at the same moment: read theirs
                break
            self.check, self._check_until = found, self._clock() + CHECK_REREAD_SECONDS
        return found

    async def new_phrase(self, locale: str) -> tuple[str, ...]:
        return (await self.phrase_check()).new_phrase(locale)

    async def key_for(
        self, words: tuple[str, ...], lane: WorkLane | None = None, rank: int = NEW_WORDS_RANK
    ) -> PhraseKey:
        """Derive a phrase's key in the lane's worker threads (scrypt takes a tenth of a
        second); ``LaneFull`` when too many phrases are waiting already."""

        def timed() -> tuple[PhraseKey, float]:
            started = time.perf_counter()
            return derive_key(words, self.cost), time.perf_counter() - started

        key, seconds = await (lane or self.lane).run(timed, rank)
        # The scrypt's own time, not its wait: what a wrong check word waits, flood or not.
        self._try_seconds = 0.8 * self._try_seconds + 0.2 * seconds
        return key

    async def restore(
        self, session_id: str, phrase: PhraseAttempt
    ) -> tuple[PhraseKey, bytes] | None:
        """The copy parked under ``phrase`` and its key, within the limits; None for every
        failure. What is refused before its scrypt (a wrong check word, too many tries, words
        that found nothing a moment ago) waits as long as a scrypt takes lately, on no core,
        so that a wrong phrase takes as long wherever it fails; words that opened their copy
        lately cost no scrypt at all. ``LaneFull`` (nothing tried, nothing counted) when too
        many phrases are waiting."""
        check = await self.phrase_check()
        old = phrase.checked and not phrase.keyed and self._clock() < check.old_until
        if not phrase.keyed and not old:
            if self.lane.full:
                raise LaneFull  # as a phrase with a right check word would be told now
            await asyncio.sleep(self._try_seconds)
            return None
        tag = self.recent.tag(phrase.words)
        key = self.recent.get(tag)
        if key is None and (
            self.recent.failed_lately(tag) or not await self.limiter.allow(session_id, phrase.words)
        ):
            # Refused before any scrypt (too many tries, or the same words found nothing a
            # moment ago: words given and since replaced, replayed by a script), after as long
            # as a scrypt takes.
            await asyncio.sleep(self._try_seconds)
            return None
        key = key or await self._derived_once(
            tag, phrase.words, self.old_lane if old else self.lane
        )
        data = await self.open(key)
        if data is None:
            self.recent.failed(tag)
            await self.limiter.failed(session_id, phrase.words)
            return None
        self.recent.keep(tag, key)
        await self.limiter.forgive(session_id)
        return key, data

    async def _derived_once(self, tag: bytes, words: tuple[str, ...], lane: WorkLane) -> PhraseKey:
        """The phrase's key; the same words typed again while their scrypt runs wait for it
        instead of queueing another (a script replaying one phrase by the dozen)."""
        pending = self._deriving.get(tag)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[PhraseKey] = asyncio.get_running_loop().create_future()
        self._deriving[tag] = future
        try:
            key = await self.key_for(words, lane, RESTORE_RANK)
        except BaseException as error:
            # Those waiting for these words are told to try again if this asker went away.
            future.set_exception(error if isinstance(error, Exception) else LaneFull())
            future.exception()  # retrieved here: no warning when nobody waited
            raise
        finally:
            del self._deriving[tag]
        future.set_result(key)
        return key

    async def park(self, key: PhraseKey, data: bytes) -> None:
        # cryptography (about 7 MB) is imported when a phrase is first used, not at start
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

        salt, nonce = secrets.token_bytes(SALT_BYTES), secrets.token_bytes(NONCE_BYTES)
        cipher = AESGCM(_salted(key.cipher_key, salt))
        sealed = SALTED + salt + nonce + cipher.encrypt(nonce, data, key.name.encode())
        await self._store.delete(key.name)
        await self._store.save(key.name, sealed, None, self.ttl_seconds)

    async def open(self, key: PhraseKey) -> bytes | None:
        """The parked copy: ``SALTED | salt | nonce | sealed``, or as copies parked before
        salts were kept (``nonce | sealed`` under the phrase's key itself), still read until
        they expire (30 days by default)."""
        from cryptography.exceptions import InvalidTag  # noqa: PLC0415
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

        stored: StoredSession | None = await self._store.get(key.name)
        if stored is None:
            return None
        data, context = stored.data, key.name.encode()
        header = len(SALTED) + SALT_BYTES
        if data.startswith(SALTED) and len(data) > header + NONCE_BYTES:
            salt, nonce = data[len(SALTED) : header], data[header : header + NONCE_BYTES]
            try:
                cipher = AESGCM(_salted(key.cipher_key, salt))
                return cipher.decrypt(nonce, data[header + NONCE_BYTES :], context)
            except InvalidTag:
                pass  # an earlier copy whose nonce began like this: read it as one
        if len(data) < NONCE_BYTES:
            return None
        try:
            return AESGCM(key.cipher_key).decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], context)
        except InvalidTag:
            return None

    async def forget(self, name: str) -> None:
        self.recent.drop(name)
        await self._store.delete(name)
