"""A Rasa-compatible REST channel: ``POST /webhooks/rest/webhook``.

``{"sender": "abc", "message": "hello"}`` answers ``[{"recipient_id": "abc", "text": "...",
"buttons": [{"title": "...", "payload": "/choice:stop"}]}]``, so that widgets and tools built
for Rasa's REST channel work. Sending a button's payload picks that choice. Payloads that
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

import json
from typing import Any

from aiohttp import hdrs, web

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
    clean_user_text,
    log_event,
)

from . import replays
from .chat import WebChat
from .security import origin_allowed
from .sessions import REST_PREFIX

PATH = "/webhooks/rest/webhook"
PENDING_PATH = "/webhooks/rest/pending"
MAX_SENDER_LENGTH = 128
CHOICE_PAYLOAD = "/choice:"
PLAN = "plan"
SESSION_START = "session_start"

Answer = list[dict[str, Any]]


def payload_for(choice_id: str) -> str:
    return CHOICE_PAYLOAD + choice_id


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
        self.replays = replays.Replays(
            chat.runtime.store, chat.runtime.settings.session_ttl_seconds
        )

    async def preflight(self, request: web.Request) -> web.Response:
        response = web.Response(status=204)
        self._cors(request, response)
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_METHODS] = "POST"
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_HEADERS] = "Content-Type, Idempotency-Key"
        return response

    async def webhook(self, request: web.Request) -> web.Response:
        if not origin_allowed(request, self.chat.options.allowed_origins):
            log_event("request refused", reason="origin", connector="webchat")
            return _error(403, "requests from other sites are not allowed")
        try:
            body = json.loads((await request.read()).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _error(400, 'send JSON in UTF-8: {"sender": "...", "message": "..."}')
        problem = _problem(body)
        if problem is not None:
            return _error(400, problem)
        key = request.headers.get(replays.HEADER, body.get(replays.FIELD))
        if key is None:
            return self._answer(request, await self._reply(body))
        problem = replays.key_problem(key)
        if problem is not None:
            return _error(400, problem)
        claim = await self.replays.claim(REST_PREFIX + body["sender"], key)
        if isinstance(claim, replays.Replayed):
            if claim.answer is None:
                response = _error(409, "a message with this key is being handled; retry shortly")
                response.headers[hdrs.RETRY_AFTER] = "1"
                return response
            return self._answer(request, claim.answer)
        try:
            items = await self._reply(body)
        except BaseException:
            await self.replays.release(claim)
            raise
        await self.replays.keep(claim, items)
        return self._answer(request, items)

    async def pending(self, request: web.Request) -> web.Response:
        """``POST /webhooks/rest/pending`` ``{"sender": "..."}``: what came for the conversation
        since its last answer (an operator's words, notices while waiting), sending nothing."""
        if not origin_allowed(request, self.chat.options.allowed_origins):
            log_event("request refused", reason="origin", connector="webchat")
            return _error(403, "requests from other sites are not allowed")
        try:
            body = json.loads((await request.read()).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _error(400, 'send JSON in UTF-8: {"sender": "..."}')
        problem = _problem({**body, "message": ""} if isinstance(body, dict) else body)
        if problem is not None:
            return _error(400, problem)
        sender = body["sender"]
        session = self.chat.book.rest(sender)
        earlier = self.chat.take_pending(session) if session is not None else []
        return self._answer(request, answer(sender, tuple(earlier)))

    async def _reply(self, body: dict[str, Any]) -> Answer:
        """The answer to one checked message: the turn it stands for, taken."""
        sender, message = body["sender"], body["message"]
        metadata = body.get("metadata")
        locale = metadata.get("locale") if isinstance(metadata, dict) else None
        found = await self.chat.rest_session(sender, locale if isinstance(locale, str) else None)
        if found is None:
            default = self.chat.texts.known(locale if isinstance(locale, str) else None)
            return [_text(sender, self.chat.texts.text("busy", default))]
        session, fresh = found
        event = event_from_message(message)
        if fresh and event != PLAN:
            event = Start(session.locale)  # as in Rasa, the first message opens the conversation
        if event == PLAN:
            if not self.chat.within_limit(session):
                text = self.chat.texts.text("rate_limited", session.locale)
            else:
                text = await self.chat.plan(session) or self.chat.texts.text(
                    "no_plan", session.locale
                )
            return [_text(sender, text)]
        assert not isinstance(event, str)
        earlier = self.chat.take_pending(session)
        outcome = await self.chat.turn(session, event)
        if outcome.limited:
            limited = [_text(sender, e.text) for e in outcome.entries]
            return answer(sender, tuple(earlier)) + limited
        if outcome.moved is not None:  # the store lost the conversation: say so first
            lost = [_text(sender, e.text) for e in outcome.entries if e.kind == "notice"]
            return lost + answer(sender, outcome.shown)
        return answer(sender, (*earlier, *outcome.shown))

    def _answer(self, request: web.Request, items: Answer) -> web.Response:
        response = web.json_response(items, dumps=_dumps)
        self._cors(request, response)
        return response

    def _cors(self, request: web.Request, response: web.StreamResponse) -> None:
        origin = request.headers.get(hdrs.ORIGIN)
        allowed = {o.rstrip("/").lower() for o in self.chat.options.allowed_origins}
        if origin is not None and origin.lower() in allowed:
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
            response.headers[hdrs.VARY] = "Origin"


def answer(sender: str, shown: tuple[Shown, ...]) -> Answer:
    """Rendered outputs as Rasa's REST channel answers them."""
    items: Answer = []
    for item in shown:
        if isinstance(item, ShownMessage):
            entry = _text(sender, item.text)
            if item.choices:
                entry["buttons"] = [
                    {"title": choice.label, "payload": payload_for(choice.id)}
                    for choice in item.choices
                ]
            items.append(entry)
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


def _text(sender: str, text: str) -> dict[str, Any]:
    return {"recipient_id": sender, "text": text}


def _problem(body: object) -> str | None:
    if not isinstance(body, dict):
        return 'send an object: {"sender": "...", "message": "..."}'
    sender, message = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not sender.strip():
        return '"sender" must be a non-empty string'
    if len(sender) > MAX_SENDER_LENGTH or clean_user_text(sender) != sender:
        return f'"sender" must be at most {MAX_SENDER_LENGTH} plain characters'
    if not isinstance(message, str):
        return '"message" must be a string'
    return None


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
