"""The SQLite store keeps sessions across a restart and sweeps idle ones by its clock."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from redirection_bot.store import VersionConflict, coarse_ttl
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
        clock.now += 61 + 6  # the time to live, and its grain (`coarse_ttl`)
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


async def test_the_expiry_on_disk_tells_the_save_time_only_to_ten_minutes(tmp_path: Path) -> None:
    """An outside attacker's finding: the expiry beside each sealed record, readable without
    the key, gave the second each conversation was last saved. It is rounded up to ten
    minutes (a tenth of a shorter time to live), never shorter than asked."""
    clock = Clock()
    store = SqliteStore(tmp_path / "s.sqlite3", clock=clock)
    saved_at = []
    try:
        for key, second in (("a", 1_000_123.4567), ("b", 1_000_190.25)):
            clock.now = second
            saved_at.append(second)
            await store.save(key, b"x", None, 86_400)
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "s.sqlite3") as db:
        rows = dict(db.execute("SELECT key, expires_at FROM sessions").fetchall())
    assert rows["a"] == rows["b"]  # two saves a minute apart look alike
    for second, expiry in zip(saved_at, (rows["a"], rows["b"]), strict=True):
        assert expiry % 600 == 0
        assert second + 86_400 <= expiry < second + 86_400 + 600


def test_a_coarse_time_to_live_is_never_shorter_and_short_ones_keep_a_fine_grain() -> None:
    assert coarse_ttl(1_000_002.0, 60) == 60  # on the grain already (6 s)
    assert coarse_ttl(1_000_000.0, 60) == 62  # rounded up to it
    assert 1.0 <= coarse_ttl(1_000_000.05, 1.0) < 1.1
    assert coarse_ttl(5.0, 0) == 0


def test_a_process_starting_on_a_file_another_is_setting_up_waits_for_its_lock() -> None:
    # The forty-sixth attack: two instances started together on a new file, and one failed
    # to start ("database is locked" at the switch to WAL, which SQLite does not wait for).
    from redirection_bot.store.sqlite import _until_unlocked

    tries: list[int] = []

    def locked_twice() -> None:
        tries.append(1)
        if len(tries) < 3:
            raise sqlite3.OperationalError("database is locked")

    _until_unlocked(locked_twice)
    assert len(tries) == 3

    def broken() -> None:
        raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(sqlite3.OperationalError, match="disk"):
        _until_unlocked(broken)  # only a lock is waited for

    def always_locked() -> None:
        raise sqlite3.OperationalError("database is locked")

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _until_unlocked(always_locked, wait=0.05)  # and not for ever
