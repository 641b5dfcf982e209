"""``WebhookChannel``: a helpline platform receives handoffs over signed HTTP, both ways.

Out: every desk event of the service (a ticket, a change, the person's words, the
conversation they agreed to share) is POSTed to ``url`` as JSON, in order, signed
(``signing.py``), with an ``id``; an event is sent until the platform answers 2xx (a 4xx
other than 408 and 429 is a refusal: logged, and the next event goes), and the cursor is
saved after each, so nothing is lost when the platform or the bot is away.

In: the platform POSTs to ``path`` on its own listener (``host``, ``port``): claims,
operator messages, closes, transfers and duty, each signed, with an ``id`` of its own.
Bad signatures and stale timestamps get 401, a replayed ``id`` 409; what the desk did comes
back as ``{"result": "applied" | "duplicate" | "not_yours" | "not_claimed" | "unknown" |
"bad_target"}``.

The platform also keeps the appointment book (``"type"``: ``slots``, ``bookings``,
``add_slot``, ``remove_slot``, ``cancel_booking``, ``no_show``): listings come back beside
the result (``"slots"``, ``"bookings"``: ids, times and statuses, nothing about a person).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hashlib
import json
import time
from typing import Any, ClassVar

import aiohttp
from aiohttp import web

from redirection_bot.api import (
    AppointmentBook,
    BadSlot,
    BookResult,
    ChannelContext,
    DeskEvent,
    Operator,
    Order,
    Outcome,
    Patience,
    SessionBusy,
    Slot,
    SlotView,
    Stopping,
    StoreUnavailable,
    Tallies,
    UnreadableJson,
    bookings,
    change,
    clean_user_text,
    desk_event_json,
    has_broken_characters,
    listen,
    listener_runner,
    log_event,
    new_slot,
    read_json,
    slot_views,
)

from .options import WebhookOptions
from .signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_headers, verify

CONNECTOR = "webhook"
CURSOR = "cursor"
MAX_BODY_BYTES = 64 * 1024
MAX_ID_LENGTH = 200
MAX_NAME_LENGTH = 40
MAX_TEXT_LENGTH = 8000
_RETRIED_STATUSES = frozenset({408, 429})
ORDER_RESULTS = {
    BookResult.DONE: "applied",
    BookResult.UNCHANGED: "duplicate",
    BookResult.UNKNOWN: "unknown",
    BookResult.EXISTS: "exists",
    BookResult.HAS_BOOKINGS: "has_bookings",
    BookResult.NOT_STARTED: "not_started",
}
"""What a change to the appointment book did, in the words of the other acts' results."""
MAX_RETRY_AFTER_SECONDS = 3600.0


class Act(enum.StrEnum):
    """What an operator does through the platform (the request's ``type``)."""

    CLAIM = "claim"
    MESSAGE = "message"
    CLOSE = "close"
    TRANSFER = "transfer"
    DUTY = "duty"


TYPES: tuple[str, ...] = (*Act, *Order)
"""Every request ``type`` the platform may send, in the order docs/operators.md lists them."""
BAD_TYPE = '"type" must be one of ' + ", ".join(TYPES)


class BadRequest(Exception):
    """A platform request that cannot be understood; the message says why."""


class WebhookChannel:
    """A helpline platform connected by signed webhooks (see the module's description)."""

    name: ClassVar[str] = "webhook"
    options_schema: ClassVar[type[WebhookOptions]] = WebhookOptions

    def __init__(self, context: ChannelContext[WebhookOptions]) -> None:
        self.desk = context.desk
        self.settings = context.options
        self.stop = context.stop
        self.appointments = context.appointments
        self.port: int | None = None
        """The port the platform's requests come to, once listening."""
        self.listening = asyncio.Event()
        self.refused = Tallies(connector=CONNECTOR)
        """Refusals anyone who reaches the listener can cause as fast as they like (a bad
        signature, a replay): one line a minute with the count (the fifty-sixth attack: 3,000
        lines in a second with ``-v``)."""

    async def run(self) -> int:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post(self.settings.path, self.inbound)
        runner = listener_runner(app)
        await runner.setup()
        self.port = await listen(
            runner,
            self.settings.host,
            self.settings.port,
            "the webhook channel",
            "`port` in its service's options",
        )
        self.listening.set()
        log_event("webhook listening", connector=CONNECTOR, port=self.port)
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_seconds)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as http:
                await self._send_until_stopped(http)
        except Stopping:
            pass
        finally:
            await runner.cleanup()
        return 0

    # --- out: desk events to the platform --------------------------------------------------------

    async def _send_until_stopped(self, http: aiohttp.ClientSession) -> None:
        patience = Patience(self.stop, self.settings.max_backoff_seconds, CONNECTOR)
        while not self.stop.is_set():
            try:
                cursor = await self.desk.memory.get(CURSOR) or "0"
                sending = asyncio.ensure_future(self._send_after(http, cursor, patience))
                stopping = asyncio.ensure_future(self.stop.wait())
                try:
                    await asyncio.wait((sending, stopping), return_when=asyncio.FIRST_COMPLETED)
                finally:
                    stopping.cancel()
                    if not sending.done():
                        sending.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await sending
            except (StoreUnavailable, SessionBusy) as error:
                log_event(
                    "webhook desk unavailable", connector=CONNECTOR, error=type(error).__name__
                )
                await patience.back_off()

    async def _send_after(
        self, http: aiohttp.ClientSession, cursor: str, patience: Patience
    ) -> None:
        async for event_id, event in self.desk.events(cursor):
            await self._deliver(http, event_id, event, patience)
            await self.desk.memory.put(CURSOR, event_id)

    async def _deliver(
        self, http: aiohttp.ClientSession, event_id: str, event: DeskEvent, patience: Patience
    ) -> None:
        body = json.dumps(
            {"id": event_id, "service": self.desk.name, **desk_event_json(event)},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode("utf-8", "replace")  # never stopped by half a character kept from before
        while True:
            headers = signed_headers(self.settings.secret, int(time.time()), body)
            try:
                async with http.post(self.settings.url, data=body, headers=headers) as answer:
                    status = answer.status
                    retry_after = answer.headers.get("Retry-After", "")
            except (aiohttp.ClientError, TimeoutError) as error:
                log_event("webhook send failed", connector=CONNECTOR, error=type(error).__name__)
                await patience.back_off()
                continue
            if 200 <= status < 300:
                patience.reset()
                return
            if status < 500 and status not in _RETRIED_STATUSES:
                log_event("webhook event refused", connector=CONNECTOR, status=status)
                return
            log_event("webhook send failed", connector=CONNECTOR, status=status)
            if status in (429, 503) and retry_after.isascii() and retry_after.isdigit():
                # the platform said how long to wait (in seconds; an hour at most)
                await patience.wait_out(min(float(retry_after), MAX_RETRY_AFTER_SECONDS))
            else:
                await patience.back_off()

    # --- in: the platform's requests ------------------------------------------------------------

    async def inbound(self, request: web.Request) -> web.Response:
        body = await request.read()
        refused = verify(
            self.settings.secret,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            body,
            time.time(),
            self.settings.tolerance_seconds,
        )
        if refused is not None:
            self.refused.add("webhook request refused", refused)
            return web.json_response({"error": refused}, status=401)
        try:
            payload = _object(body)
            request_id = _text(payload, "id", MAX_ID_LENGTH)
        except BadRequest as error:
            return web.json_response({"error": str(error)}, status=400)
        seen = "seen:" + hashlib.sha256(request_id.encode()).hexdigest()
        if not await self.desk.memory.add_once(seen, 2 * self.settings.tolerance_seconds):
            self.refused.add("webhook request refused", "replayed")
            return web.json_response({"error": "replayed"}, status=409)
        try:
            kind = payload.get("type")
            if kind not in TYPES:
                raise BadRequest(BAD_TYPE)
            if kind in tuple(Order):
                answer = await self._order(Order(kind), payload)
            else:
                answer = {"result": (await self._act(payload, request_id)).value}
        except BadRequest as error:
            await self.desk.memory.delete(seen)
            return web.json_response({"error": str(error)}, status=400)
        except (StoreUnavailable, SessionBusy):
            await self.desk.memory.delete(seen)  # nothing was done: the platform may retry
            return web.json_response({"error": "unavailable"}, status=503)
        log_event("webhook request", connector=CONNECTOR, status=answer["result"])
        return web.json_response(answer)

    async def _act(self, payload: dict[str, Any], request_id: str) -> Outcome:
        kind = Act(payload["type"])  # checked against TYPES by the caller
        if kind is Act.DUTY:
            on = payload.get("on_duty")
            if not isinstance(on, bool):
                raise BadRequest('"on_duty" must be true or false')
            await self.desk.duty(_operator(payload, "operator").ref, on)
            return Outcome.APPLIED
        ticket = _text(payload, "ticket", 40)
        operator = _operator(payload, "operator")
        if kind is Act.CLAIM:
            return await self.desk.claim(ticket, operator)
        if kind is Act.MESSAGE:
            text = _text(payload, "text", MAX_TEXT_LENGTH, words=True)
            if not clean_user_text(text).strip():
                # Only control or invisible characters: nothing the person could read.
                raise BadRequest(f'"text" must be a text of 1 to {MAX_TEXT_LENGTH} characters')
            return await self.desk.write(ticket, operator, text, request_id)
        if kind is Act.CLOSE:
            target = payload.get("return_to")
            if target is not None and not isinstance(target, str):
                raise BadRequest('"return_to" must be a flow name, or flow.node')
            return await self.desk.close(ticket, operator, target or None)
        # Act.TRANSFER, the last
        to = _operator(payload, "to") if payload.get("to") is not None else None
        return await self.desk.transfer(ticket, operator, to)

    async def _order(self, order: Order, payload: dict[str, Any]) -> dict[str, Any]:
        """An order for the appointment book: its result, and the listing asked for."""
        book = self.appointments
        if book is None:
            return {"result": "not_offered"}
        if order is Order.SLOTS:
            return {"result": "applied", "slots": [_slot_json(v) for v in await slot_views(book)]}
        if order is Order.BOOKINGS:
            slot_id = _text(payload, "slot", 32) if payload.get("slot") is not None else None
            found = await bookings(book, slot_id)
            if found is None:
                return {"result": "unknown"}
            listed = [{"id": b.id, "slot": b.slot, "status": b.status.value} for b in found]
            return {"result": "applied", "bookings": listed}
        if order is Order.ADD_SLOT:
            return {"result": ORDER_RESULTS[await book.add_slot(self._new_slot(payload, book))]}
        name = "slot" if order is Order.REMOVE_SLOT else "booking"
        return {"result": ORDER_RESULTS[await change(book, order, _text(payload, name, 32))]}

    def _new_slot(self, payload: dict[str, Any], book: AppointmentBook) -> Slot:
        fields = payload.get("slot")
        if not isinstance(fields, dict):
            raise BadRequest('"slot" must be an object with "id" and "start"')
        program = self.desk.program.program
        served = self.desk.service.locales
        default = served[0] if served else program.default_locale
        try:
            return new_slot(fields, program.locales, default, self.desk.name, book.clock())
        except BadSlot as problem:
            raise BadRequest(f'"slot": {problem}') from problem


def _slot_json(view: SlotView) -> dict[str, Any]:
    slot = view.slot
    return {
        "id": slot.id,
        "start": slot.starts_at(),
        "minutes": slot.minutes,
        "locale": slot.locale,
        "capacity": slot.capacity,
        "taken": view.taken,
        "team": slot.team,
    }


def _object(body: bytes) -> dict[str, Any]:
    try:
        found = read_json(body)
    except UnreadableJson as error:  # what was wrong, as the REST channel says it
        raise BadRequest(f"the body is {error}; send a JSON object in UTF-8") from error
    if not isinstance(found, dict):
        raise BadRequest("send a JSON object in UTF-8")
    return found


def _text(payload: dict[str, Any], name: str, limit: int, words: bool = False) -> str:
    """A text field; unless it is ``words`` to show (an operator's message or name, where half
    a character is shown replaced), an id kept and sent on must hold whole characters (the
    sixteenth attack: an operator id with a lone surrogate, "op-\\ud83d", was applied, and
    the event carrying it then stopped the whole process)."""
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise BadRequest(f'"{name}" must be a text of 1 to {limit} characters')
    if not words and has_broken_characters(value):
        raise BadRequest(f'"{name}" must be a text of whole characters (no half characters)')
    return value


def _operator(payload: dict[str, Any], name: str) -> Operator:
    """An operator as the platform names them: ``{"id": "...", "name": "Anna"}`` (the name is
    what the person is told: a first name or a role)."""
    found = payload.get(name)
    if not isinstance(found, dict):
        raise BadRequest(f'"{name}" must be an object with "id" and "name"')
    ref = _text(found, "id", MAX_ID_LENGTH)
    shown = clean_user_text(_text(found, "name", MAX_NAME_LENGTH, words=True)).strip()
    return Operator(ref, shown)
