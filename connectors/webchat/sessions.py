"""The web chat's own memory of each conversation: its token, the transcript shown on the
page, the current choices, a rate-limit bucket and the live sockets watching it.

The conversation's state itself is the runtime's (in the session store); this is only what
a web page needs to draw it again. It lives in this process, and goes when the conversation
is erased or left idle for the store's time to live. It is a cache of the store, bounded by
``limits.max_sessions``: when it is full, the conversation seen least recently that no live
page follows makes room (it stays in the store, and its page is drawn again from there,
without the earlier lines, when it comes back). It never refuses a newcomer: otherwise
anyone could lock every new visitor out by opening conversations. A conversation with a live
page or a handoff followed is never dropped: the book may hold more than ``max_sessions`` by
as many (at most ``max_sockets`` and the open handoffs).

A conversation that made room is remembered, for its time to live, by a keyed hash of its id
(with a key of this process, kept nowhere) and its language: if the store then loses it
(Redis restarted without persistence), the person is told so, as when its page was still
here, instead of meeting an expired page or a silent new start.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import math
import re
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from redirection_bot.api import Shown, ShownChoice, TextLink, Waiting

from .plan_card import PlanCard

TOKEN_BYTES = 24
"""192 random bits: session tokens and anti-forgery tokens cannot be guessed."""
ISSUED_BYTES = 6
"""When a token was issued, in milliseconds (Unix time), sealed, after its random bytes."""
_CHECK_BYTES = 2
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}(?:[A-Za-z0-9_-]{11})?\Z")
"""A conversation's token: 43 characters (192 random bits, when it was issued, a check), or
32 (192 random bits only), as tokens were before they said when they were issued."""
WEB_PREFIX = "web:"
REST_PREFIX = "rest:"
TOKEN_KEYS = "webchat-token"
"""What the keys a ``TokenIssuer`` is given are for (``Runtime.channel_keys``)."""
UNSEALED = b"redirection-bot webchat token, a store without keys"
"""The key of a ``TokenIssuer`` over a store without keys (in memory, for trying the bot
out): the time is masked, not secret (this key is public), as it must still be read after
a restart to tell a person their conversation was lost."""


class TokenIssuer:
    """Issues conversation tokens that tell this server, and nobody else, when they were
    issued (``issued_at``): whether a conversation the store no longer holds was lost by it.

    The time is sealed with a key every instance sharing the store derives from the store's
    keys: anyone else who sees a token (in an address, a browser's history) learns nothing
    from it but 256 bits that look random. (An outside tester read the start of a
    conversation, to the millisecond, from the token when the time was written plainly.)
    Over a store without keys (``UNSEALED``) the time is only masked."""

    def __init__(self, keys: tuple[bytes, ...]) -> None:
        self._keys = keys or (UNSEALED,)
        """Newest first: tokens are sealed with the first; each is tried when reading one."""

    def new(self, now: float | None = None) -> str:
        """A new conversation's token."""
        issued = round((time.time() if now is None else now) * 1000)
        random_part = secrets.token_bytes(TOKEN_BYTES)
        key = self._keys[0]
        sealed = _xor(issued.to_bytes(ISSUED_BYTES, "big"), _mask(key, random_part))
        body = random_part + sealed
        return base64.urlsafe_b64encode(body + _check(key, body)).decode().rstrip("=")

    def issued_at(self, token: str) -> float | None:
        """When this server issued ``token`` (Unix time); None for a token it did not issue:
        a REST client's own sender, a token from before tokens said when, or one sealed with a
        key no longer in the store's keys."""
        if len(token) != 43 or not TOKEN_PATTERN.match(token):
            return None
        raw = base64.urlsafe_b64decode(token + "=")
        body, check = raw[:-_CHECK_BYTES], raw[-_CHECK_BYTES:]
        for key in self._keys:
            if hmac.compare_digest(_check(key, body), check):
                random_part, sealed = body[:TOKEN_BYTES], body[TOKEN_BYTES:]
                return int.from_bytes(_xor(sealed, _mask(key, random_part)), "big") / 1000
        return None


def _mask(key: bytes, random_part: bytes) -> bytes:
    return hashlib.blake2b(
        random_part, key=key, person=b"webchat-time", digest_size=ISSUED_BYTES
    ).digest()


def _xor(left: bytes, right: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(left, right, strict=True))


def _check(key: bytes, body: bytes) -> bytes:
    """Tells a token this server issued from a client's own random sender. One in 65,536 could
    pass for one; it would be told its conversation was lost only if the time its bytes happen
    to spell (most are thousands of years ahead) were before the store last lost what it held."""
    return hashlib.blake2b(
        body, key=key, person=b"webchat-issued", digest_size=_CHECK_BYTES
    ).digest()


def form_token(token: str) -> str:
    """The anti-forgery token of a conversation's forms, derived from its token.

    A forger must already hold the conversation's token (it is in every form's address), and
    whoever holds it can read the page and its forms; so a random form token kept on the
    server would protect nothing more, and a derived one is the same on every instance and
    after a restart, where a kept one would turn the person's next press into "out of date".
    """
    digest = hashlib.blake2b(token.encode(), person=b"webchat-form", digest_size=TOKEN_BYTES)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class TranscriptEntry:
    """One line of the transcript: what the program said, what the person said, or a notice
    from the page itself (a limit, a stale form). Always plain text."""

    kind: str
    """``bot``, ``you``, ``notice``, ``operator`` (a person from the helpline) or ``card``."""
    text: str
    who: str | None = None
    """How an operator's words are labelled ("Anna (support team)"), in the locale they came
    in; None: the label of ``kind``."""
    links: tuple[TextLink, ...] = ()
    """Parts of a program's message that are links: phone numbers, shown as tap-to-call."""
    card: PlanCard | None = None
    """``card``: the person's plan, shown as one card with headings (``text`` is all of it)."""
    once: bool = False
    """Shown once, to the page that asked (resume words): gone from the transcript once that
    page has them (``WebSession.shown_once``), so that whoever else holds the address (a link
    given by someone else, a reload on another's computer) never reads them."""


MAX_LISTENERS = 8
"""Live pages (tabs) following one conversation at once; the oldest is let go for a ninth."""

PAGES_REMEMBERED = 8
"""Pages drawn lately whose forms are told apart (``WebSession.drawn``): a few tabs, reloads."""

HANDOFF_OVER = -1
"""The turn given to pages drawn while a handoff was on, once it is over: never a turn."""


class Listener(Protocol):
    """A live page (a WebSocket) following a conversation."""

    async def deliver(self, frames: list[dict[str, object]]) -> None: ...


OVER_LIMIT_READS_PER_MINUTE = 10
"""A conversation's messages over its rate limit that are screened all the same, at most, a
minute (``WebChat._read_all_the_same``): a person in crisis typing fast is heard, and a script
sending thousands never makes the process screen them all (the seventeenth attack: one
socket's 30,000 messages, each screened, kept every conversation waiting 40 s)."""


class TokenBucket:
    """At most ``per_minute`` messages a minute, with bursts up to ``per_minute``."""

    __slots__ = ("_stamp", "_tokens")

    def __init__(self, per_minute: int, now: float) -> None:
        self._tokens = float(per_minute)
        self._stamp = now

    def take(self, per_minute: int, now: float) -> bool:
        elapsed = max(0.0, now - self._stamp)
        self._tokens = min(float(per_minute), self._tokens + elapsed * per_minute / 60.0)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


def tag_question(flow: str, node: str) -> str:
    """A short tag of a question, the same at every instance (not its name: the mark is a
    form field)."""
    return hashlib.blake2b(f"{flow}/{node}".encode(), digest_size=5).hexdigest()


class WebSession:
    """What the web chat keeps for one conversation."""

    __slots__ = (
        "bucket",
        "choices",
        "csrf",
        "cursor",
        "drawn",
        "expects_text",
        "feed",
        "first_new",
        "follower",
        "forks",
        "handoff",
        "kept_at",
        "last_seen",
        "listeners",
        "locale",
        "once_held",
        "opened_from",
        "pending",
        "question_tag",
        "session_id",
        "spare",
        "token",
        "transcript",
        "turn",
        "untouched",
        "waiting",
    )

    def __init__(
        self,
        session_id: str,
        token: str,
        locale: str,
        now: float,
        per_minute: int,
        transcript_size: int,
    ) -> None:
        self.session_id = session_id
        """The runtime's id: ``web:<token>`` or ``rest:<sender>``."""
        self.token = token
        self.csrf = form_token(token) if token else ""
        self.locale = locale
        self.transcript: deque[TranscriptEntry] | None = (
            deque(maxlen=transcript_size) if transcript_size > 0 else None
        )
        self.first_new = 0
        """Index in the transcript of the first line of the latest turn (where pages scroll to)."""
        self.choices: tuple[ShownChoice, ...] = ()
        self.expects_text = False
        self.waiting: Waiting | None = None
        self.turn: int | None = None
        """The conversation's turn (``SessionState.turn``) after its latest reply here."""
        self.opened_from = ""
        """The token of the page only opened this conversation is the copy of (``opened_as``),
        ended with it while nobody has answered there."""
        self.once_held = False
        """The transcript holds lines to be shown once (``shown_once``): a page drawn, or a
        turn taken over a socket, looks through it only then."""
        self.question_tag = ""
        """A short tag of the question the conversation is at (``tag_question``): what a page's
        mark carries, for the instances that did not draw it."""
        self.drawn: dict[str, int | None] | None = None
        """The pages drawn here lately, by the mark their forms carry: the turn each was
        drawn at (at most ``PAGES_REMEMBERED``). A form from a page drawn at an earlier turn
        is out of date: a double press, a resubmit, a second tab."""
        self.forks: dict[str, str] | None = None
        """A conversation only opened: the copy each page drawn here had its first answer
        taken by (``WebChat._forked``), by the page's mark: the same page pressed again (a
        double press, a resend over a slow circuit) goes to that copy, never to a second one
        that "Erase my conversation" would miss (the sixteenth attack)."""
        self.bucket = TokenBucket(per_minute, now)
        self.spare: TokenBucket | None = None
        """Made at the first message over the limit (``may_read_over_limit``)."""
        self.last_seen = now
        self.untouched = True
        """Only opened so far (``SessionState.untouched``): kept for the shorter time."""
        self.kept_at: float | None = time.time()
        """When (Unix time) this process last knew the store held the conversation (a new one:
        when it opened); None when the store is known to have lost it."""
        self.listeners: dict[Listener, None] | None = None
        """The live pages following it, oldest first (at most ``MAX_LISTENERS``)."""
        self.handoff = False
        """A person from the helpline is awaited or has the conversation."""
        self.feed: str | None = None
        """Where what the handoff shows outside the person's turns comes (runtime.pushes)."""
        self.cursor = "0"
        """The id of the last of those delivered here."""
        self.follower: asyncio.Task[None] | None = None
        self.pending: list[Shown] | None = None
        """For the REST channel, which cannot be written to: shown with the next answer."""

    def forked(self, drawn: object, token: str) -> None:
        """Remember that the page drawn with mark ``drawn`` was answered in the copy ``token``."""
        if not isinstance(drawn, str):
            return
        if self.forks is None:
            self.forks = {}
        self.forks[drawn] = token
        if len(self.forks) > PAGES_REMEMBERED:
            del self.forks[next(iter(self.forks))]

    def fork_of(self, drawn: object) -> str | None:
        """The copy the page drawn with mark ``drawn`` was answered in, if it was."""
        if not isinstance(drawn, str) or self.forks is None:
            return None
        return self.forks.get(drawn)

    def opened_as(self, other: WebSession) -> None:
        """What a page shows of ``other``, a conversation only opened, copied here (its copy
        under this address: ``WebChat._forked``)."""
        if self.transcript is not None:
            self.transcript.extend(other.lines())
        self.first_new = other.first_new
        self.choices, self.expects_text = other.choices, other.expects_text
        self.waiting, self.turn, self.untouched = other.waiting, other.turn, other.untouched
        self.locale = other.locale
        self.opened_from = other.token

    def add(self, entries: list[TranscriptEntry], new_turn: bool = True) -> None:
        if self.transcript is None:
            return
        if new_turn:
            self.first_new = len(self.transcript)
        self.transcript.extend(entries)
        self.once_held = self.once_held or any(entry.once for entry in entries)
        overflow = self.first_new + len(entries) - len(self.transcript)
        if new_turn and overflow > 0:
            self.first_new = max(0, self.first_new - overflow)

    def draw(self) -> str:
        """A mark for the forms of a page drawn now (``drawn``): a tag of the question it asks,
        then a random part. The tag lets any instance tell a press meant for another question
        (the page drawn and pressed at one instance, the same form sent again at another
        behind a balancer: the forty-second attack, it answered the next question)."""
        mark = f"{self._page_tag()}.{secrets.token_urlsafe(9)}"
        if self.drawn is None:
            self.drawn = {}
        self.drawn[mark] = self.turn
        if len(self.drawn) > PAGES_REMEMBERED:
            del self.drawn[next(iter(self.drawn))]
        return mark

    def drawn_before(self, mark: object) -> bool:
        """Whether ``mark`` is of a page drawn for an earlier question than now: here, by the
        turn it was drawn at; a mark not known here (drawn before a restart, or by another
        instance, where drawing again from the store takes turns of its own), by the question
        it was drawn for."""
        if not isinstance(mark, str):
            return False
        if self.drawn is not None and mark in self.drawn:
            return self.drawn[mark] != self.turn
        tag, dot, _random = mark.partition(".")
        return bool(dot and tag and self.question_tag) and tag != self._page_tag()

    def _page_tag(self) -> str:
        """The question's tag, marked while a handoff is on: the message box is then the
        helpline's (words to a person), never an answer to the program's question."""
        return f"{self.question_tag}~" if self.handoff else self.question_tag

    def handoff_over(self) -> None:
        """The handoff ended: a form drawn while it was on is out of date, whatever its turn
        (the forty-sixth attack: a reply typed to the person from the helpline, sent after
        they closed, became the answer to the program's question and went into the plan)."""
        if self.drawn is not None:
            self.drawn = dict.fromkeys(self.drawn, HANDOFF_OVER)

    def shown_once(self, instead: str) -> None:
        """The lines to be shown once (``TranscriptEntry.once``) replaced by ``instead``."""
        self.once_held = False
        if self.transcript is None:
            return
        kept = [
            TranscriptEntry("notice", instead) if entry.once else entry for entry in self.transcript
        ]
        self.transcript.clear()
        self.transcript.extend(kept)

    def lines(self) -> list[TranscriptEntry]:
        return list(self.transcript) if self.transcript is not None else []

    def may_read_over_limit(self, now: float) -> bool:
        """Whether one more message over the rate limit may be screened
        (``OVER_LIMIT_READS_PER_MINUTE``)."""
        if self.spare is None:
            self.spare = TokenBucket(OVER_LIMIT_READS_PER_MINUTE, now)
        return self.spare.take(OVER_LIMIT_READS_PER_MINUTE, now)

    def listen(self, listener: Listener) -> Listener | None:
        """Follow the conversation; the oldest page following it, let go to make room, when
        ``MAX_LISTENERS`` already do (a script resuming one conversation on thousands of
        sockets holds at most that many open)."""
        if self.listeners is None:
            self.listeners = {}
        self.listeners[listener] = None
        if len(self.listeners) <= MAX_LISTENERS:
            return None
        oldest = next(iter(self.listeners))
        del self.listeners[oldest]
        return oldest

    def forget(self, listener: Listener) -> None:
        if self.listeners is not None:
            self.listeners.pop(listener, None)
            if not self.listeners:
                self.listeners = None

    @property
    def waiting_for_person(self) -> bool:
        """A person is awaited or has the conversation (pages without script refresh
        themselves, so that what they say appears)."""
        return self.handoff or self.waiting is Waiting.HANDOFF

    def stop_following(self) -> None:
        if self.follower is not None:
            self.follower.cancel()
            self.follower = None


EVICTED_REMEMBERED = 4
"""Conversations that made room are remembered up to this many times ``max_sessions`` (about
200 bytes each, measured: 8 MB at the default 10,000 pages, against kilobytes for a page):
past that, the oldest are forgotten."""


@dataclass(frozen=True, slots=True)
class Evicted:
    """What is remembered of a conversation that made room: its language, and when the store
    was last known to hold it (``WebSession.kept_at``; infinite for one erased here, or whose
    loss was told here)."""

    locale: str
    kept_at: float | None


class SessionBook:
    """The conversations this process keeps pages for, at most ``max_sessions``, in the order
    they were last used (see the module's description)."""

    def __init__(
        self,
        max_sessions: int,
        ttl_seconds: float,
        per_minute: int,
        transcript_size: int,
        clock: Callable[[], float],
        tokens: TokenIssuer | None = None,
        untouched_ttl_seconds: float | None = None,
    ) -> None:
        self.max_sessions = max_sessions
        self.tokens = tokens or TokenIssuer(())
        self.ttl_seconds = ttl_seconds
        self.untouched_ttl_seconds = min(untouched_ttl_seconds or ttl_seconds, ttl_seconds)
        """A page only opened is the store's for this long (``RuntimeSettings.ttl_for``)."""
        self.per_minute = per_minute
        self.transcript_size = transcript_size
        self._clock = clock
        self._sessions: dict[str, WebSession] = {}
        self._evicted: OrderedDict[bytes, tuple[float, Evicted]] = OrderedDict()
        """Conversations the store held that made room: keyed hash -> (last seen, what of it
        is remembered)."""
        self._evicted_key = secrets.token_bytes(32)

    def __len__(self) -> int:
        return len(self._sessions)

    def __iter__(self) -> Iterator[WebSession]:
        return iter(list(self._sessions.values()))

    def open_web(self, locale: str) -> WebSession:
        token = self.tokens.new()
        return self._add(WEB_PREFIX + token, token, locale, self.transcript_size)

    def reopen_web(self, token: str, locale: str) -> WebSession:
        """A record for a conversation the store still holds (after a restart)."""
        return self._add(WEB_PREFIX + token, token, locale, self.transcript_size)

    def open_rest(self, sender: str, locale: str) -> WebSession:
        return self._add(REST_PREFIX + sender, "", locale, 0)

    def web(self, token: str) -> WebSession | None:
        if not TOKEN_PATTERN.match(token):
            return None
        return self._used(WEB_PREFIX + token)

    def rest(self, sender: str) -> WebSession | None:
        return self._used(REST_PREFIX + sender)

    def holds_rest(self, sender: str) -> bool:
        """Whether ``sender``'s REST conversation is open here (without using it)."""
        return REST_PREFIX + sender in self._sessions

    def _used(self, session_id: str) -> WebSession | None:
        """The conversation, now the most recently used, unless it has been idle past the time
        to live: then its transcript is dropped at once, not at the next sweep, so that an
        expired page is never shown."""
        session = self._sessions.pop(session_id, None)
        if session is None:
            return None
        if self._expired(session, self._clock()):
            session.stop_following()
            return None
        self._sessions[session_id] = session  # the most recently used, last
        return session

    def _expired(self, session: WebSession, now: float) -> bool:
        ttl = self.untouched_ttl_seconds if session.untouched else self.ttl_seconds
        return session.last_seen <= now - ttl

    def remove(self, session: WebSession) -> None:
        self._sessions.pop(session.session_id, None)
        session.stop_following()

    def gone(self, session: WebSession) -> None:
        """Remove a conversation that is gone and was not lost, or whose loss was told here
        (erased, here or at another instance, or ran out its time): remembered (as one that
        made room is) so that its next message here is not told it was lost."""
        self.remove(session)
        self._remember(session, Evicted(session.locale, math.inf), self._clock())

    def is_gone(self, session_id: str) -> bool:
        """Whether the conversation under ``session_id`` is remembered as gone here (erased,
        or ran out its time), within its time to live; asking forgets nothing."""
        found = self._evicted.get(self._evicted_mark(session_id))
        return (
            found is not None
            and found[1].kept_at == math.inf
            and found[0] > self._clock() - self.ttl_seconds
        )

    def evicted(self, session_id: str) -> Evicted | None:
        """What is remembered of the conversation under ``session_id`` if it made room here
        while the store held it, within its time to live (None otherwise); forgotten once
        asked, unless it is gone (``gone``)."""
        mark = self._evicted_mark(session_id)
        found = self._evicted.pop(mark, None)
        if found is None or found[0] <= self._clock() - self.ttl_seconds:
            return None
        if found[1].kept_at == math.inf:  # gone, not lost: so for every ask, to its time's end
            self._evicted[mark] = found
        return found[1]

    def _evicted_mark(self, session_id: str) -> bytes:
        return hashlib.blake2b(session_id.encode(), key=self._evicted_key, digest_size=16).digest()

    def idle(self) -> list[WebSession]:
        """Remove and return conversations idle for longer than the time to live."""
        limit = self._clock() - self.ttl_seconds
        while self._evicted and next(iter(self._evicted.values()))[0] <= limit:
            self._evicted.popitem(last=False)
        now = self._clock()
        gone = [s for s in self._sessions.values() if self._expired(s, now)]
        for session in gone:
            del self._sessions[session.session_id]
            session.stop_following()
        return gone

    def _add(self, session_id: str, token: str, locale: str, transcript_size: int) -> WebSession:
        while len(self._sessions) >= self.max_sessions and self._evict():
            pass
        session = WebSession(
            session_id, token, locale, self._clock(), self.per_minute, transcript_size
        )
        self._sessions[session_id] = session
        return session

    def _evict(self) -> bool:
        """Make room: drop the least recently seen conversation without a live page or a
        helpline person (only this process's copy; the store keeps it). A live one is never
        dropped (the fifty-sixth attack: more live sockets than ``max_sessions`` pushed real
        people's live pages out, mid-handoff too, their next message lost): passed over, it
        goes to the back of the line. False when every one is live: the book then holds more
        than ``max_sessions``, by at most the live sockets (``max_sockets``)."""
        for _ in range(len(self._sessions)):
            oldest = next(iter(self._sessions.values()))
            if oldest.listeners is None and oldest.follower is None:
                self.remove(oldest)
                if oldest.waiting is not None:  # the store held it
                    self._remember(oldest, Evicted(oldest.locale, oldest.kept_at), oldest.last_seen)
                return True
            self._sessions[oldest.session_id] = self._sessions.pop(oldest.session_id)
        return False

    def _remember(self, session: WebSession, what: Evicted, seen: float) -> None:
        self._evicted[self._evicted_mark(session.session_id)] = (seen, what)
        while len(self._evicted) > EVICTED_REMEMBERED * self.max_sessions:
            self._evicted.popitem(last=False)
