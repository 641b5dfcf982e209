"""Endings left for later: a "leave now" or "erase" that met a store that failed, finished in
the background as soon as the store answers again.

One task for all of them asks the store once a second (not one task per conversation backing
off to a minute: the fifty-third attack read a left conversation, plan and words, at two
instances for 28 seconds after Redis came back). While one waits, this instance answers for
its conversation as ended. Each is given up only when the conversation would have expired
anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from redirection_bot.api import SessionBusy, StoreUnavailable, VersionConflict, log_event

Ending = Callable[[str], Awaitable[object]]
"""Erase or leave one conversation (by its session id) in the store."""

RETRY_SECONDS = 1.0
"""How often the store is asked again while an ending waits for it."""


class Endings:
    """The endings that wait for the store, tried together every ``interval`` seconds."""

    def __init__(
        self, ttl_seconds: float, clock: Callable[[], float], interval: float = RETRY_SECONDS
    ) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._interval = interval
        self._waiting: dict[tuple[str, Ending], float] = {}
        """(session id, ending) -> when it is given up."""
        self._task: asyncio.Task[None] | None = None

    def later(self, session_id: str, ending: Ending) -> None:
        """Finish ``ending(session_id)`` as soon as the store answers (a conversation may
        wait for several: its leaving, and the answers kept for its resends)."""
        self._waiting[(session_id, ending)] = self._clock() + self._ttl
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    def waits(self, session_id: str) -> bool:
        """Whether the conversation was ended here and the store does not know it yet."""
        return any(waiting == session_id for waiting, _ending in self._waiting)

    async def _run(self) -> None:
        while self._waiting:
            await asyncio.sleep(self._interval)
            await self.try_all()

    async def try_all(self) -> None:
        """Try every waiting ending once, in the order they were asked for; stop at the first
        the store cannot take at all (it is still away)."""
        for key, until in list(self._waiting.items()):
            session_id, ending = key
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
