"""A handoff to a helpline, seen from the person's room: what it shows between turns, and its
questions answered by typing.

While a room's conversation is with the helpline (a person awaited, or an operator talking),
the runtime shows what happens outside the person's turns on the handoff's feed
(``Runtime.pushes``): an operator's words, "Anna has joined", the notices while waiting, the
fallback, "you are back with the program". ``HandoffFeeds`` follows each such feed, one task
per room, and queues each push in the ledger as one message, like the bot's own replies, in
the same transaction that moves the room's cursor past it: the outbox sends it, and after a
restart following goes on after the last push queued. A turn that ends the handoff lets the
follower read what was pushed before the end, then stop; a room left or erased stops at once.

The handoff's own answers ("Keep waiting for a person", "End the chat with the person") are
shown as numbered choices, as the program's are, but the program does not know them, so the
connector reads them (``picked``): the person's next message picks one by its number or its
words, and later messages by its words only, until the program asks something or the
handoff ends (a number written to an operator is the person's, not an answer). Anything
else the person types is theirs: for the program, or for the operator.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from redirection_bot.api import (
    HANDOFF_CHOICE_PREFIX,
    HandoffKeys,
    HandoffView,
    Patience,
    Push,
    Reply,
    Runtime,
    Shown,
    ShownMessage,
    Stopping,
    admit,
    fold,
    log_event,
    session_tag,
    typed_index,
)

from .content import turn_content
from .ledger import Follow, Ledger, Offer, Outgoing
from .outbox import MESSAGE

DRAIN_SECONDS = 2.0
"""After a turn ended the handoff, how long the follower waits for a push it has not read
yet. Pushes are published before the turn that ended the handoff could start (both hold the
session's lock), so they are already on the relay: this only bounds a slow read."""


def offer_in(shown: tuple[Shown, ...] | list[Shown]) -> Offer | None:
    """The handoff answers the last question shown offers (none when that question is the
    program's), or None when nothing shown has answers."""
    asking = [item for item in shown if isinstance(item, ShownMessage) and item.choices]
    if not asking:
        return None
    choices = asking[-1].choices
    if not all(choice.id.startswith(HANDOFF_CHOICE_PREFIX) for choice in choices):
        return Offer()
    return Offer(tuple((choice.id, choice.label) for choice in choices))


def offer_after_turn(previous: Offer, reply: Reply | None) -> Offer:
    """The answers open after the person's turn: those its reply asks, else the ones open
    before by their words only; none once the handoff is over."""
    if reply is not None and (reply.handoff is None or not reply.handoff.active):
        return Offer()
    asked = offer_in(reply.shown) if reply is not None else None
    return asked if asked is not None else Offer(previous.choices, numbered=False)


def picked(offer: Offer, text: str) -> str | None:
    """The id of the offered answer ``text`` picks: its number or its words, or None. Read
    as the program reads it (``admit``: invisible characters gone), so that a "2" typed
    with a zero-width space picks the second answer as it would anywhere."""
    folded = fold(admit(text).text)
    index = typed_index(folded)
    if index is not None:
        in_range = offer.numbered and 0 <= index < len(offer.choices)
        return offer.choices[index][0] if in_range else None
    matches = (choice for choice, label in offer.choices if folded and fold(label) == folded)
    return next(matches, None)


def follow_after(view: HandoffView | None) -> Follow | None:
    """What a turn's reply changes in the room's feed: an active handoff's feed is followed;
    no handoff (erased, or no helpline) follows nothing; an ended one is left to its follower,
    which reads what remains and then lets it go (None: unchanged)."""
    if view is None:
        return Follow(None)
    if view.active and view.feed is not None:
        return Follow(view.feed)
    return None


@dataclass(slots=True)
class _Follower:
    feed: str
    after: str
    ending: asyncio.Event
    task: asyncio.Task[None] | None = None


class HandoffFeeds:
    """Follows the handoff feed of each room that has one (see the module's description)."""

    def __init__(
        self,
        runtime: Runtime,
        ledger: Ledger,
        wake: Callable[[str], None],
        txn: Callable[[str, str, int], str],
        locale: Callable[[str], Awaitable[str]],
        stop: asyncio.Event,
        max_backoff_seconds: float,
    ) -> None:
        self._runtime = runtime
        self._ledger = ledger
        self._wake = wake
        self._txn = txn
        self._locale = locale
        self._stop = stop
        self._max_backoff = max_backoff_seconds
        self._followers: dict[str, _Follower] = {}

    def following(self, room: str) -> bool:
        """Whether a follower reads the room's feed now."""
        follower = self._followers.get(room)
        return follower is not None and follower.task is not None and not follower.task.done()

    async def after_turn(self, room: str, view: HandoffView | None) -> None:
        """Follow, keep following, or let go of the room's feed after a turn whose reply (and
        ``follow_after(view)``) the ledger has recorded."""
        current = self._followers.get(room)
        if view is None:
            await self._cancel(room)  # erased, or no helpline: the ledger follows nothing now
        elif view.active and view.feed is not None:
            if (
                current is not None
                and current.feed == view.feed
                and not current.ending.is_set()
                and self.following(room)
            ):
                return
            await self._cancel(room)
            await self._start_from_ledger(room)
        elif not view.active:
            if current is not None and self.following(room):
                current.ending.set()
            else:
                await self._start_from_ledger(room, ending=True)

    async def stop(self, room: str) -> None:
        """The room was left or its conversation erased: nothing more is sent there."""
        await self._cancel(room)
        await self._ledger.unfollow(room)

    async def resume(self) -> None:
        """Follow again the feeds an earlier process followed, after their last push."""
        for followed in await self._ledger.followed():
            if followed.room not in self._followers:
                self._start(followed.room, followed.feed, followed.after, check=True)

    async def close(self) -> None:
        tasks = [f.task for f in self._followers.values() if f.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._followers.clear()

    # --- one room's follower --------------------------------------------------------------------

    async def _start_from_ledger(self, room: str, ending: bool = False) -> None:
        for followed in await self._ledger.followed(room):
            self._start(room, followed.feed, followed.after, ending=ending)

    def _start(
        self, room: str, feed: str, after: str, ending: bool = False, check: bool = False
    ) -> None:
        follower = _Follower(feed, after, asyncio.Event())
        if ending:
            follower.ending.set()
        self._followers[room] = follower
        follower.task = asyncio.create_task(self._follow(room, follower, check))

    async def _cancel(self, room: str) -> _Follower | None:
        follower = self._followers.pop(room, None)
        if follower is not None and follower.task is not None:
            follower.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower.task
        return follower

    async def _follow(self, room: str, follower: _Follower, check: bool) -> None:
        patience = Patience(self._stop, self._max_backoff)
        try:
            while True:
                try:
                    if self._runtime.handoff_desk is None:
                        break  # started again without a helpline
                    if check and await self._runtime.state(room) is None:
                        break  # the conversation ended (expired) while nobody followed it
                    check = False
                    if await self._read(room, follower):
                        break
                except Exception as error:
                    # The store away (Redis restarting): what is pushed meanwhile stays on the
                    # relay, and is read from the cursor once it is back.
                    log_event(
                        "matrix handoff feed failed", connector="matrix", error=type(error).__name__
                    )
                    await patience.back_off()
                else:
                    patience.reset()
            await self._ledger.unfollow(room, follower.feed)
        except Stopping:
            return
        finally:
            if self._followers.get(room) is follower:
                del self._followers[room]

    async def _read(self, room: str, follower: _Follower) -> bool:
        """Queue the feed's pushes; True once there is nothing more to follow."""
        pushes = self._runtime.pushes(follower.feed, follower.after)
        while True:
            got = await self._next(pushes, follower.ending)
            if got is None:
                return True
            push_id, push = got
            if not await self._queue(room, follower, push_id, push):
                return True
            if not push.active:
                log_event("matrix handoff ended", connector="matrix", session=session_tag(room))
                return True

    async def _next(
        self, pushes: AsyncIterator[tuple[str, Push]], ending: asyncio.Event
    ) -> tuple[str, Push] | None:
        """The next push; once ``ending``, only one that comes within ``DRAIN_SECONDS``."""
        reading = asyncio.ensure_future(_next_push(pushes))
        if not ending.is_set():
            ended = asyncio.ensure_future(ending.wait())
            try:
                await asyncio.wait((reading, ended), return_when=asyncio.FIRST_COMPLETED)
            except BaseException:
                reading.cancel()
                raise
            finally:
                ended.cancel()
            if reading.done():
                return reading.result()
        try:
            return await asyncio.wait_for(reading, DRAIN_SECONDS)
        except TimeoutError:
            return None

    async def _queue(self, room: str, follower: _Follower, push_id: str, push: Push) -> bool:
        locale = await self._locale(room)
        catalog = self._runtime.loaded.catalog

        def label(name: str) -> str:
            return catalog.render(HandoffKeys.FROM_OPERATOR, locale, {"operator": name}).strip()

        content = turn_content(push.shown, operator_label=label)
        txn = self._txn(room, f"push\n{follower.feed}\n{push_id}", 0)
        outgoing = [Outgoing(MESSAGE, txn, content)] if content is not None else []
        offer = offer_in(push.shown) if push.active else Offer()
        queued = await self._ledger.record_push(room, follower.feed, push_id, outgoing, offer)
        follower.after = push_id
        if queued and outgoing:
            self._wake(room)
        return queued


async def _next_push(pushes: AsyncIterator[tuple[str, Push]]) -> tuple[str, Push] | None:
    try:
        return await anext(pushes)
    except StopAsyncIteration:
        return None
