"""Redis specifics: a lock across instances, safe release, and a clear error while Redis is away."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from redirection_bot.authoring.testing import RasaActionRunner, load, write_program
from redirection_bot.engine import ChoicePicked, Start
from redirection_bot.operations.crypto import Keyring
from redirection_bot.store import SessionBusy, StoreUnavailable, VersionConflict
from redirection_bot.store.encrypted import encrypted
from redirection_bot.store.redis import RedisStore, ScriptBatch
from redirection_bot.turn.runtime import Runtime
from tests.fixtures.programs import FLOWS, LOCALES, PROGRAM
from tests.fixtures.redis import RedisServer

pytestmark = pytest.mark.redis


def two_instances(server: RedisServer, **options: float) -> tuple[RedisStore, RedisStore]:
    prefix = f"lock-{uuid.uuid4().hex}:"
    return (
        RedisStore.from_url(server.url, prefix=prefix, **options),
        RedisStore.from_url(server.url, prefix=prefix, **options),
    )


async def test_two_instances_never_hold_one_session_at_once(redis_server: RedisServer) -> None:
    one, two = two_instances(redis_server)
    inside: list[str] = []
    overlaps = 0

    async def turn(store: RedisStore, name: str) -> None:
        nonlocal overlaps
        async with store.lock("person"):
            inside.append(name)
            if len(inside) > 1:
                overlaps += 1
            await asyncio.sleep(0.01)  # a turn's work while holding the lock
            inside.remove(name)

    try:
        await asyncio.gather(*(turn(one if n % 2 else two, f"t{n}") for n in range(10)))
        assert overlaps == 0
    finally:
        await one.close()
        await two.close()


class Frozen(RedisStore):
    """An instance that stopped (killed, or paused): it no longer renews its leases."""

    async def _keep(self, name: str, token: str) -> None:
        return


async def test_a_lock_left_by_a_dead_instance_expires(redis_server: RedisServer) -> None:
    one, two = two_instances(redis_server, lock_seconds=0.2, lock_wait_seconds=5)
    one = Frozen(one.client, one.prefix, lock_seconds=0.2)
    try:
        holder = one.lock("person")
        await holder.__aenter__()  # the instance dies here: it never releases
        async with two.lock("person"):
            pass
    finally:
        await one.close()
        await two.close()


async def test_an_expired_holder_does_not_release_the_next_holders_lock(
    redis_server: RedisServer,
) -> None:
    one, two = two_instances(redis_server, lock_seconds=0.2, lock_wait_seconds=5)
    one = Frozen(one.client, one.prefix, lock_seconds=0.2)
    waiting, _ = two_instances(redis_server, lock_wait_seconds=0.1)
    waiting.prefix = one.prefix
    try:
        late = one.lock("person")
        await late.__aenter__()
        async with two.lock("person"):  # got it after the first expired
            await late.__aexit__(None, None, None)  # the slow first holder finally lets go
            with pytest.raises(SessionBusy):
                async with waiting.lock("person"):
                    pass
    finally:
        for store in (one, two, waiting):
            await store.close()


async def test_while_redis_is_away_calls_fail_clearly_and_work_again_after(
    redis_own: RedisServer,
) -> None:
    store = RedisStore.from_url(redis_own.url)
    try:
        await store.save("a", b"kept", None, 3600)
        redis_own.stop()
        with pytest.raises(StoreUnavailable):
            await store.get("a")
        assert not await store.ping()
        redis_own.start()
        found = await store.get("a")
        assert found is not None and found.data == b"kept"
    finally:
        await store.close()


async def test_evaluation_counts_from_two_instances_add_up(redis_server: RedisServer) -> None:
    import datetime as dt

    from redis.asyncio import Redis

    from redirection_bot.store.redis import RedisCounts

    prefix = f"eval-{uuid.uuid4().hex}:"
    one = RedisCounts(Redis.from_url(redis_server.url), prefix)
    two = RedisCounts(Redis.from_url(redis_server.url), prefix)
    day = dt.date(2026, 11, 24)
    try:
        await one.add(day, "motivation", "eval_helped", "a_lot")
        await two.add(day, "motivation", "eval_helped", "a_lot")
        await two.add(day, "motivation", "eval_confidence", "8")
        rows = [(r.day, r.module, r.question, r.answer, r.count) for r in await one.rows()]
        assert rows == [
            ("2026-11-24", "motivation", "eval_confidence", "8", 1),
            ("2026-11-24", "motivation", "eval_helped", "a_lot", 2),
        ]
    finally:
        await one.close()
        await two.close()


async def test_a_partners_funnel_from_two_instances_adds_up_and_is_read_suppressed(
    redis_server: RedisServer,
) -> None:
    import datetime as dt

    from redis.asyncio import Redis

    from redirection_bot.operations.evaluation import export_csv
    from redirection_bot.operations.partners import Funnel, FunnelStage, Partner
    from redirection_bot.store.redis import RedisCounts

    prefix = f"door-{uuid.uuid4().hex}:"
    one = RedisCounts(Redis.from_url(redis_server.url), prefix)
    two = RedisCounts(Redis.from_url(redis_server.url), prefix)
    partner, day = Partner("example_site"), dt.date(2026, 12, 1)
    try:
        for counts in (one, two, one):
            await Funnel(counts, 3).count(partner, FunnelStage.SHOWN, day)
        await Funnel(two, 3).count(partner, FunnelStage.STARTED, day)
        assert (await Funnel(one, 3).export()).splitlines() == [
            "month,partner,stage,count",
            "2026-12,example_site,shown,3",
            "2026-12,example_site,started,<3",
        ]
        import io

        evaluation = io.StringIO()
        assert export_csv(await one.rows(), evaluation) == 0  # not in the evaluation's export
    finally:
        await one.close()
        await two.close()


async def test_a_turns_last_save_ends_its_lock_in_the_same_step(redis_server: RedisServer) -> None:
    one, two = two_instances(redis_server, lock_wait_seconds=0.1)
    try:
        async with one.lock("person"):
            await one.get("person")
            await one.save("person", b"turn one", None, 60, final=True)
            # The conversation is free at once: the next message may be on another instance.
            async with two.lock("person"):
                assert (await two.get("person")) is not None
        # The first holder's end did not release the second holder's lock.
        async with two.lock("person"):
            pass
    finally:
        await one.close()
        await two.close()


async def test_a_final_save_that_conflicts_keeps_the_lock(redis_server: RedisServer) -> None:
    one, two = two_instances(redis_server, lock_wait_seconds=0.1)
    try:
        async with one.lock("person"):
            with pytest.raises(VersionConflict):
                await one.save("person", b"stale", 7, 60, final=True)
            with pytest.raises(SessionBusy):
                async with two.lock("person"):
                    pass
        async with two.lock("person"):  # released at the end of the turn
            pass
    finally:
        await one.close()
        await two.close()


async def test_a_turn_of_a_kept_conversation_takes_two_round_trips(
    redis_server: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with redis_runtime(redis_server, tmp_path) as runtime:
        people = [f"person-{n}" for n in range(10)]
        for person in people:
            await runtime.handle(person, Start())
        writes = count_writes(monkeypatch)
        for person in people:
            await runtime.handle(person, ChoicePicked("good"))
        # Take the lock and read; save and let go.
        assert writes == [["EVALSHA"]] * 2 * len(people)


async def test_turns_at_once_share_their_writes_to_redis(
    redis_server: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with redis_runtime(redis_server, tmp_path) as runtime:
        people = [f"person-{n}" for n in range(20)]
        await asyncio.gather(*(runtime.handle(person, Start()) for person in people))
        writes = count_writes(monkeypatch)
        replies = await asyncio.gather(
            *(runtime.handle(person, ChoicePicked("good")) for person in people)
        )
        assert sum(len(write) for write in writes) == 2 * len(people)
        assert len(writes) <= 4  # locks together, saves together (and a straggler or two)
        started = await runtime.handle("alone", Start())
        alone = await runtime.handle("alone", ChoicePicked("good"))
        for person, reply in zip(people, replies, strict=True):  # each got their own turn
            assert reply.messages == alone.messages != started.messages
            assert (await runtime.handle(person, ChoicePicked("good"))).state is not None


@asynccontextmanager
async def redis_runtime(redis_server: RedisServer, tmp_path: Path) -> AsyncIterator[Runtime]:
    """A runtime over a sealed Redis store, under a prefix of its own."""
    loaded = load(write_program(tmp_path / "program", PROGRAM, FLOWS, LOCALES), tmp_path)
    store = RedisStore.from_url(redis_server.url, prefix=f"{uuid.uuid4().hex}:")
    try:
        yield Runtime(loaded, encrypted(store, Keyring.generate()), RasaActionRunner(loaded))
    finally:
        await store.close()


def count_writes(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The command names of each write to a Redis connection from now on."""
    from redis.asyncio.connection import AbstractConnection

    writes: list[list[str]] = []
    send = AbstractConnection.send_packed_command

    async def counted(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        packed = command if isinstance(command, bytes) else b"".join(command)
        writes.append(command_names(packed))
        await send(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    return writes


def command_names(packed: bytes) -> list[str]:
    """The name of each command in ``packed`` (RESP arrays of bulk strings)."""
    names, at = [], 0
    while at < len(packed):
        end = packed.index(b"\r\n", at)
        count, at = int(packed[at + 1 : end]), end + 2
        for index in range(count):
            end = packed.index(b"\r\n", at)
            length, at = int(packed[at + 1 : end]), end + 2
            if index == 0:
                names.append(packed[at : at + length].decode())
            at += length + 2
    return names


async def test_a_call_cancelled_while_its_script_is_loaded_again_leaves_the_others_answered(
    redis_server: RedisServer,
) -> None:
    """The eighteenth attack: with Redis killed and restarted under load (its scripts gone),
    a turn cancelled while its script was loaded again made the batch raise
    ``InvalidStateError`` at its answer, and the calls after it in the batch were never
    answered (a WebSocket turn unanswered for 30 s)."""
    client = Redis.from_url(redis_server.url)
    batch = ScriptBatch(client)
    calls: list[asyncio.Future[Any]] = []

    class Reloaded:
        """A script Redis does not know (its sha unknown): run again by itself, during which
        the first caller's turn ends."""

        sha = "0" * 40

        def __call__(self, keys: list[Any], args: list[Any]) -> Any:
            async def run() -> Any:
                calls[0].cancel()
                return args[0]

            return run()

    try:
        first = batch._call(Reloaded(), [], ["a"])  # type: ignore[arg-type]
        second = batch._call(Reloaded(), [], ["b"])  # type: ignore[arg-type]
        calls.append(first)  # type: ignore[arg-type]
        assert await asyncio.wait_for(second, 5) == "b"
        assert first.cancelled()  # type: ignore[attr-defined]
    finally:
        await batch.close()
        await client.aclose()


async def test_the_expiry_redis_keeps_tells_the_save_time_only_to_ten_minutes(
    redis_server: RedisServer,
) -> None:
    """An outside attacker's finding: the expiry beside each sealed record (in Redis's memory
    and its dump, readable without the key) gave the second each conversation was last
    saved. It falls on a ten-minute grain, give or take Redis's own clock."""
    store = RedisStore.from_url(redis_server.url, prefix=f"expiry-{uuid.uuid4().hex}:")
    raw = Redis.from_url(redis_server.url)
    try:
        await store.save("a", b"x", None, 86_400)
        expires_ms = await raw.execute_command("PEXPIRETIME", store._key("a"))
        off_grain = expires_ms % 600_000
        assert min(off_grain, 600_000 - off_grain) < 1_000, expires_ms
    finally:
        await raw.aclose()
        await store.close()
