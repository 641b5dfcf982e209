"""The live chat: a WebSocket at ``/ws`` (protocol in docs/protocol.md).

The page's script opens it and sends ``{"type": "resume", "session": TOKEN}``; a program
without a page sends ``{"type": "start"}`` instead. Each client message is one JSON object;
each server message is a JSON array of frames (one turn). Anything unreadable — a binary
frame, text that is not UTF-8, JSON that is malformed, nested too deeply or not an object, a
message over the frame limit — gets a polite, localised notice and the conversation carries
on; so does a request that fails on our side (the store unavailable, a fault). Only a
message over four times ``max_frame_bytes`` (and over the frame limit) closes the socket
(1009); the conversation stays.

The frame limit is never less than what the chat page's text box lets a person send, so that
all a person can type or paste reaches the runtime, is screened, and is told "too long" there
if it is: refused before the runtime, "i want to die" at the end of a long paste was never read.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any

from aiohttp import WSCloseCode, WSMessage, WSMsgType, hdrs, web

from redirection_bot.api import (
    EngineKeys,
    SessionBusy,
    StoreUnavailable,
    UnreadableJson,
    VersionConflict,
    log_event,
    read_json,
    session_tag,
)

from .chat import TurnOutcome, WebChat, event_for
from .frames import Frame, frames_json
from .masked_frames import MaskedOnlyResponse
from .security import origin_allowed
from .sessions import TokenBucket, WebSession

HARD_LIMIT_FACTOR = 4
ESCAPED_BYTES = 6
"""The most bytes one character of the text box can take in a frame: JSON writes a control
character, or half an emoji on its own, as ``\\uXXXX``."""
ENVELOPE_BYTES = 1024
"""Room in a frame for what is around the text (``{"type": "text", "text": ...}``)."""
HEARTBEAT_SECONDS = 30.0
FRAMES_PER_MESSAGE_ALLOWED = 3
"""A socket may send this many frames for each message a minute its conversation may send
(``limits.messages_per_minute``), whatever they are: more, and it is closed (1008). A page
sends one a turn; a script sending thousands a second kept the process reading them long
after it stopped, every conversation waiting (the seventeenth attack: 30,000 frames in one
second, 40 s of timeouts for everyone; bad JSON and binary frames cost too). The page's
script connects again after a growing wait, and the conversation stays."""
FRAME_ALLOWANCE_FACTOR = 2
"""Every frame read (pings and continuations too, which the loop never sees) may come at
twice the rate the loop allows messages: a message's own frame counts in both, and a page's
pongs to the heartbeat are a few a minute."""
CLOSE_WAIT_SECONDS = 1.0
"""How long a socket the server closes waits for the other side's close frame before the
connection ends: aiohttp's default, 10 s, held a socket closed at ``socket_start_seconds``
for twice that (the seventeenth attack)."""
CLOSE_GONE = 4404
CLOSE_DISPLACED = 4409
_CLOSING: set[asyncio.Task[bool]] = set()
"""Sockets being closed to make room (``MAX_LISTENERS``)."""


class LiveSocket:
    """One open WebSocket; the ``Listener`` a conversation tells about turns from elsewhere."""

    __slots__ = ("ws",)

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws

    async def deliver(self, frames: list[Frame]) -> None:
        if self.ws.closed:
            return
        try:
            await self.ws.send_str(frames_json(frames))
        except ConnectionError:
            return


SOCKET_FILE_RESERVE = 256
"""Open files kept for pages, the store and logs when ``max_sockets`` is left to the limit."""
SOCKET_FILE_SHARE = 0.5
"""The share of the open-file limit that live sockets may take when ``max_sockets`` is left
to it: the other half is for pages, presses without JavaScript and the REST channel (the
twelfth attack: sockets held up to the limit, then a few hundred keep-alive requests, left no
file for a new visitor's page)."""


def socket_limit(configured: int) -> int:
    """``max_sockets``, or half the process's open-file limit (at most the limit less
    ``SOCKET_FILE_RESERVE``)."""
    if configured:
        return configured
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1_000_000
    return max(16, min(int(soft * SOCKET_FILE_SHARE), soft - SOCKET_FILE_RESERVE))


WEBSOCKET_VERSION = "13"
"""The WebSocket protocol's version (RFC 6455), the only one this socket speaks."""


class SocketHandler:
    def __init__(self, chat: WebChat) -> None:
        self.chat = chat
        self.open_sockets = 0
        self.max_sockets = socket_limit(chat.options.max_sockets)  # once, not per connect

    async def handle(self, request: web.Request) -> web.StreamResponse:
        options = self.chat.options
        if not origin_allowed(request, options.allowed_origins):
            self.chat.refused.add("socket refused", "origin")
            raise web.HTTPForbidden
        if request.headers.get(hdrs.SEC_WEBSOCKET_VERSION, WEBSOCKET_VERSION) != WEBSOCKET_VERSION:
            # aiohttp also takes the drafts 7 and 8 (2011), which no browser has sent since
            # (an outside attack): RFC 6455's answer names the one version spoken here.
            raise web.HTTPUpgradeRequired(headers={hdrs.SEC_WEBSOCKET_VERSION: WEBSOCKET_VERSION})
        if self.open_sockets >= self.max_sockets:
            self.chat.refused.add("socket refused", "full")
            raise web.HTTPServiceUnavailable(headers={"Retry-After": "30"})
        self.open_sockets += 1
        try:
            return await self._serve(request)
        finally:
            self.open_sockets -= 1

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        options = self.chat.options
        frame_limit = read_frame_limit(options.max_frame_bytes, self.chat.page_characters)
        per_minute = FRAMES_PER_MESSAGE_ALLOWED * options.limits.messages_per_minute
        ws = MaskedOnlyResponse(
            frames_per_minute=FRAME_ALLOWANCE_FACTOR * per_minute,
            # What a socket may make this process hold for one message: four times the
            # configured limit, or the frame limit if that is more (not four times it: a
            # thousand sockets each sending 480 KB would hold 480 MB). A message only a
            # script sends closes the socket (1009); the conversation stays.
            max_msg_size=max(HARD_LIMIT_FACTOR * options.max_frame_bytes, frame_limit),
            compress=False,
            heartbeat=HEARTBEAT_SECONDS,
            decode_text=False,
            timeout=CLOSE_WAIT_SECONDS,
        )
        await ws.prepare(request)
        live = LiveSocket(ws)
        texts = self.chat.texts
        conversation = _Conversation(
            self.chat, live, texts.from_accept_language(request.headers.get("Accept-Language"))
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + options.socket_start_seconds
        frames = TokenBucket(per_minute, loop.time())
        try:
            while True:
                message = await _next_message(ws, conversation, deadline)
                if message is None:
                    break
                if not frames.take(per_minute, loop.time()):
                    log_event("socket closed", reason="flood", connector="webchat")
                    await ws.close(code=WSCloseCode.POLICY_VIOLATION)
                    break
                if message.type is WSMsgType.TEXT and len(message.data) <= frame_limit:
                    request_object = _decode(message.data)
                    if request_object is None:
                        await conversation.notice("unreadable")
                    elif not await conversation.answer(request_object):
                        break
                elif message.type is WSMsgType.TEXT:
                    await conversation.too_long()
                elif message.type is WSMsgType.BINARY:
                    await conversation.notice("unreadable")
        finally:
            conversation.close()
        return ws


_ENDED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED)


async def _next_message(
    ws: web.WebSocketResponse, conversation: _Conversation, deadline: float
) -> WSMessage | None:
    """The socket's next message; None when it closed, or when it has not started or resumed
    a conversation by ``deadline`` (then it is closed: a silent socket holds a file)."""
    # One deadline over the whole wait: aiohttp answers pings (and drops pongs) inside
    # ``receive`` and starts its own timeout again after each, so a socket that only pinged
    # was never closed (the fourteenth attack: 300 of 300 held past the deadline).
    try:
        async with asyncio.timeout_at(deadline if conversation.session is None else None):
            message = await ws.receive()
    except TimeoutError:
        log_event("socket closed", reason="silent", connector="webchat")
        await ws.close()
        return None
    return None if message.type in _ENDED else message


def read_frame_limit(max_frame_bytes: int, page_characters: int) -> int:
    """The largest message read and answered: the configured limit, or what the chat page's
    text box lets a person send (``page_characters``, each at its longest), if that is more."""
    return max(max_frame_bytes, ESCAPED_BYTES * page_characters + ENVELOPE_BYTES)


def _decode(data: bytes) -> dict[str, Any] | None:
    try:
        found = read_json(data)
    except UnreadableJson:
        return None
    return found if isinstance(found, dict) else None


class _Conversation:
    """One socket's side of a conversation."""

    def __init__(self, chat: WebChat, live: LiveSocket, locale: str) -> None:
        self.chat = chat
        self.live = live
        self.locale = locale
        self.session: WebSession | None = None

    async def send(self, frames: list[Frame]) -> None:
        await self.live.deliver(frames)

    async def notice(self, key: str) -> None:
        locale = self.session.locale if self.session is not None else self.locale
        await self.send([{"type": "notice", "text": self.chat.texts.text(key, locale)}])

    async def too_long(self) -> None:
        locale = self.session.locale if self.session is not None else self.locale
        text = self.chat.runtime.loaded.catalog.render(EngineKeys.TOO_LONG, locale)
        await self.send([{"type": "notice", "text": text}])

    def close(self) -> None:
        if self.session is not None:
            self.session.forget(self.live)

    async def answer(self, request: dict[str, Any]) -> bool:
        """Answer one request; False when the socket should close. Whatever goes wrong (the
        store unavailable, a fault of ours) becomes a notice on the socket and the
        conversation stays: once upgraded, an error page would be written into the socket."""
        try:
            return await self.handle(request)
        except (StoreUnavailable, SessionBusy, VersionConflict) as error:
            log_event("store unavailable", error=type(error).__name__, connector="webchat")
            if self.chat.runtime.metrics is not None:
                self.chat.runtime.metrics.store_unavailable.inc()
        except ConnectionError:
            log_event("request abandoned", reason="client", connector="webchat")
            return False  # the client's socket is gone: nothing to tell it
        except Exception as error:
            log_event("request failed", level=logging.ERROR, error=type(error).__name__)
        await self.notice("error")
        if self.session is None:
            # Nothing opened (a resume while the store was away): closed, so that the page's
            # script tries again with its growing wait; left open, every press on it was
            # answered "I could not read that message" until the start deadline (the
            # forty-sixth attack, up to ten seconds).
            await self.live.ws.close(code=WSCloseCode.TRY_AGAIN_LATER)
            return False
        return True

    async def handle(self, request: dict[str, Any]) -> bool:
        """Answer one request; False when the socket should close."""
        kind = request.get("type")
        if self.session is None:
            return await self.open(kind, request)
        session = self.session
        if not self.chat.alive(session):
            await self.gone()
            return False
        if kind in ("leave", "erase"):
            # Every page on the conversation is told, this one too: once (the twelfth attack
            # found two "end" frames).
            if kind == "leave":
                await self.chat.leave(session)
            else:
                await self.chat.erase(session)
            self.session = None
            return False
        if kind == "plan":
            await self.plan(session)
            return True
        value = request.get("id") if kind == "choice" else request.get(str(kind))
        event = event_for(str(kind), value, request.get("argument"))
        if event is None:
            await self.notice("unreadable")
            return True
        if kind == "choice" and await self._out_of_date(session, request.get("drawn")):
            # Drawn for a question answered since (a second tab, at this instance or another):
            # changes nothing, as a form's does (the forty-seventh attack: it answered the
            # next question, one the person never saw).
            await self.send(
                [
                    {"type": "notice", "text": self.chat.texts.text("stale_form", session.locale)},
                    self.chat.state_frame(session),
                ]
            )
            return True
        outcome = await self.chat.turn(session, event, origin=self.live)
        if outcome.moved is not None:
            await self.move(outcome)
            self.chat.shown_once(outcome.moved)
            return not outcome.erased
        await self.send(self.chat.frames(session, outcome, echo=False))
        self.chat.shown_once(session)  # this page has the resume words, if any: no other will
        return not outcome.erased

    async def _out_of_date(self, session: WebSession, mark: object) -> bool:
        """Whether ``mark`` (a page's ``drawn``) is of a question answered since; as the store
        holds the conversation now where other instances share it."""
        if not isinstance(mark, str):
            return False  # a script without marks: taken as before
        if self.chat.runtime.shares_store:
            await self.chat.find(session.token, recheck=True)
        return session.drawn_before(mark)

    async def open(self, kind: object, request: dict[str, Any]) -> bool:
        if kind == "resume":
            token = request.get("session")
            session = await self.chat.find(token, recheck=True) if isinstance(token, str) else None
            if session is None:
                await self.gone()
                return False
            if session.kept_at is None:  # the store lost it: told now, as a page drawn again
                await self.move(await self.chat.start_over(session, None))
                return True
            self.attach(session)
            await self.send(
                [self.chat.interface_frame(session.locale), self.chat.state_frame(session)]
            )
            return True
        if kind == "start":
            locale = request.get("locale")
            session, outcome = await self.chat.start(
                locale if isinstance(locale, str) else None, request.get("from")
            )
            self.attach(session)
            frames: list[Frame] = [{"type": "session", "session": session.token}]
            await self.send(frames + self.chat.frames(session, outcome, echo=False))
            return True
        await self.notice("unreadable")
        return True

    def attach(self, session: WebSession) -> None:
        self.session = session
        displaced = session.listen(self.live)
        if isinstance(displaced, LiveSocket) and not displaced.ws.closed:
            # A ninth page on one conversation: the oldest lets go (its script reconnects
            # later, with a growing wait), so one conversation never holds more files.
            closing = asyncio.get_running_loop().create_task(
                displaced.ws.close(code=CLOSE_DISPLACED)
            )
            _CLOSING.add(closing)  # kept until done: a task nothing refers to may be dropped
            closing.add_done_callback(_CLOSING.discard)
        log_event("socket opened", session=session_tag(session.session_id))

    async def gone(self) -> None:
        await self.send([{"type": "gone"}])
        await self.live.ws.close(code=CLOSE_GONE)

    async def move(self, outcome: TurnOutcome) -> None:
        """The conversation goes on under another address: this page follows it. Lost by the
        store, the page is drawn again there, notice first (``session``); its first answer
        taken by a copy (``TurnOutcome.forked``), the page stays and takes the new address
        and form token (``address``), then the turn's frames."""
        moved = outcome.moved
        assert moved is not None
        self.close()
        self.attach(moved)
        told: Frame = (
            {"type": "address", "session": moved.token, "csrf": moved.csrf}
            if outcome.forked
            else {"type": "session", "session": moved.token}
        )
        await self.send([told, *self.chat.frames(moved, outcome, echo=False)])

    async def plan(self, session: WebSession) -> None:
        if not self.chat.within_limit(session):
            await self.notice("rate_limited")
            return
        # The text is fetched again by the download link; here we only learn whether it exists.
        text = await self.chat.plan(session, origin=self.live)
        if isinstance(text, TurnOutcome):
            await self.move(text)
            return
        if text is None:
            entry = self.chat.notice(session, "no_plan")
            await self.send([{"type": "notice", "text": entry.text}])
            return
        await self.send([{"type": "plan", "url": f"/c/{session.token}/plan.txt"}])
