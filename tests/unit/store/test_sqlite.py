"""The SQLite store keeps sessions across a restart and sweeps idle ones by its clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from redirection_bot.store import VersionConflict
from redirection_bot.store.sqlite import SqliteStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_sessions_survive_closing_and_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state" / "sessions.sqlite3"
    first = SqliteStore(path)
    was = await first.save("a", b"where I was", None, 3600)
    am = await first.save("a", b"where I am", was, 3600)
    await first.close()
    second = SqliteStore(path)
    try:
        found = await second.get("a")
        assert found is not None and (found.data, found.version) == (b"where I am", am)
    finally:
        await second.close()


async def test_expire_removes_only_idle_sessions_and_says_how_many(tmp_path: Path) -> None:
    clock = Clock()
    store = SqliteStore(tmp_path / "s.sqlite3", clock=clock)
    try:
        await store.save("old", b"1", None, 60)
        await store.save("older", b"2", None, 30)
        await store.save("fresh", b"3", None, 3600)
        clock.now += 61
        assert await store.expire() == 2
        assert await store.expire() == 0
        assert await store.get("fresh") is not None
    finally:
        await store.close()


async def test_two_stores_on_one_file_still_refuse_a_lost_update(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    one, two = SqliteStore(path), SqliteStore(path)
    try:
        start = await one.save("a", b"start", None, 3600)
        second = await two.save("a", b"from two", start, 3600)
        found = await one.get("a")
        assert found is not None and (found.data, found.version) == (b"from two", second)
        with pytest.raises(VersionConflict):
            await one.save("a", b"lost update", start, 3600)
    finally:
        await one.close()
        await two.close()
