"""A Rasa-compatible REST channel: ``POST /webhooks/rest/webhook``.

``{"sender": SENDER, "message": "hello"}`` answers ``[{"recipient_id": SENDER, "text": "...",
"buttons": [{"title": "...", "payload": "/choice:stop"}]}]``, so that widgets and tools built
for Rasa's REST channel work. The sender is the conversation's only credential: it must carry
at least 128 random bits (``sender_bits``), or be left out, and the server issues one in the
first answer's ``recipient_id``. Sending a button's payload picks that choice. Payloads that
start with ``/``: ``/choice:<id>``, the global commands (``/help``, ``/back``, ``/repeat``,
``/restart``, ``/stop``, ``/language`` or ``/language:fi``), ``/session_start`` (a fresh start)
and ``/plan`` (the person's plan as one message). Anything else is what the person typed.
A handoff or the end of the conversation comes as Rasa's ``custom`` payload. What a person
from the helpline writes (and notices while waiting) cannot be sent to a REST client when it
happens: it comes first in the answer to the client's next message, a helpline operator's
words marked ``"custom": {"type": "operator"}``, or in the answer to ``POST
/webhooks/rest/pending`` (which sends nothing). A message with an ``Idempotency-Key`` header
(or ``"message_id"``) is applied once: a resend with the same key gets the first answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aiohttp import hdrs, web
from aiohttp.web_protocol import RequestPayloadError

from redirection_bot.api import (
    ChoicePicked,
    CommandGiven,
    CommandName,
    Event,
    Shown,
    ShownEnd,
    ShownHandoff,
    ShownMessage,
    ShownOperator,
    Start,
    Text,
    UnreadableJson,
    read_json,
)

from . import replays
from .chat import LOST, STORE_FAULTS, TurnOutcome, WebChat, door_start
from .endings import StillRunning, outcome_unwanted, quickly
from .rest_answer import CHOICE_PAYLOAD, Answer, answer_json, message_item
from .security import origin_allowed
from .sessions import REST_PREFIX

PATH = "/webhooks/rest/webhook"
PENDING_PATH = "/webhooks/rest/pending"
MAX_SENDER_LENGTH = 128
MIN_SENDER_BITS = 128
"""Whoever guesses a sender reads that person's plan and can erase it: a sender must be as
hard to guess as a web conversation's token (192 bits) is, within reason."""
MIN_DISTINCT_CHARACTERS = 8
"""A random sender of 22 or more characters practically never has fewer different ones;
"aaaa..." and "abab..." do."""
_SENDER_CHARACTERS = re.compile(r"[A-Za-z0-9_-]+\Z")
_HEX_GROUPS = re.compile(r"[0-9A-Fa-f]+(?:-[0-9A-Fa-f]+)*\Z")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z", re.I)
UUID_FIXED_BITS = 6
"""A random (version 4) UUID holds 122 random bits, not 128: too few alone."""
SENDER_RULE = (
    f'"sender" must carry at least {MIN_SENDER_BITS} random bits: {MIN_SENDER_BITS // 4} '
    f"hexadecimal digits or {-(-MIN_SENDER_BITS // 6)} base64url characters from a secure "
    "random source (a UUID holds 122), or leave it out: the first answer's recipient_id "
    "is then a sender issued for you"
)
PLAN = "plan"
SESSION_START = "session_start"


def event_from_message(message: str) -> Event | str:
    """The engine event a REST message stands for (or ``"plan"``)."""
    if message.startswith(CHOICE_PAYLOAD) and len(message) > len(CHOICE_PAYLOAD):
        return ChoicePicked(message[len(CHOICE_PAYLOAD) :])
    if message.startswith("/"):
        name, _, argument = message[1:].strip().partition(":")
        if name == PLAN and not argument:
            return PLAN
        if name == SESSION_START and not argument:
            return Start()
        try:
            return CommandGiven(CommandName(name), argument or None)
        except ValueError:
            pass
    return Text(message)


class RestChannel:
    def __init__(self, chat: WebChat) -> None:
        self.chat = chat
        self._allowed_origins = frozenset(
            o.rstrip("/").lower() for o in chat.options.allowed_origins
        )
        self.replays = replays.Replays(
            chat.runtime.store, chat.runtime.settings.session_ttl_seconds
        )
        chat.endings.name("replays", self.replays.forget)

    async def preflight(self, request: web.Request) -> web.Response:
        response = web.Response(status=204)
        self._cors(request, response)
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_METHODS] = "POST"
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_HEADERS] = "Content-Type, Idempotency-Key"
        return response

    async def _body(self, request: web.Request, shape: str) -> Any:
        """The request's JSON, from this site only; a ready refusal otherwise."""
        if not origin_allowed(request, self.chat.options.allowed_origins):
            self.chat.refused.add("request refused", "origin")
            return _error(403, "requests from other sites are not allowed")
        try:
            return read_json(await request.read())
        except UnreadableJson as error:  # what was wrong, not only what to send (attack 13)
            return _error(400, f"the body is {error}; send JSON in UTF-8: {shape}")
        except RequestPayloadError:
            # aiohttp's parser drops whatever followed such a body on the connection: the
            # answer says the connection closes, so that a client resends a pipelined request.
            refusal = _error(400, f"the body is not what its Content-Encoding says: {shape}")
            refusal.force_close()
            return refusal

    async def webhook(self, request: web.Request) -> web.Response:
        body = await self._body(request, '{"sender": "...", "message": "..."}')
        if isinstance(body, web.Response):
            return body
        problem = _problem(body, self.chat.book.holds_rest)
        if problem is not None:
            return _error(400, problem)
        assert isinstance(body, dict)
        event = event_from_message(body["message"])
        sender = body.get("sender")
        leaving = self._leaving(sender, event) if isinstance(sender, str) else None
        if leaving is None or not isinstance(sender, str):
            return await self._handle(request, body, event)
        # "/stop" or "/erase": a quick exit never waits for a store that hangs (the fifty-sixth
        # attack: 15 s while Redis was paused). Not done within a second, it is answered as
        # done and finished here as soon as the store answers (``Endings``).
        try:
            return await quickly(self._handle(request, body, event))
        except StillRunning as running:
            runtime = self.chat.runtime
            ending = runtime.erase if leaving is CommandName.ERASE else runtime.leave
            self.chat.endings.later(REST_PREFIX + sender, ending)
            self.chat.endings.later(REST_PREFIX + sender, self.replays.forget)
            running.attempt.add_done_callback(outcome_unwanted)
            return self._answer(request, _ended(sender))

    async def _handle(
        self, request: web.Request, body: dict[str, Any], event: Event | str
    ) -> web.Response:
        """The answer to one checked message (``webhook``)."""
        keys: list[Any] = [*request.headers.getall(replays.HEADER, [])]
        if body.get(replays.FIELD) is not None:
            keys = [*keys, body[replays.FIELD]]
        if any(other != keys[0] for other in keys):  # which one a resend matches: a guess
            return _error(400, replays.TWO_KEYS)
        key = keys[0] if keys else None
        if key is None:
            return await self._unkeyed(request, body, event)
        problem = replays.key_problem(key)
        if problem is not None:
            return _error(400, problem)
        if body.get("sender") is None:  # a resend would open another conversation
            return _error(
                400, f"a message with an {replays.HEADER} needs its sender: {SENDER_RULE}"
            )
        key = replays.bound_key(key, body["message"])
        try:
            claim = await self.replays.claim(REST_PREFIX + body["sender"], key)
        except STORE_FAULTS:
            if self._leaving(body["sender"], event) is None:
                raise
            # "/stop" or "/erase" while the store is away: the person leaves all the same
            # (a resend of it ends nothing more), and the store is told when it is back.
            return await self._unkeyed(request, body, event)
        if isinstance(claim, replays.Replayed):
            if claim.answer is None:
                response = _error(409, "a message with this key is being handled; retry shortly")
                response.headers[hdrs.RETRY_AFTER] = "1"
                return response
            return self._answer(request, claim.answer)
        async with self.replays.holding(claim):
            items = await self._reply(body, event, key)
        if _forgets(event, items):  # nothing of an erased conversation is kept for resends
            await self.chat.end_now_or_later(claim.session_id, self.replays.forget)
        session = self.chat.book.rest(body["sender"])
        untouched = session is not None and session.untouched  # kept as briefly as the turn
        # The resume words are shown once and kept nowhere: a resend gets the notice that
        # they were shown instead (the forty-seventh attack: the same words, again and again).
        locale = session.locale if session is not None else self.chat.texts.default_locale()
        shown_once = self.chat.texts.text("words_shown_once", locale)
        kept = [
            _text(body["sender"], shown_once) if getattr(item, "once", False) else item
            for item in items
        ]
        await self.replays.keep(
            claim, kept, self.chat.book.untouched_ttl_seconds if untouched else None
        )
        # Erased meanwhile by a message at another instance, which may have looked for the
        # answers to forget before this one was listed: forget them here too.
        if await self.chat.runtime.state(claim.session_id) is None:
            await self.replays.forget(claim.session_id)
        return self._answer(request, items)

    async def _unkeyed(
        self, request: web.Request, body: dict[str, Any], event: Event | str
    ) -> web.Response:
        """The answer to a message without an ``Idempotency-Key`` (never kept for resends)."""
        items = await self._reply(body, event)
        if body.get("sender") is not None and _forgets(event, items):
            await self.chat.end_now_or_later(REST_PREFIX + body["sender"], self.replays.forget)
        return self._answer(request, items)

    def _leaving(self, sender: str, event: Event | str) -> CommandName | None:
        """``stop`` or ``erase`` when ``event`` is "leave now" or "erase", in the sender's
        language."""
        if isinstance(event, str):
            return None
        session = self.chat.book.rest(sender)
        locale = session.locale if session is not None else self.chat.texts.default_locale()
        return self.chat.runtime.leaving(event, locale)

    async def pending(self, request: web.Request) -> web.Response:
        """``POST /webhooks/rest/pending`` ``{"sender": "..."}``: what came for the conversation
        since its last answer (an operator's words, notices while waiting), sending nothing."""
        body = await self._body(request, '{"sender": "..."}')
        if isinstance(body, web.Response):
            return body
        if isinstance(body, dict) and body.get("sender") is None:
            return _error(400, SENDER_RULE)
        checked = {**body, "message": ""} if isinstance(body, dict) else body
        problem = _problem(checked, self.chat.book.holds_rest)
        if problem is not None:
            return _error(400, problem)
        assert isinstance(body, dict)
        sender = body["sender"]
        session = self.chat.book.rest(sender)
        earlier = self.chat.take_pending(session) if session is not None else []
        return self._answer(request, answer(sender, tuple(earlier)))

    async def _reply(
        self, body: dict[str, Any], event: Event | str, key: str | None = None
    ) -> Answer:
        """The answer to one checked message, standing for ``event``: the turn it stands for,
        taken (``key``: its ``Idempotency-Key``, saved with the turn, so that it is never
        applied twice)."""
        sender = body.get("sender") or self.chat.book.tokens.new()
        metadata = body.get("metadata")
        locale = metadata.get("locale") if isinstance(metadata, dict) else None
        partner = metadata.get("from") if isinstance(metadata, dict) else None
        wanted = self.chat.door_locale(locale if isinstance(locale, str) else None, partner)
        # Buttons come only from answers: a button's payload for a conversation the store
        # does not hold tells it was held (``rest_session`` tells the person if it was lost).
        held = isinstance(event, ChoicePicked)
        if self.chat.endings.waits(REST_PREFIX + sender):
            # Ended here while the store was away, and not erased there yet: ended, never
            # read back from what the store still holds (the fifty-third attack: its plan).
            return _ended(sender)
        try:
            found = await self.chat.rest_session(sender, wanted, opening=event != PLAN, held=held)
        except STORE_FAULTS:
            leaving = self._leaving(sender, event)
            if leaving is None:
                raise
            # Not held here, and the store away: it is erased when the store is back.
            runtime = self.chat.runtime
            ending = runtime.erase if leaving is CommandName.ERASE else runtime.leave
            await self.chat.end_now_or_later(REST_PREFIX + sender, ending)
            return _ended(sender)
        if found is None:  # "/plan" before anything was said: nothing to keep or show
            no_plan = self.chat.texts.text("no_plan", self.chat.texts.known(wanted))
            return [_text(sender, no_plan)]
        session, fresh = found
        events: list[Event] = []
        if fresh and event != PLAN:
            # As in Rasa, the first message opens the conversation (through a partner's door
            # when its metadata names one); words that need an answer (a risk, resume words)
            # are taken after the greeting (``Runtime.first_words_need_a_turn``).
            runtime = self.chat.runtime
            if isinstance(event, Text) and await runtime.first_words_need_a_turn(
                event.text, session.locale
            ):
                events.append(event)
            event = door_start(session.locale, partner)
        if event == PLAN:
            if not self.chat.within_limit(session):
                return [_text(sender, self.chat.texts.text("rate_limited", session.locale))]
            plan = await self.chat.plan_or_lost(session)
            if plan is LOST:  # said, and nothing kept: the next message opens a new one
                return [_text(sender, self.chat.lost_notice(session))]
            return [_text(sender, plan or self.chat.texts.text("no_plan", session.locale))]
        assert not isinstance(event, str)
        shown = self.chat.take_pending(session)
        events.insert(0, event)
        for position, taken in enumerate(events):
            last = position == len(events) - 1
            outcome = await self.chat.turn(session, taken, key=key if last else None)
            if outcome.limited:
                limited = [_text(sender, e.text) for e in outcome.entries]
                return answer(sender, tuple(shown)) + limited
            if outcome.moved is not None:
                return _lost(sender, outcome)
            # First words that could not be taken are told after the greeting, and where
            # the person is shown again: not the greeting a second time in one answer (the
            # fifteenth attack). A message said the same every time is the same object.
            greeted = shown if position else []
            shown.extend(item for item in outcome.shown if not any(item is g for g in greeted))
        return answer(sender, tuple(shown))

    def _answer(self, request: web.Request, items: Answer) -> web.Response:
        response = web.json_response(items, dumps=answer_json)
        self._cors(request, response)
        return response

    def _cors(self, request: web.Request, response: web.StreamResponse) -> None:
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is not None and origin.lower() in self._allowed_origins:
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
            response.headers[hdrs.VARY] = "Origin"


def answer(sender: str, shown: tuple[Shown, ...]) -> Answer:
    """Rendered outputs as Rasa's REST channel answers them."""
    items: Answer = []
    for item in shown:
        if isinstance(item, ShownMessage):
            items.append(message_item(sender, item))
        elif isinstance(item, ShownOperator):
            entry = _text(sender, item.text)
            entry["custom"] = {"type": "operator", "name": item.name}
            items.append(entry)
        elif isinstance(item, ShownHandoff):
            custom = {"type": "handoff", "reason": item.reason, "urgency": item.urgency}
            items.append({"recipient_id": sender, "custom": custom})
        elif isinstance(item, ShownEnd):
            items.append({"recipient_id": sender, "custom": {"type": "end", "erase": item.erase}})
    return items


def _forgets(event: Event | str, items: Answer) -> bool:
    """Whether the answers kept for the conversation's resends go now: it was erased ("erase",
    "leave now": the answer says so), or started again (``/restart``, ``/session_start``), so
    that what the person wrote before is kept nowhere."""
    if any(item.get("custom", {}).get("erase") is True for item in items):
        return True
    restarted = isinstance(event, CommandGiven) and event.command is CommandName.RESTART
    return restarted or isinstance(event, Start)


def _lost(sender: str, outcome: TurnOutcome) -> Answer:
    """The store lost the conversation: say so first, then the new one's opening."""
    notices = [_text(sender, e.text) for e in outcome.entries if e.kind == "notice"]
    return notices + answer(sender, outcome.shown)


def _text(sender: str, text: str) -> dict[str, Any]:
    return {"recipient_id": sender, "text": text}


def _problem(body: object, known: Callable[[str], bool]) -> str | None:
    """What is wrong with a message's body, or None. ``known``: whether a sender has a
    conversation open here, which only a sender that passed this check (or was issued) can
    have: its shape is not read again at every message."""
    if not isinstance(body, dict):
        return 'send an object: {"sender": "...", "message": "..."}'
    sender, message = body.get("sender"), body.get("message")
    if not isinstance(message, str):
        return '"message" must be a string'
    if sender is None:
        return None  # one is issued
    if not isinstance(sender, str) or len(sender) > MAX_SENDER_LENGTH:
        return f'"sender" must be a string of at most {MAX_SENDER_LENGTH} characters'
    if not known(sender) and sender_bits(sender) < MIN_SENDER_BITS:
        return SENDER_RULE
    return None


def sender_bits(sender: str) -> int:
    """How many random bits ``sender`` can hold at most, read from its shape: 4 a digit for
    hexadecimal (UUIDs included, less their 6 fixed bits), 6 a character for base64url, and
    none for anything else or for a sender with fewer than ``MIN_DISTINCT_CHARACTERS``
    different characters (made up, not drawn at random)."""
    if not _SENDER_CHARACTERS.match(sender):
        return 0
    if _HEX_GROUPS.match(sender):
        digits = sender.replace("-", "").lower()
        if len(set(digits)) < MIN_DISTINCT_CHARACTERS:
            return 0
        return 4 * len(digits) - (UUID_FIXED_BITS if _UUID.match(sender) else 0)
    if len(set(sender)) < MIN_DISTINCT_CHARACTERS:
        return 0
    return 6 * len(sender)


def _ended(sender: str) -> Answer:
    """The answer that the conversation has ended and is erased (as after "/stop")."""
    return [{"recipient_id": sender, "custom": {"type": "end", "erase": True}}]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
