"""The bot's behaviour in rooms: which rooms it talks in, and replies that are sent exactly once.

One room is one session, stored under a keyed hash of the room id. Every incoming event is
turned into a reply through the ledger (``ledger.py``): skipped if already handled, marked
pending while the runtime handles it, its reply kept in the ledger just before the runtime
saves the turn (so that a crash after the save still sends it), then recorded with its
replies in one transaction.
Replies are sent by ``outbox.py``, one sender per room, in order, with transaction ids
derived from the session and the event they answer, so that a resend after a crash is
recognised by the homeserver. The sync token is saved by the caller only after ``handle_batch`` returns.

Room rules: invites to rooms not marked direct are refused (unless ``direct_only`` is off);
a room with more than the person and the bot is left with a message, and the session erased;
a room the person left is left and erased; messages from before the bot joined are history
and never answered.

While a room's conversation is handed to a helpline, what the handoff shows between turns is
followed and sent like the replies (``handoff.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from redirection_bot.api import (
    ChoicePicked,
    Event,
    HandoffView,
    Reply,
    Runtime,
    SessionBusy,
    SessionState,
    ShownEnd,
    Start,
    StoreUnavailable,
    Text,
    log_event,
    session_tag,
)

from .client import MatrixClient, Refused
from .content import notice_content, turn_content
from .handoff import HandoffFeeds, follow_after, offer_after_turn, picked
from .ledger import Ledger, Outgoing, Prepared
from .outbox import LEAVE, MESSAGE, PLAN_FILE, OutboxSender
from .settings import MatrixOptions
from .texts import MatrixText, render
from .updates import (
    Invite,
    Item,
    OwnJoin,
    PersonOther,
    PersonText,
    RoomBatch,
    SyncBatch,
    Undecryptable,
)

JOINING = "joining"
ACTIVE = "active"
LEAVING = "leaving"
LEFT = "left"
ONE_TO_ONE = 2


class MatrixBot:
    """Turns sync batches into conversations, and conversations into queued replies."""

    def __init__(
        self,
        runtime: Runtime,
        client: MatrixClient,
        ledger: Ledger,
        settings: MatrixOptions,
        stop: asyncio.Event,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._runtime = runtime
        self._client = client
        self._ledger = ledger
        self._settings = settings
        self._stop = stop
        self._clock = clock
        self.outbox = OutboxSender(runtime, client, ledger, settings, stop)
        self.feeds = HandoffFeeds(
            runtime, ledger, self.wake, self._txn, self._locale, stop, settings.max_backoff_seconds
        )
        self._plan_nodes: tuple[object, frozenset[str]] = (None, frozenset())

    # --- keys -----------------------------------------------------------------------------------

    def room_key(self, room_id: str) -> str:
        """The session id of a room: a keyed hash, so the store never holds the room id."""
        return "matrix-" + self._digest("room", room_id)

    def event_key(self, event_id: str) -> str:
        return self._digest("event", event_id)

    def _txn(self, room: str, event: str, index: int) -> str:
        return "rb-" + self._digest("txn", f"{room}\n{event}\n{index}")

    def _digest(self, purpose: str, value: str) -> str:
        mac = hmac.new(self._settings.room_key, digestmod=hashlib.sha256)
        mac.update(f"{purpose}\n{value}".encode())
        return mac.hexdigest()[:40]

    @property
    def default_locale(self) -> str:
        return self._settings.locale or self._runtime.loaded.program.default_locale

    # --- a sync batch ---------------------------------------------------------------------------

    async def handle_batch(self, batch: SyncBatch, initial: bool = False) -> None:
        """Record everything a batch asks for. ``initial``: the account's very first sync,
        whose timelines are history; only invites are taken up."""
        for invite in batch.invites:
            await self._invited(invite)
        if not initial:
            # Rooms are independent: each is recorded even if another meets a network error,
            # which is raised afterwards so that the batch is synced again.
            results = await asyncio.gather(
                *(self._room(room_batch) for room_batch in batch.rooms), return_exceptions=True
            )
            for result in results:
                if isinstance(result, BaseException):
                    raise result
        for room_id in batch.left:
            await self._gone(room_id)
        await self._retry_held()

    async def _invited(self, invite: Invite) -> None:
        room = self.room_key(invite.room_id)
        if self._settings.direct_only and not invite.is_direct:
            log_event("matrix invite refused", connector="matrix", reason="not_direct")
            with contextlib.suppress(Refused):  # the invite was withdrawn meanwhile
                await self._client.leave(invite.room_id)
            return
        found = await self._ledger.room_status(room)
        if found is None or found[0] in (LEAVING, LEFT):
            await self._ledger.accept_room(room, JOINING, secrets.token_hex(8))
        try:
            await self._client.join(invite.room_id)
        except Refused as refused:
            log_event("matrix join failed", connector="matrix", error=refused.errcode)
            await self._ledger.room_left(room)
            return
        log_event("matrix invite accepted", connector="matrix", session=session_tag(room))

    async def _room(self, batch: RoomBatch) -> None:
        room = self.room_key(batch.room_id)
        found = await self._ledger.room_status(room)
        status, generation = found if found is not None else (None, "-")
        if status in (LEAVING, LEFT):
            return
        if batch.members > ONE_TO_ONE:
            await self._leave_group(batch.room_id, room, status, generation)
            return
        items = list(batch.items)
        if batch.limited and batch.prev_batch is not None:
            older = await self._client.backfill(
                batch.room_id, batch.prev_batch, lambda item: self._known(room, item)
            )
            items = older + items
        if status in (JOINING, None):
            joined_at = max(
                (i for i, item in enumerate(items) if isinstance(item, OwnJoin)), default=-1
            )
            # What came before the bot joined is history: never answered.
            items = items[joined_at + 1 :]
            if status is None:
                # A room the bot is in without a record of it (its ledger was lost, or the
                # account joined elsewhere): taken up when the person writes. A conversation
                # still in the store goes on where it was.
                if not any(isinstance(item, PersonText) for item in items):
                    return
                generation = secrets.token_hex(8)
                await self._ledger.accept_room(room, ACTIVE, generation)
                if await self._runtime.state(room) is None:
                    items = await self._start_with_first_words(batch.room_id, room, items)
        if batch.members < ONE_TO_ONE:
            await self._person_left(batch.room_id, room, generation)
            return
        if status == JOINING:
            await self._turn(
                batch.room_id, room, f"start:{generation}", Start(self.default_locale), ACTIVE
            )
        for item in items:
            await self._item(batch.room_id, room, item)

    async def _start_with_first_words(
        self, room_id: str, room: str, items: list[Item]
    ) -> list[Item]:
        """The greeting (in the configured language) answers the person's first message;
        words that need an answer (a risk, resume words) are then taken as a turn too
        (``Runtime.first_words_need_a_turn``), so the greeting's turn has a key of its own."""
        first = next(item for item in items if isinstance(item, PersonText))
        key = self.event_key(first.event_id)
        if await self._runtime.first_words_need_a_turn(first.text, self.default_locale):
            await self._turn(room_id, room, f"opened:{key}", Start(self.default_locale))
            return items
        await self._turn(room_id, room, key, Start(self.default_locale))
        return [item for item in items if item is not first]

    async def _known(self, room: str, item: Item) -> bool:
        """Backfill stops at the bot's join or at the first event already handled."""
        return isinstance(item, OwnJoin) or await self._ledger.is_handled(
            room, self.event_key(item.event_id)
        )

    async def _item(self, room_id: str, room: str, item: Item) -> None:
        if isinstance(item, PersonText):
            event = self.event_key(item.event_id)
            await self._turn(room_id, room, event, await self._typed(room, item.text))
        elif isinstance(item, PersonOther):
            await self._notice(room_id, room, self.event_key(item.event_id), MatrixText.ONLY_TEXT)
        elif isinstance(item, Undecryptable):
            event = self.event_key(item.event_id)
            if await self._ledger.is_handled(room, event):
                return
            await self._ledger.hold(room, event, room_id, item.source)
            await self._client.request_key(room_id, item.source)
            log_event("matrix message undecryptable", connector="matrix", session=session_tag(room))

    async def _retry_held(self) -> None:
        """Encrypted messages whose keys may have arrived; given up on after a while."""
        for held in await self._ledger.held():
            if await self._ledger.is_handled(held.room, held.event):
                continue
            item = self._client.decrypt(held.room_id, held.source)
            if not isinstance(item, Undecryptable):
                if item is not None:
                    await self._item(held.room_id, held.room, item)
                await self._ledger.record(held.room, held.event, held.room_id, ())
            elif self._clock() - held.since > self._settings.undecryptable_wait_seconds:
                await self._notice(held.room_id, held.room, held.event, MatrixText.UNDECRYPTABLE)

    async def _typed(self, room: str, text: str) -> Event:
        """What the person typed: the handoff's answer it picks, if it picks one of those open
        (the program knows nothing of them), else their words."""
        choice = picked(await self._ledger.offer(room), text)
        return ChoicePicked(choice) if choice is not None else Text(text)

    # --- one turn, exactly once -----------------------------------------------------------------

    async def _turn(
        self, room_id: str, room: str, event: str, engine_event: Event, status: str | None = None
    ) -> None:
        if await self._ledger.is_handled(room, event):
            return
        digest = _state_digest(await self._runtime.state(room))
        cut = await self._ledger.pending_state(room, event)
        prepared = await self._ledger.prepared(room, event) if cut is not None else None
        try:
            if prepared is None or not _was_saved(cut, digest, prepared):
                await self._ledger.mark_pending(room, event, digest)
                prepared = await self._handle(room, event, engine_event)
            else:
                # The process died after the runtime saved this turn but before its reply was
                # recorded: the reply prepared before the save is sent now, once.
                log_event("matrix turn recovered", connector="matrix", session=session_tag(room))
        except (StoreUnavailable, SessionBusy):
            raise  # nothing was changed: the batch is synced again after a pause
        except Exception as error:
            # One poisoned event must not stop every conversation: it is logged (its error
            # type only) and counted as answered, with nothing to send.
            log_event("matrix turn failed", connector="matrix", error=type(error).__name__)
            prepared = None
        if prepared is None:
            offer = offer_after_turn(await self._ledger.offer(room), None)
            await self._ledger.record(room, event, room_id, (), status, offer)
            self.wake(room)
            return
        await self._ledger.record(
            room, event, room_id, prepared.outgoing, status, prepared.offer, prepared.follow
        )
        self.wake(room)
        view = HandoffView(*prepared.handoff) if prepared.handoff is not None else None
        await self.feeds.after_turn(room, view)

    async def _handle(self, room: str, event: str, engine_event: Event) -> Prepared:
        """Let the runtime handle the event; the reply is kept in the ledger before the
        runtime saves the turn (``Runtime.handle``'s ``before_save``)."""
        made: list[Prepared] = []

        async def prepare(reply: Reply) -> None:
            made.append(await self._prepared(room, event, reply))
            await self._ledger.prepare(room, event, made[-1])

        reply = await self._runtime.handle(room, engine_event, before_save=prepare)
        # A turn that changed nothing in the store (a notice) prepared nothing: nothing to lose.
        return made[-1] if made else await self._prepared(room, event, reply)

    async def _prepared(self, room: str, event: str, reply: Reply) -> Prepared:
        view = reply.handoff
        return Prepared(
            _state_digest(reply.state),
            tuple(await self._outgoing(room, event, reply)),
            offer_after_turn(await self._ledger.offer(room), reply),
            follow_after(view),
            (view.active, view.status, view.feed) if view is not None else None,
        )

    async def _outgoing(self, room: str, event: str, reply: Reply) -> list[Outgoing]:
        erased = any(isinstance(item, ShownEnd) and item.erase for item in reply.shown)
        extra = [render(self._catalog, MatrixText.ERASED, reply.locale)] if erased else []
        outgoing = []
        content = turn_content(reply.shown, extra)
        if content is not None:
            outgoing.append(Outgoing(MESSAGE, self._txn(room, event, 0), content))
        if not erased and set(reply.trace) & self._plan_action_nodes():
            # The plan itself is built when it is sent: it is never written to the ledger, and
            # the turn is recorded at once after the runtime saved it.
            name = render(self._catalog, MatrixText.PLAN_FILE_NAME, reply.locale)
            outgoing.append(Outgoing(PLAN_FILE, self._txn(room, event, 1), {"filename": name}))
        if erased:
            outgoing.append(Outgoing(LEAVE, self._txn(room, event, 2), {}))
        return outgoing

    async def _notice(self, room_id: str, room: str, event: str, key: MatrixText) -> None:
        if await self._ledger.is_handled(room, event):
            return
        text = render(self._catalog, key, await self._locale(room))
        message = Outgoing(MESSAGE, self._txn(room, event, 0), notice_content(text))
        await self._ledger.record(room, event, room_id, [message])
        self.wake(room)

    # --- rooms the bot leaves ---------------------------------------------------------------------

    async def _leave_group(
        self, room_id: str, room: str, status: str | None, generation: str
    ) -> None:
        event = f"group:{generation}"
        if await self._ledger.is_handled(room, event):
            return
        key = MatrixText.GROUP_LEFT if status == ACTIVE else MatrixText.GROUP_REFUSED
        text = render(self._catalog, key, await self._locale(room))
        await self.feeds.stop(room)
        await self._runtime.erase(room)
        if status is None:
            await self._ledger.accept_room(room, LEAVING, generation)
        outgoing = [
            Outgoing(MESSAGE, self._txn(room, event, 0), notice_content(text)),
            Outgoing(LEAVE, self._txn(room, event, 2), {}),
        ]
        await self._ledger.record(room, event, room_id, outgoing, LEAVING)
        log_event("matrix group room left", connector="matrix", session=session_tag(room))
        self.wake(room)

    async def _person_left(self, room_id: str, room: str, generation: str) -> None:
        event = f"alone:{generation}"
        if await self._ledger.is_handled(room, event):
            return
        await self.feeds.stop(room)
        await self._runtime.erase(room)
        leave = Outgoing(LEAVE, self._txn(room, event, 2), {})
        await self._ledger.record(room, event, room_id, [leave], LEAVING)
        log_event("matrix person left", connector="matrix", session=session_tag(room))
        self.wake(room)

    async def _gone(self, room_id: str) -> None:
        """The bot is out of a room (it left, was removed, or the invite was withdrawn)."""
        room = self.room_key(room_id)
        if await self._ledger.room_status(room) is None:
            return
        await self.feeds.stop(room)
        await self._runtime.erase(room)
        await self._ledger.room_left(room)

    async def _locale(self, room: str) -> str:
        state = await self._runtime.state(room)
        return state.locale if state is not None else self.default_locale

    @property
    def _catalog(self) -> Any:
        return self._runtime.loaded.catalog

    def _plan_action_nodes(self) -> frozenset[str]:
        program = self._runtime.loaded.program
        if self._plan_nodes[0] is not program:
            nodes = frozenset(
                node.qualified_id
                for flow in program.flows.values()
                for node in flow.nodes.values()
                if node.action == self._settings.plan_action
            )
            self._plan_nodes = (program, nodes)
        return self._plan_nodes[1]

    # --- sending ------------------------------------------------------------------------------

    def wake(self, room: str) -> None:
        self.outbox.wake(room)

    async def resume(self) -> None:
        await self.outbox.resume()
        await self.feeds.resume()

    def idle(self) -> bool:
        return self.outbox.idle()

    async def close(self) -> None:
        await self.feeds.close()
        await self.outbox.close()


def _was_saved(before: str | None, now: str, prepared: Prepared) -> bool:
    """Whether a turn cut short had saved the state its prepared reply answers: the state
    moved on since the event was taken up, and was not lost meanwhile (a memory store
    restarted, an expired conversation), in which case the event is simply handled again."""
    if now == before:
        return False
    return now == prepared.after or now != _state_digest(None)


def _state_digest(state: SessionState | None) -> str:
    if state is None:
        return "none"
    data = json.dumps(state.to_json(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()[:32]
