"""Endings left for later: a "leave now" or "erase" that met a store that failed, finished in
the background as soon as the store answers again.

One task for all of them asks the store once a second (not one task per conversation backing
off to a minute: the fifty-third attack read a left conversation, plan and words, at two
instances for 28 seconds after Redis came back). While one waits, this instance answers for
its conversation as ended. Each is given up only when the conversation would have expired
anyway.

A quick exit never waits for a store that hangs: an ending not done within
``QUICK_EXIT_SECONDS`` is answered as done and left to finish here (the fifty-sixth attack:
"Leave now" without JavaScript took 5 s, a REST "/stop" 15 s, while Redis hung).

What waits outlives the process (``EndingsJournal``): an "erase" answered while Redis hung was
lost when that instance restarted, and the conversation stayed readable a day, its resume
words opening it for a month (the fifty-sixth attack).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from redirection_bot.api import (
    DecryptionError,
    Keyring,
    SessionBusy,
    StoreUnavailable,
    VersionConflict,
    log_event,
    read_kept,
    write_kept,
)

_T = TypeVar("_T")

Ending = Callable[[str], Awaitable[object]]
"""Erase or leave one conversation (by its session id) in the store."""

RETRY_SECONDS = 1.0
"""How often the store is asked again while an ending waits for it."""
QUICK_EXIT_SECONDS = 1.0
"""How long a person's "leave now" or "erase" waits for the store before it is answered."""
DRAIN_SECONDS = 5.0
"""How long a stopping instance keeps trying the endings that wait (they are kept after)."""

WHAT = "waiting endings"
HEADER = b"redirection-bot waiting endings, format 1\n"

Entry = tuple[str, str, float]
"""(the ending's name, the session id, until when it is tried: Unix seconds)."""


class StillRunning(Exception):
    """``quickly``'s call did not answer within ``QUICK_EXIT_SECONDS``; ``attempt`` goes on."""

    def __init__(self, attempt: asyncio.Future[Any]) -> None:
        super().__init__("still running")
        self.attempt = attempt


async def quickly(call: Awaitable[_T]) -> _T:
    """``call``'s answer, waited for ``QUICK_EXIT_SECONDS`` at most (a quick exit never waits
    for a store that hangs); past that, ``StillRunning`` holds the attempt, which goes on."""
    attempt = asyncio.ensure_future(call)
    try:
        return await asyncio.wait_for(asyncio.shield(attempt), QUICK_EXIT_SECONDS)
    except TimeoutError:
        raise StillRunning(attempt) from None


def outcome_unwanted(done: asyncio.Future[Any]) -> None:
    """A turn left to finish after the person was answered (a quick exit that did not wait for
    the store): its outcome, or its error, is not wanted."""
    if not done.cancelled():
        done.exception()


class EndingsJournal:
    """The endings that wait, kept in a file (in the folder ``serve`` keeps what it made:
    ``cache_folder``, this user's alone) while any wait, written whole and checked whole
    (``write_kept``), sealed with a key derived from the store's: whoever reads the disk
    learns that some wait, never which conversations. A restarted instance finishes them."""

    def __init__(self, folder: Path, name: str, keyring: Keyring) -> None:
        self.folder = folder
        self.path = folder / f"endings-{name}"
        self.keyring = keyring

    def write(self, entries: list[Entry]) -> None:
        if not entries:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            return
        sealed = self.keyring.seal(json.dumps(entries).encode(), HEADER)
        write_kept(self.folder, self.path, HEADER, sealed, WHAT)

    def read(self) -> list[Entry]:
        kept = read_kept(self.folder, self.path, HEADER, bytes, WHAT)
        if kept is None:
            return []
        try:
            found = json.loads(self.keyring.open(kept, HEADER))
            return [(str(name), str(session), float(until)) for name, session, until in found]
        except (DecryptionError, ValueError, TypeError):
            log_event(f"{WHAT} ignored", reason="unreadable")  # sealed with other keys
            return []


class Endings:
    """The endings that wait for the store, tried together every ``interval`` seconds."""

    def __init__(
        self,
        ttl_seconds: float,
        clock: Callable[[], float],
        interval: float = RETRY_SECONDS,
        journal: EndingsJournal | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._wall_clock = wall_clock
        self._interval = interval
        self._journal = journal
        self._waiting: dict[tuple[str, Ending], float] = {}
        """(session id, ending) -> when it is given up."""
        self._names: dict[Ending, str] = {}
        self._task: asyncio.Task[None] | None = None

    def name(self, name: str, ending: Ending) -> None:
        """Know ``ending`` by ``name`` in the journal (a bound method is equal to itself)."""
        self._names[ending] = name

    def later(self, session_id: str, ending: Ending) -> None:
        """Finish ``ending(session_id)`` as soon as the store answers (a conversation may
        wait for several: its leaving, and the answers kept for its resends)."""
        self._waiting[(session_id, ending)] = self._clock() + self._ttl
        self._keep()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    def still_trying(self, session_id: str, ending: Ending, attempt: asyncio.Future[Any]) -> None:
        """``attempt`` (``ending(session_id)``) has not answered yet: it waits as any other
        ending, and is done as soon as the attempt succeeds."""
        self.later(session_id, ending)

        def finished(done: asyncio.Future[Any]) -> None:
            if done.cancelled() or done.exception() is not None:
                return  # tried again every second
            if self._waiting.pop((session_id, ending), None) is not None:
                self._keep()

        attempt.add_done_callback(finished)

    def waits(self, session_id: str) -> bool:
        """Whether the conversation was ended here and the store does not know it yet."""
        return any(waiting == session_id for waiting, _ending in self._waiting)

    def restore(self) -> int:
        """Wait again for what a previous run of this instance left waiting; how many."""
        if self._journal is None:
            return 0
        by_name = {name: ending for ending, name in self._names.items()}
        now, wall = self._clock(), self._wall_clock()
        restored = 0
        for name, session_id, until in self._journal.read():
            ending = by_name.get(name)
            if ending is not None and until > wall:
                self._waiting[(session_id, ending)] = now + (until - wall)
                restored += 1
        self._keep()
        if restored:
            log_event("endings restored", count=restored, connector="webchat")
            if self._task is None or self._task.done():
                self._task = asyncio.create_task(self._run())
        return restored

    async def drain(self, within: float = DRAIN_SECONDS) -> None:
        """Keep trying for up to ``within`` seconds (the instance is stopping); what still
        waits then is kept in the journal, or, without one, given up and said so."""
        deadline = self._clock() + within
        while self._waiting and self._clock() < deadline:
            await self.try_all()
            if self._waiting:
                await asyncio.sleep(self._interval)
        if self._task is not None:
            self._task.cancel()
        if self._waiting and self._journal is None:
            log_event("endings abandoned", count=len(self._waiting), connector="webchat")

    async def _run(self) -> None:
        while self._waiting:
            await asyncio.sleep(self._interval)
            await self.try_all()

    async def try_all(self) -> None:
        """Try every waiting ending once, in the order they were asked for; stop at the first
        the store cannot take at all (it is still away)."""
        before = len(self._waiting)
        try:
            for key, until in list(self._waiting.items()):
                session_id, ending = key
                if key not in self._waiting:
                    continue  # its first attempt succeeded meanwhile
                if self._clock() > until:
                    self._waiting.pop(key, None)
                    log_event("session ended", reason="abandoned", connector="webchat")
                    continue
                try:
                    await ending(session_id)
                except StoreUnavailable:
                    return
                except (SessionBusy, VersionConflict):
                    continue  # another turn holds it: next second
                self._waiting.pop(key, None)
                log_event("session ended", reason="retried", connector="webchat")
        finally:
            if len(self._waiting) != before:
                self._keep()

    def _keep(self) -> None:
        if self._journal is None:
            return
        now, wall = self._clock(), self._wall_clock()
        self._journal.write(
            [
                (self._names[ending], session_id, wall + (until - now))
                for (session_id, ending), until in self._waiting.items()
                if ending in self._names
            ]
        )
