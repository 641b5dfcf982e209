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

from collections.abc import Callable
from typing import TypeVar

from redirection_bot.work_lane import WorkLane

INLINE_CHARACTERS = 300
"""Messages up to this long are screened on the event loop (about 30 ms at the worst)."""

_T = TypeVar("_T")


class ScreeningLane:
    """One lane for long screenings: ``await lane.run(len(text), work)``."""

    def __init__(self, inline_characters: int = INLINE_CHARACTERS) -> None:
        self.inline_characters = inline_characters
        self._lane = WorkLane(width=1)

    async def run(self, size: int, work: Callable[[], _T]) -> _T:
        """``work()``, here when ``size`` is small, else in a worker thread in its turn."""
        if size <= self.inline_characters:
            return work()
        return await self._lane.run(work, rank=size)

    @property
    def waiting(self) -> int:
        """Long messages waiting for the lane (not counting the one being screened)."""
        return self._lane.waiting
