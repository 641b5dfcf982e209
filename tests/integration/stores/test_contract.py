"""One contract, three stores: memory, SQLite and a real redis-server behave the same."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from redirection_bot.operations.crypto import Keyring
from redirection_bot.store import VERSIONS, SessionStore, VersionConflict, kept_since, store_ready
from redirection_bot.store.encrypted import encrypted
from redirection_bot.store.memory import MemoryStore
from redirection_bot.store.redis import RedisStore
from redirection_bot.store.sqlite import SqliteStore
from tests.fixtures.redis import RedisServer
from tests.helpers import async_wait_until

DAY = 24 * 3600.0


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("redis", marks=pytest.mark.redis),
        "encrypted-sqlite",
        pytest.param("encrypted-redis", marks=pytest.mark.redis),
    ],
)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionStore]:
    """Each store, and the SQLite and Redis stores behind encryption, as they run in production."""
    kind = str(request.param)
    made: SessionStore
    if kind == "memory":
        made = MemoryStore()
    elif kind.endswith("sqlite"):
        made = SqliteStore(tmp_path / "sessions.sqlite3")
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        made = RedisStore.from_url(server.url, prefix=f"contract-{uuid.uuid4().hex}:")
    if kind.startswith("encrypted"):
        made = encrypted(made, Keyring.generate())
    try:
        yield made
    finally:
        await made.close()


async def test_an_unknown_session_is_none(store: SessionStore) -> None:
    assert await store.get("nobody") is None


async def test_a_new_session_is_saved_and_read_back_at_its_version(store: SessionStore) -> None:
    version = await store.save("a", b"state one", None, DAY)
    found = await store.get("a")
    assert found is not None and (found.data, found.version) == (b"state one", version)


async def test_each_save_with_the_version_read_gives_a_new_version_that_counts_nothing(
    store: SessionStore,
) -> None:
    """Attack 14: the version beside each sealed record was its number of saves, about the
    number of turns, readable without the key. Now each save draws a new random version."""
    versions = [await store.save("a", b"one", None, DAY)]
    for data in (b"two", b"three", b"four"):
        versions.append(await store.save("a", data, versions[-1], DAY))
    found = await store.get("a")
    assert found is not None and (found.data, found.version) == (b"four", versions[-1])
    assert len(set(versions)) == 4 and versions != [1, 2, 3, 4]
    assert all(0 < version < VERSIONS for version in versions)


@pytest.mark.parametrize("stale", ["none", "first", "made_up"])
async def test_a_stale_writer_is_refused_and_nothing_is_overwritten(
    store: SessionStore, stale: str
) -> None:
    first = await store.save("a", b"one", None, DAY)
    second = await store.save("a", b"two", first, DAY)
    stale_version = {"none": None, "first": first, "made_up": first + second + 5}[stale]
    with pytest.raises(VersionConflict):
        await store.save("a", b"lost update", stale_version, DAY)
    found = await store.get("a")
    assert found is not None and (found.data, found.version) == (b"two", second)


async def test_saving_a_version_of_a_session_that_does_not_exist_is_refused(
    store: SessionStore,
) -> None:
    with pytest.raises(VersionConflict):
        await store.save("ghost", b"data", 3, DAY)
    assert await store.get("ghost") is None


async def test_of_two_writers_racing_from_one_version_exactly_one_wins(
    store: SessionStore,
) -> None:
    start = await store.save("a", b"start", None, DAY)
    results = await asyncio.gather(
        *(store.save("a", f"writer {n}".encode(), start, DAY) for n in range(5)),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, int)]
    assert len(winners) == 1
    assert all(isinstance(r, VersionConflict) for r in results if not isinstance(r, int))


async def test_delete_removes_at_once_and_forgets_unknown_sessions_quietly(
    store: SessionStore,
) -> None:
    await store.save("a", b"one", None, DAY)
    await store.save("b", b"other", None, DAY)
    await store.delete("a")
    await store.delete("never-there")
    assert await store.get("a") is None
    other = await store.get("b")
    assert other is not None and other.data == b"other"
    assert await store.save("a", b"fresh start", None, DAY) > 0


async def test_an_idle_session_expires_and_can_start_again(store: SessionStore) -> None:
    await store.save("idle", b"old", None, 0.05)
    await store.save("busy", b"kept", None, DAY)

    async def gone() -> bool:
        return await store.get("idle") is None

    await async_wait_until(gone, timeout=10, what="the idle session to expire")
    await store.expire()
    assert await store.get("idle") is None
    kept = await store.get("busy")
    assert kept is not None and kept.data == b"kept"
    assert await store.save("idle", b"new", None, DAY) > 0


async def test_each_save_renews_the_time_to_live(store: SessionStore) -> None:
    first = await store.save("a", b"one", None, 0.05)
    await store.save("witness", b"short", None, 0.05)
    await store.save("a", b"two", first, DAY)

    async def witness_gone() -> bool:
        return await store.get("witness") is None

    await async_wait_until(witness_gone, timeout=10, what="the first time to live to pass")
    found = await store.get("a")
    assert found is not None and found.data == b"two"


async def test_any_bytes_survive_the_round_trip(store: SessionStore) -> None:
    data = bytes(range(256)) * 4
    await store.save("binary", data, None, DAY)
    found = await store.get("binary")
    assert found is not None and found.data == data


async def test_a_working_store_says_it_is_ready(store: SessionStore) -> None:
    assert await store_ready(store)


async def test_a_store_says_since_when_it_has_kept_everything(store: SessionStore) -> None:
    # The web chat tells a person their conversation was lost, rather than starting a new one
    # in silence, when it was opened before this (docs/protocol.md, "A lost conversation").
    since = await kept_since(store)
    if SqliteStore in (type(store), type(getattr(store, "inner", None))):
        assert since is None  # a file loses nothing
        return
    assert since is not None and since <= time.time()
    await store.save("a", b"x", None, DAY)
    assert await kept_since(store) == since  # unchanged while nothing is lost


@pytest.mark.redis
async def test_redis_says_when_it_lost_everything(redis_server: RedisServer) -> None:
    prefix = f"since-{uuid.uuid4().hex}:"
    store = RedisStore.from_url(redis_server.url, prefix=prefix)
    try:
        async with store.lock("a"):
            await store.save("a", b"x", None, DAY, final=True)
        before = await store.kept_since()
        names = [name async for name in store.client.scan_iter(match=f"{prefix}*")]
        await store.client.delete(*names)  # as a restart without persistence
        lost_at = time.time()
        async with store.lock("b"):  # the first turn after the loss records it
            assert await store.get("a") is None
        after = await store.kept_since()
        assert before < lost_at <= after <= time.time()
    finally:
        await store.close()
