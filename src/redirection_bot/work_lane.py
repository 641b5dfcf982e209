"""Costly work, a few at a time, off the event loop: one mechanism for long screenings and for
the resume words' scrypt.

A ``WorkLane`` runs at most ``width`` pieces of work at once, each in a worker thread, and
keeps the rest waiting in order (smallest ``rank`` first, then first come). With
``max_waiting`` set, a piece that would wait behind that many others is refused at once
(``LaneFull``): whatever arrives, the work held in memory and the wait of the piece that is let
in stay bounded, and the caller answers "try again in a minute" instead of an unbounded delay;
a piece of a smaller rank arriving then takes the place of the last-ranked waiter instead.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T")


class LaneFull(Exception):
    """The lane had ``max_waiting`` pieces waiting already: nothing was run."""


class WorkLane:
    """``await lane.run(work, rank)``: ``work()`` in a worker thread, in its turn."""

    def __init__(self, width: int = 1, max_waiting: int | None = None) -> None:
        if width < 1:
            raise ValueError("a lane runs at least one piece of work at a time")
        self.width = width
        self.max_waiting = max_waiting
        self._running = 0
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    async def run(self, work: Callable[[], _T], rank: int = 0) -> _T:
        """``work()`` in a worker thread once a place is free; ``LaneFull`` when too many wait."""
        await self._acquire(rank)
        try:
            return await asyncio.to_thread(work)
        finally:
            self._release()

    @property
    def waiting(self) -> int:
        """Pieces waiting for a place (not counting those running)."""
        return sum(not future.done() for _rank, _order, future in self._waiting)

    @property
    def running(self) -> int:
        return self._running

    @property
    def full(self) -> bool:
        """Whether a piece of work arriving now would be refused (``LaneFull``)."""
        return (
            self._running >= self.width
            and self.max_waiting is not None
            and self.waiting >= self.max_waiting
        )

    async def _acquire(self, rank: int) -> None:
        if self._running < self.width:
            self._running += 1
            return
        if self.max_waiting is not None and self.waiting >= self.max_waiting:
            self._make_room(rank)  # LaneFull unless a later-ranked piece gives its place
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (rank, next(self._arrivals), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled() and future.exception() is None:
                self._release()  # handed a place just as it was cancelled: pass it on
            raise

    def _make_room(self, rank: int) -> None:
        """A full queue: the waiting piece of the largest rank, if larger than ``rank``, is
        refused (``LaneFull``) so this one can wait instead; otherwise this one is refused.
        Work of a smaller rank never waits behind a full queue of larger ranks (a person's
        words to come back, behind a script's requests for new words)."""
        waiting = [entry for entry in self._waiting if not entry[2].done()]
        if not waiting:
            raise LaneFull
        last = max(waiting, key=lambda entry: (entry[0], entry[1]))
        if last[0] <= rank:
            raise LaneFull
        last[2].set_exception(LaneFull())
        last[2].exception()  # retrieved: its waiter raises it

    def _release(self) -> None:
        """Hand the place on to the first waiter still waiting, or free it."""
        while self._waiting:
            _rank, _order, future = heapq.heappop(self._waiting)
            if not future.done():  # a waiter cancelled or refused meanwhile is passed over
                future.set_result(None)
                return
        self._running -= 1
