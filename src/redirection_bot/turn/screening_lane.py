"""Long messages are screened off the event loop, one at a time, the shortest first.

Screening costs about 0.1 ms a character in the worst case (a word that starts many phrases,
repeated: "a a a ..."), and a message is screened up to 20,000 characters, so that a risk in a
pasted text is found even when the text is refused as too long. On the event loop, one such
message held every other conversation of the instance for about two seconds: four scripted
senders made a person's ordinary turn take 8 to 16 seconds.

So a message longer than ``INLINE_CHARACTERS`` is screened in a worker thread, and only one of
them at a time: the event loop keeps answering everyone else (Python hands it the interpreter
every few milliseconds), and however many long messages arrive, they share one thread's worth
of time. Waiting long messages go in the order of a deadline, their arrival plus a
millisecond a character (``WAIT_PER_CHARACTER``): the shorter first among those that arrived
together, so that a person's long message is not queued behind a script's 20,000-character
ones (those go 19 s behind it), yet never left waiting for good behind a stream of shorter
ones arriving after it (the fifteenth attack: 301-character messages from throwaway
conversations, 55 a second, kept a 600-character "I want to end my life tonight..." unanswered
for 180 s when the shortest always went first; now at most 0.3 s behind them). An ordinary
message (most are under a hundred characters) is screened where it arrives, as before: the
hop to a thread would cost more than its screening.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from redirection_bot.work_lane import WorkLane

INLINE_CHARACTERS = 300
"""Messages up to this long are screened on the event loop (about 30 ms at the worst)."""

WAIT_PER_CHARACTER = 0.001
"""Seconds a waiting message's turn comes later for each of its characters."""

_T = TypeVar("_T")


class ScreeningLane:
    """One lane for long screenings: ``await lane.run(len(text), work)``."""

    def __init__(
        self,
        inline_characters: int = INLINE_CHARACTERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inline_characters = inline_characters
        self._lane = WorkLane(width=1)
        self._clock = clock

    async def run(self, size: int, work: Callable[[], _T]) -> _T:
        """``work()``, here when ``size`` is small, else in a worker thread in its turn: by
        its deadline, in milliseconds (its arrival, plus its length's handicap)."""
        if size <= self.inline_characters:
            return work()
        deadline = self._clock() + size * WAIT_PER_CHARACTER
        return await self._lane.run(work, rank=round(deadline * 1000))

    @property
    def waiting(self) -> int:
        """Long messages waiting for the lane (not counting the one being screened)."""
        return self._lane.waiting
