"""The per-session lock: one turn at a time, nothing kept once no turn holds or awaits it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from redirection_bot.store import SessionBusy
from redirection_bot.turn.session_lock import LockEntry, SessionLock


class _TurnFailed(Exception):
    pass


class _StoreLock:
    """A store's cross-process lock that records what it was asked, and can refuse."""

    def __init__(self, busy: bool = False) -> None:
        self.busy = busy
        self.held: list[str] = []
        self.released: list[str] = []

    def lock(self, key: str) -> AbstractAsyncContextManager[None]:
        @asynccontextmanager
        async def held() -> AsyncIterator[None]:
            if self.busy:
                raise SessionBusy(key)
            self.held.append(key)
            try:
                yield
            finally:
                self.released.append(key)

        return held()


async def test_turns_of_one_session_take_turns_and_the_entry_goes_after() -> None:
    locks: dict[str, LockEntry] = {}
    order: list[str] = []

    async def turn(name: str) -> None:
        async with SessionLock(locks, "s", None):
            order.append(f"{name} in")
            await asyncio.sleep(0)
            order.append(f"{name} out")

    await asyncio.gather(turn("a"), turn("b"))
    assert order == ["a in", "a out", "b in", "b out"]
    assert locks == {}


async def test_other_sessions_do_not_wait() -> None:
    locks: dict[str, LockEntry] = {}
    async with SessionLock(locks, "s", None):
        async with asyncio.timeout(1):
            async with SessionLock(locks, "t", None):
                assert set(locks) == {"s", "t"}
    assert locks == {}


async def test_an_error_in_the_turn_releases_the_lock_and_goes_through() -> None:
    locks: dict[str, LockEntry] = {}
    store = _StoreLock()
    with pytest.raises(_TurnFailed):
        async with SessionLock(locks, "s", store):
            raise _TurnFailed
    assert locks == {}
    assert store.held == store.released == ["s"]


async def test_a_busy_store_releases_the_process_lock() -> None:
    locks: dict[str, LockEntry] = {}
    with pytest.raises(SessionBusy):
        async with SessionLock(locks, "s", _StoreLock(busy=True)):
            pytest.fail("entered a lock the store refused")
    assert locks == {}


async def test_a_turn_cancelled_while_waiting_leaves_no_entry_behind() -> None:
    locks: dict[str, LockEntry] = {}
    first = SessionLock(locks, "s", None)
    await first.__aenter__()

    async def waiting() -> None:
        async with SessionLock(locks, "s", None):
            pytest.fail("entered a lock held by another turn")

    task = asyncio.create_task(waiting())
    await asyncio.sleep(0)
    assert locks["s"].users == 2
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert locks["s"].users == 1
    await first.__aexit__(None, None, None)
    assert locks == {}
