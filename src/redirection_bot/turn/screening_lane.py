"""Long messages are screened off the event loop, one at a time, the shortest first.

Screening costs about 0.1 ms a character in the worst case (a word that starts many phrases,
repeated: "a a a ..."), and a message is screened up to 20,000 characters, so that a risk in a
pasted text is found even when the text is refused as too long. On the event loop, one such
message held every other conversation of the instance for about two seconds: four scripted
senders made a person's ordinary turn take 8 to 16 seconds.

So a message longer than ``INLINE_CHARACTERS`` is screened in a worker thread, and only one of
them at a time: the event loop keeps answering everyone else (Python hands it the interpreter
every few milliseconds), and however many long messages arrive, they share one thread's worth
of time. Waiting long messages go shortest first, so that a person's long message is not
queued behind a script's 20,000-character ones. An ordinary message (most are under a
hundred characters) is screened where it arrives, as before: the hop to a thread would cost
more than its screening.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from typing import TypeVar

INLINE_CHARACTERS = 300
"""Messages up to this long are screened on the event loop (about 30 ms at the worst)."""

_T = TypeVar("_T")


class ScreeningLane:
    """One lane for long screenings: ``await lane.run(len(text), work)``."""

    def __init__(self, inline_characters: int = INLINE_CHARACTERS) -> None:
        self.inline_characters = inline_characters
        self._busy = False
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    async def run(self, size: int, work: Callable[[], _T]) -> _T:
        """``work()``, here when ``size`` is small, else in a worker thread in its turn."""
        if size <= self.inline_characters:
            return work()
        await self._acquire(size)
        try:
            return await asyncio.to_thread(work)
        finally:
            self._release()

    @property
    def waiting(self) -> int:
        """Long messages waiting for the lane (not counting the one being screened)."""
        return sum(not future.done() for _size, _order, future in self._waiting)

    async def _acquire(self, size: int) -> None:
        if not self._busy:
            self._busy = True
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (size, next(self._arrivals), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release()  # handed the lane just as it was cancelled: pass it on
            raise

    def _release(self) -> None:
        while self._waiting:
            _size, _order, future = heapq.heappop(self._waiting)
            if not future.done():  # a waiter cancelled meanwhile is passed over
                future.set_result(None)
                return
        self._busy = False
