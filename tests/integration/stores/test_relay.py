"""The relay between instances: in order, replayable after a restart, sealed in Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from redirection_bot.operations.crypto import Keyring
from redirection_bot.store.redis import RedisRelay
from redirection_bot.store.relay import EncryptedRelay, MemoryRelay, Relay
from tests.fixtures.redis import RedisServer

MakeRelay = Callable[[], Relay]


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("encrypted-redis", marks=pytest.mark.redis),
    ]
)
async def relays(request: pytest.FixtureRequest) -> AsyncIterator[MakeRelay]:
    """Makes relay instances that share their topics (one per bot instance)."""
    made: list[Relay] = []
    shared = MemoryRelay()
    prefix = f"relay-{uuid.uuid4().hex}:"
    keyring = Keyring.generate()

    def make() -> Relay:
        relay: Relay
        if request.param == "memory":
            relay = shared
        else:
            from redis.asyncio import Redis

            server: RedisServer = request.getfixturevalue("redis_server")
            relay = RedisRelay(Redis.from_url(server.url), prefix=prefix, block_ms=200)
            if request.param.startswith("encrypted"):
                relay = EncryptedRelay(relay, keyring)
        made.append(relay)
        return relay

    yield make
    for relay in made:
        await relay.close()


async def take(relay: Relay, topic: str, count: int, after: str = "0") -> list[tuple[str, bytes]]:
    got: list[tuple[str, bytes]] = []

    async def collect() -> None:
        async for message in relay.listen(topic, after):
            got.append((message.id, message.data))
            if len(got) == count:
                return

    await asyncio.wait_for(collect(), timeout=10)
    return got


async def test_what_one_instance_publishes_another_receives_in_order(relays: MakeRelay) -> None:
    operator_side, person_side = relays(), relays()
    listening = asyncio.create_task(take(person_side, "handoff-1", 3))
    for text in (b"hello", b"I am here to listen", b"take your time"):
        await operator_side.publish("handoff-1", text)
    assert [data for _id, data in await listening] == [
        b"hello",
        b"I am here to listen",
        b"take your time",
    ]


async def test_a_restarted_listener_continues_after_the_last_id_it_handled(
    relays: MakeRelay,
) -> None:
    sender = relays()
    ids = [await sender.publish("handoff-2", f"message {n}".encode()) for n in range(4)]
    restarted = relays()
    got = await take(restarted, "handoff-2", 2, after=ids[1])
    assert [data for _id, data in got] == [b"message 2", b"message 3"]
    assert [message_id for message_id, _data in got] == ids[2:]


async def test_topics_are_apart_and_a_forgotten_topic_is_empty(relays: MakeRelay) -> None:
    relay = relays()
    await relay.publish("a", b"for a")
    await relay.publish("b", b"for b")
    assert [data for _id, data in await take(relay, "b", 1)] == [b"for b"]
    await relay.forget("a")
    late = await relay.publish("a", b"after forgetting")
    assert await take(relay, "a", 1) == [(late, b"after forgetting")]


@pytest.mark.redis
async def test_redis_holds_neither_the_topic_nor_the_words(redis_server: RedisServer) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_server.url)
    prefix = f"sealed-{uuid.uuid4().hex}:"
    relay = EncryptedRelay(RedisRelay(client, prefix=prefix), Keyring.generate())
    try:
        await relay.publish("handoff-for-room-42", b"I feel very low tonight")
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        assert len(keys) == 1 and b"room-42" not in keys[0]
        entries = await client.xrange(keys[0])
        assert b"low tonight" not in entries[0][1][b"d"]
    finally:
        await relay.close()


async def test_ids_keep_growing_when_the_process_starts_again() -> None:
    """A channel keeps its place in the relay in the session store (SQLite survives a restart,
    the in-process relay does not): what a new run publishes must come after that place."""
    now = [1_800_000_000.0]
    before = MemoryRelay(clock=lambda: now[0])
    first = [await before.publish("desk", b"a") for _ in range(3)]  # within one millisecond
    assert sorted(first, key=_order) == first and len(set(first)) == 3
    saved_place = first[-1]
    await before.close()
    now[0] += 2.0
    after = MemoryRelay(clock=lambda: now[0])  # the process started again, seconds later
    await after.publish("desk", b"new ticket")
    (message,) = await take(after, "desk", 1, after=saved_place)
    assert message[1] == b"new ticket"


def _order(message_id: str) -> tuple[int, int]:
    first, _, second = message_id.partition("-")
    return int(first), int(second)


@pytest.mark.redis
async def test_listeners_by_the_hundred_hold_one_connection_and_publishing_goes_on(
    redis_server: RedisServer,
) -> None:
    """The fifty-sixth attack: each open handoff's listener held a pooled connection in a
    blocking read, so that 100 "talk to a person" requests took every one and the next
    handoff (a crisis's too) failed. Now 150 listeners share one reader, over a pool of 10."""
    from redirection_bot.store.redis import redis_client

    relay = RedisRelay(
        redis_client(redis_server.url, connections=10, wait_seconds=2.0),
        prefix=f"many-{uuid.uuid4().hex}:",
        block_ms=2000,
    )
    try:
        listening = [asyncio.create_task(take(relay, f"handoff-{n}", 1)) for n in range(150)]
        await asyncio.sleep(0.3)  # every listener registered, the reader blocked in its read
        sent = {n: await relay.publish(f"handoff-{n}", f"for {n}".encode()) for n in range(150)}
        got = await asyncio.gather(*listening)
        assert [messages[0][1] for messages in got] == [f"for {n}".encode() for n in range(150)]
        assert [messages[0][0] for messages in got] == list(sent.values())
    finally:
        await relay.close()


@pytest.mark.redis
async def test_a_listener_added_while_the_reader_waits_gets_its_message_at_once(
    redis_server: RedisServer,
) -> None:
    """A new topic is read at once, not after the reader's current wait (``block_ms``)."""
    from redis.asyncio import Redis

    relay = RedisRelay(
        Redis.from_url(redis_server.url), prefix=f"wake-{uuid.uuid4().hex}:", block_ms=30_000
    )
    try:
        first = asyncio.create_task(take(relay, "first", 1))
        await asyncio.sleep(0.3)  # the reader now waits up to 30 s on "first"
        second = asyncio.create_task(take(relay, "second", 1))
        await asyncio.sleep(0.3)
        await relay.publish("second", b"an operator joined")
        assert (await asyncio.wait_for(second, timeout=3))[0][1] == b"an operator joined"
        await relay.publish("first", b"still here")
        assert (await asyncio.wait_for(first, timeout=3))[0][1] == b"still here"
    finally:
        await relay.close()
