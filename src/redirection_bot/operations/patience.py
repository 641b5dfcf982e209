"""Waiting well: exponential backoff with jitter, and sleeps that end when the bot stops.

Used by the plug-ins that talk to servers which may be away or ask them to slow down: the
Matrix connector, and the helpline's operator channels.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

from redirection_bot.operations.logs import log_event

FIRST_DELAY_SECONDS = 0.5


class Stopping(Exception):
    """The connector was asked to stop while waiting."""


class Patience:
    """How long to wait before trying the homeserver again; stops waiting on ``stop``."""

    def __init__(
        self, stop: asyncio.Event, max_delay_seconds: float, connector: str = "matrix"
    ) -> None:
        self._stop = stop
        self._max = max_delay_seconds
        self._failures = 0
        self._connector = connector

    def reset(self) -> None:
        self._failures = 0

    def next_delay(self) -> float:
        delay = min(self._max, FIRST_DELAY_SECONDS * 2**self._failures)
        self._failures = min(self._failures + 1, 30)
        # Up to a quarter less, so that many bots do not come back in step.
        return float(delay * (1 - random.random() / 4))

    async def back_off(self) -> float:
        delay = self.next_delay()
        await self.sleep(delay)
        return delay

    async def wait_out(self, retry_after_seconds: float) -> None:
        """Honour the server's request to slow down (Matrix's ``M_LIMIT_EXCEEDED``, HTTP 429):
        wait as long as it asked."""
        log_event(
            f"{self._connector} rate limited",
            connector=self._connector,
            duration_ms=round(retry_after_seconds * 1000),
        )
        await self.sleep(retry_after_seconds)

    async def sleep(self, seconds: float) -> None:
        """Sleep, or raise Stopping as soon as the bot is asked to stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        if self._stop.is_set():
            raise Stopping
