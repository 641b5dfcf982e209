"""``MatrixOperatorChannel``: a helpline's operators take handoffs in a Matrix room.

Each request appears as a message in the configured room; its thread is the conversation.
An operator on the allow-list claims it (a ✋ reaction, or ``!claim`` in the thread); what
they then write in the thread goes to the person, and what the person writes comes back in
the thread, with the risks screening found. Commands close (optionally returning the person
to a chosen flow), transfer, and keep private notes (``commands.py``); others list and
change the appointment book (``appointments.py``). Everyone not on the
allow-list is ignored: their messages and reactions change nothing and get no answer.
Everything the bot writes in the room is in the service's ``language`` (``texts.py``).

Two loops share one matrix-nio client (``redirection_bot_connectors.matrix.client``, the same
wrapper the people's connector uses): one posts the desk events of the service, in order,
with transaction ids derived from each event's relay id, saving its cursor after each, so a
restart or a homeserver outage loses and doubles nothing; the other syncs and turns what
operators do into acts on the desk, saving its sync token after each batch (acts are
idempotent, so a replayed batch changes nothing). The desk's clock keeps running while the
homeserver is away: the person still gets the fallback on time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, ClassVar

from redirection_bot.api import (
    ChannelContext,
    ConfigError,
    ConnectorError,
    DeskEvent,
    Operator,
    Outcome,
    Patience,
    SessionBusy,
    Stopping,
    StoreUnavailable,
    TicketChanged,
    TicketOpened,
    log_event,
)

from ...matrix.client import (
    MatrixClient,
    RateLimited,
    Refused,
    Unreachable,
    classify_room_event,
    silence_nio_logs,
)
from ...matrix.updates import (
    Item,
    Reaction,
    RoomText,
    SyncBatch,
    Undecryptable,
)
from .appointments import ORDERS, answer_order
from .commands import CLAIM_REACTIONS, Command, Unknown, Verb, read_command
from .options import MatrixOperatorOptions, allow_list, room_language
from .posts import event_lines, post_content
from .texts import OperatorTexts, check_operator_texts

CONNECTOR = "matrix_operators"
CURSOR = "cursor"
SYNC_TOKEN = "sync_token"
_AUTH_ERRORS = ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_FORBIDDEN")


class MatrixOperatorChannel:
    """A helpline's operators in one Matrix room (see the module's description)."""

    name: ClassVar[str] = "matrix"
    options_schema: ClassVar[type[MatrixOperatorOptions]] = MatrixOperatorOptions

    def __init__(self, context: ChannelContext[MatrixOperatorOptions]) -> None:
        self.desk = context.desk
        self.settings = context.options
        self.operators = allow_list(self.settings.operators)
        """Who may act: Matrix user id -> the name the person is told."""
        self.language = self._language()
        self.stop = context.stop
        self.appointments = context.appointments
        self.synced = asyncio.Event()
        """Set after the first sync: the room (and who is in it) is known."""
        self._client: MatrixClient | None = None
        self._held: dict[str, tuple[float, dict[str, Any]]] = {}
        silence_nio_logs()

    @property
    def client(self) -> MatrixClient:
        assert self._client is not None
        return self._client

    def _language(self) -> str:
        """The room's language, checked against the program this channel serves (the file's
        check cannot tell when it was read without the program)."""
        program = self.desk.program
        try:
            language = room_language(self.settings.language, program.program.locales)
        except ConfigError as error:
            raise ConfigError(str(error).replace("<name>", self.desk.name)) from error
        language = language or program.program.default_locale
        check_operator_texts(program.catalog, language)
        return language

    @property
    def texts(self) -> OperatorTexts:
        """The room's words, from the program's catalog as it is now."""
        return OperatorTexts(self.desk.program.catalog, self.language)

    async def run(self) -> int:
        settings = self.settings
        crypto = None
        if settings.encryption and settings.state_dir is not None:
            Path(settings.state_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
            crypto = settings.state_dir
        self._client = MatrixClient(
            settings.homeserver,
            settings.user_id,
            crypto,
            settings.pickle_key,
            settings.encryption,
            classify_room_event,
        )
        posting: asyncio.Task[None] | None = None
        try:
            await self._log_in()
            posting = asyncio.create_task(self._post_until_stopped())
            await self._sync_until_stopped()
        except Stopping:
            pass
        finally:
            if posting is not None:
                posting.cancel()
                with contextlib.suppress(asyncio.CancelledError, Stopping):
                    await posting
            await self.client.close()
            log_event("matrix operators stopped", connector=CONNECTOR)
        return 0

    async def _log_in(self) -> None:
        patience = self._patience()
        while True:
            try:
                await self.client.log_in_with_token(
                    self.settings.access_token, self.settings.device_id
                )
                return
            except Unreachable as unreachable:
                log_event("matrix login failed", connector=CONNECTOR, error=unreachable.reason)
                await patience.back_off()
            except RateLimited as limited:
                await patience.wait_out(limited.retry_after_seconds)
            except Refused as refused:
                raise ConnectorError(
                    f"the homeserver refused the operator bot's login ({refused.errcode})"
                ) from refused

    def _patience(self) -> Patience:
        return Patience(self.stop, self.settings.max_backoff_seconds, CONNECTOR)

    # --- the desk's events, posted in order -------------------------------------------------------

    async def _post_until_stopped(self) -> None:
        patience = self._patience()
        await self._until_stopped(self.synced.wait())
        while not self.stop.is_set():
            try:
                cursor = await self.desk.memory.get(CURSOR) or "0"
                async for event_id, event in self.desk.events(cursor):
                    await self._post(event_id, event, patience)
                    await self.desk.memory.put(CURSOR, event_id)
            except (StoreUnavailable, SessionBusy) as error:
                log_event(
                    "matrix desk unavailable", connector=CONNECTOR, error=type(error).__name__
                )
                await patience.back_off()

    async def _post(self, relay_id: str, event: DeskEvent, patience: Patience) -> None:
        root = None
        if not isinstance(event, TicketOpened):
            root = await self.desk.memory.get("ticket:" + event.ticket)
        lines = event_lines(event, dict(self.operators), self.texts)
        content = post_content(lines, root)
        sent = await self._send(content, self._txn("desk", relay_id), patience)
        if isinstance(event, TicketOpened):
            await self.desk.memory.put("ticket:" + event.ticket, sent)
            await self.desk.memory.put("root:" + sent, event.ticket)
        if isinstance(event, TicketChanged):
            log_event("matrix ticket updated", connector=CONNECTOR, status=event.change)

    async def _send(self, content: dict[str, Any], txn: str, patience: Patience) -> str:
        """Send until the homeserver has it (the same transaction id each time)."""
        while True:
            try:
                event_id = await self.client.send(self.settings.room, content, txn)
            except RateLimited as limited:
                await patience.wait_out(limited.retry_after_seconds)
                continue
            except (Unreachable, Refused) as error:
                reason = error.reason if isinstance(error, Unreachable) else error.errcode
                log_event("matrix send failed", connector=CONNECTOR, error=reason)
                await patience.back_off()
                continue
            patience.reset()
            return event_id

    def _txn(self, purpose: str, value: str) -> str:
        digest = hashlib.sha256(f"{self.desk.name}\n{purpose}\n{value}".encode()).hexdigest()
        return "rb-op-" + digest[:40]

    # --- what operators do -----------------------------------------------------------------------

    async def _sync_until_stopped(self) -> None:
        patience = self._patience()
        token = await self.desk.memory.get(SYNC_TOKEN)
        first = True
        await self._join()
        while not self.stop.is_set():
            try:
                batch = await self._until_stopped(
                    self.client.sync(token, self.settings.sync_timeout_seconds, first)
                )
                if batch is None:
                    return
                await self._handle(batch, initial=token is None)
            except Unreachable as unreachable:
                log_event("matrix sync failed", connector=CONNECTOR, error=unreachable.reason)
                await patience.back_off()
                continue
            except RateLimited as limited:
                await patience.wait_out(limited.retry_after_seconds)
                continue
            except (StoreUnavailable, SessionBusy) as error:
                log_event(
                    "matrix desk unavailable", connector=CONNECTOR, error=type(error).__name__
                )
                await patience.back_off()
                continue
            except Refused as refused:
                if refused.errcode in _AUTH_ERRORS:
                    raise ConnectorError(
                        f"the homeserver no longer accepts the operator bot ({refused.errcode})"
                    ) from refused
                log_event("matrix sync refused", connector=CONNECTOR, error=refused.errcode)
                await patience.back_off()
                continue
            token = batch.token
            await self.desk.memory.put(SYNC_TOKEN, token)
            patience.reset()
            first = False
            self.synced.set()

    async def _join(self) -> None:
        with contextlib.suppress(Refused, Unreachable):
            await self.client.join(self.settings.room)

    async def _handle(self, batch: SyncBatch, initial: bool) -> None:
        for invite in batch.invites:
            if invite.room_id == self.settings.room:
                await self.client.join(invite.room_id)
            else:
                with contextlib.suppress(Refused):
                    await self.client.leave(invite.room_id)
        if initial:
            return  # what was said before the bot first synced is history
        for room in batch.rooms:
            if room.room_id != self.settings.room:
                continue
            for item in room.items:
                await self._item(item)
        await self._retry_held()

    async def _item(self, item: Item) -> None:
        if isinstance(item, Undecryptable):
            self._held.setdefault(item.event_id, (time.monotonic(), item.source))
            await self.client.request_key(self.settings.room, item.source)
            return
        if not isinstance(item, RoomText | Reaction):
            return
        name = self.operators.get(item.sender)
        if name is None:
            log_event("operator ignored", connector=CONNECTOR, reason="not_allowed")
            return
        operator = Operator(item.sender, name)
        if isinstance(item, Reaction):
            if item.key.strip() in CLAIM_REACTIONS:
                ticket = await self.desk.memory.get("root:" + item.target)
                if ticket is not None:
                    outcome = await self.desk.claim(ticket, operator)
                    await self._answer(item.event_id, item.target, outcome)
            return
        await self._text(item, operator)

    async def _text(self, item: RoomText, operator: Operator) -> None:
        command = read_command(item.text)
        ticket = None
        if item.thread_root is not None:
            ticket = await self.desk.memory.get("root:" + item.thread_root)
        if ticket is None or item.thread_root is None:
            await self._room_command(item, operator, command)
            return
        root = item.thread_root
        if command is None:
            outcome = await self.desk.write(ticket, operator, item.text, item.event_id)
            await self._answer(item.event_id, root, outcome)
        elif isinstance(command, Unknown) or command.verb is Verb.HELP:
            await self._notice(item.event_id, root, self._help())
        elif command.verb is Verb.CLAIM:
            await self._answer(item.event_id, root, await self.desk.claim(ticket, operator))
        elif command.verb in (Verb.CLOSE, Verb.RETURN):
            outcome = await self.desk.close(ticket, operator, command.argument or None)
            await self._answer(item.event_id, root, outcome, command)
        elif command.verb is Verb.TRANSFER:
            await self._transfer(item, root, ticket, operator, command)
        elif command.verb is Verb.NOTE:
            await self._notice(item.event_id, root, self.texts.say("note_kept"))
        else:
            await self._room_command(item, operator, command)

    async def _transfer(
        self, item: RoomText, root: str, ticket: str, operator: Operator, command: Command
    ) -> None:
        to = None
        if command.argument:
            name = self.operators.get(command.argument)
            if name is None:
                told = self.texts.say("not_an_operator", user=command.argument)
                await self._notice(item.event_id, root, told)
                return
            to = Operator(command.argument, name)
        outcome = await self.desk.transfer(ticket, operator, to)
        await self._answer(item.event_id, root, outcome)

    async def _room_command(
        self, item: RoomText, operator: Operator, command: Command | Unknown | None
    ) -> None:
        if command is None:
            return  # talk between operators
        thread = item.thread_root
        if isinstance(command, Unknown):
            await self._notice(item.event_id, thread, self._help())
        elif command.verb in (Verb.ON, Verb.OFF):
            await self.desk.duty(operator.ref, command.verb is Verb.ON)
            count = await self.desk.on_duty_count()
            state = "on_duty" if command.verb is Verb.ON else "off_duty"
            told = self.texts.say(state, operator=operator.name, number=str(count))
            await self._notice(item.event_id, thread, told)
        elif command.verb is Verb.QUEUE:
            waiting = await self.desk.queue()
            told = (
                self.texts.say("queue", tickets=", ".join(waiting))
                if waiting
                else self.texts.say("queue_empty")
            )
            await self._notice(item.event_id, thread, told)
        elif command.verb in ORDERS:
            locales = self.desk.program.program.locales
            told = await answer_order(
                self.appointments, command, self.texts, locales, self.desk.name
            )
            log_event("appointment order", connector=CONNECTOR, action=ORDERS[command.verb].value)
            await self._notice(item.event_id, thread, told)
        else:
            await self._notice(item.event_id, thread, self._help())

    def _help(self) -> str:
        told = self.texts.say("help")
        if self.appointments is not None:
            told += "\n" + self.texts.say("appointments.help")
        return told

    async def _answer(
        self, event_id: str, root: str, outcome: Outcome, command: Command | None = None
    ) -> None:
        """Say why an act changed nothing (what did change is told by the desk's events)."""
        if outcome is Outcome.APPLIED:
            return
        if outcome is Outcome.BAD_TARGET and command is not None:
            text = self.texts.say("no_such_place", target=command.argument)
        else:
            text = self.texts.refusal(outcome)
        await self._notice(event_id, root, text)

    async def _notice(self, event_id: str, thread: str | None, text: str) -> None:
        content = post_content([text], thread)
        content["msgtype"] = "m.notice"
        await self._send(content, self._txn("answer", event_id), self._patience())

    async def _retry_held(self) -> None:
        """Operators' encrypted messages whose keys may have arrived since."""
        for event_id, (since, source) in list(self._held.items()):
            item = self.client.decrypt(self.settings.room, source)
            if not isinstance(item, Undecryptable):
                del self._held[event_id]
                if item is not None:
                    await self._item(item)
            elif time.monotonic() - since > self.settings.undecryptable_wait_seconds:
                del self._held[event_id]
                await self._notice(event_id, None, self.texts.say("undecryptable"))

    async def _until_stopped(self, work: Coroutine[Any, Any, Any]) -> Any:
        """``work``'s result, or None as soon as the channel is asked to stop."""
        working = asyncio.ensure_future(work)
        stopping = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait((working, stopping), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not working.done():
                working.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await working
        if working.cancelled():
            return None
        return working.result()
