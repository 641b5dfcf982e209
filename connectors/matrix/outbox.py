"""Sending what the ledger holds: in order, one sender per room, until the homeserver has it.

Each reply is tried until it is sent: a rate limit is waited out for as long as the
homeserver asks, an outage with growing pauses; a reply the homeserver refuses (the bot was
removed from the room) is dropped, and one that fails for a reason of its own is tried a few
times, then dropped, so that the replies after it still go. A row leaves the ledger only
once sent; a resend after a crash carries the same transaction id.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from redirection_bot.api import (
    Patience,
    Runtime,
    SessionBusy,
    Stopping,
    StoreUnavailable,
    log_event,
)

from .client import MatrixClient, RateLimited, Refused, Unreachable
from .content import file_content, plan_text_content
from .ledger import Ledger, OutboxRow, Outgoing
from .settings import MatrixOptions

MESSAGE = "message"
PLAN_FILE = "plan_file"
LEAVE = "leave"
MAX_ATTEMPTS_ON_ERROR = 5


class OutboxSender:
    """Sends each room's replies in the order they were recorded."""

    def __init__(
        self,
        runtime: Runtime,
        client: MatrixClient,
        ledger: Ledger,
        settings: MatrixOptions,
        stop: asyncio.Event,
    ) -> None:
        self._runtime = runtime
        self._client = client
        self._ledger = ledger
        self._settings = settings
        self._stop = stop
        self._senders: dict[str, asyncio.Task[None]] = {}
        self._dirty: set[str] = set()

    def wake(self, room: str) -> None:
        """Make sure the room's sender runs and sees what was just recorded."""
        self._dirty.add(room)
        sender = self._senders.get(room)
        if sender is None or sender.done():
            self._senders[room] = asyncio.create_task(self._send_all(room))

    async def resume(self) -> None:
        """Send what an earlier process recorded but could not send."""
        for room in {row.room for row in await self._ledger.outbox()}:
            self.wake(room)

    def idle(self) -> bool:
        """Nothing is being sent."""
        return all(sender.done() for sender in self._senders.values())

    async def close(self) -> None:
        for sender in self._senders.values():
            sender.cancel()
        await asyncio.gather(*self._senders.values(), return_exceptions=True)
        self._senders.clear()

    async def _send_all(self, room: str) -> None:
        patience = Patience(self._stop, self._settings.max_backoff_seconds)
        try:
            while room in self._dirty:
                self._dirty.discard(room)
                for row in await self._ledger.outbox(room):
                    await self._deliver(row, patience)
        except Stopping:
            return

    async def _deliver(self, row: OutboxRow, patience: Patience) -> None:
        while True:
            try:
                await self._send(row)
            except RateLimited as limited:
                await patience.wait_out(limited.retry_after_seconds)
                continue
            except Unreachable as unreachable:
                log_event("matrix send failed", connector="matrix", error=unreachable.reason)
                await self._ledger.failed(row.seq)
                await patience.back_off()
                continue
            except Refused as refused:
                log_event("matrix send refused", connector="matrix", error=refused.errcode)
            except Exception as error:
                # A reply that cannot be sent for a reason of its own is tried a few times, then
                # dropped, so that the replies after it still go.
                log_event("matrix send failed", connector="matrix", error=type(error).__name__)
                if row.attempts + 1 < MAX_ATTEMPTS_ON_ERROR:
                    await self._ledger.failed(row.seq)
                    row = replace(row, attempts=row.attempts + 1)
                    await patience.back_off()
                    continue
            patience.reset()
            await self._ledger.sent(row.seq)
            return

    async def _send(self, row: OutboxRow) -> None:
        outgoing = row.outgoing
        if outgoing.kind == MESSAGE:
            await self._client.send(row.room_id, outgoing.content, outgoing.txn)
        elif outgoing.kind == PLAN_FILE:
            await self._send_plan(row.room_id, row.room, outgoing)
        elif outgoing.kind == LEAVE:
            await self._client.leave(row.room_id)
            await self._ledger.room_left(row.room)

    async def _send_plan(self, room_id: str, room: str, outgoing: Outgoing) -> None:
        try:
            text = await self._runtime.plan_text(room, self._settings.plan_action)
        except (StoreUnavailable, SessionBusy) as busy:
            raise Unreachable(type(busy).__name__) from busy
        if not text:
            return  # erased meanwhile ("leave now"): nothing to send
        name = str(outgoing.content["filename"])
        try:
            url, encrypted_file, size = await self._client.upload_text(room_id, name, text)
        except Refused as refused:
            # The homeserver takes no files (or not this one): the plan goes as a message.
            log_event("matrix upload refused", connector="matrix", error=refused.errcode)
            await self._client.send(room_id, plan_text_content(text), outgoing.txn)
            return
        content = file_content(name, size, url, encrypted_file)
        await self._client.send(room_id, content, outgoing.txn)
