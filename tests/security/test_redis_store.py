"""Redis under production load, restarts and several instances (issue 18).

The faults: redis-py's default pool capped at 100 connections and turned more concurrent turns
into 503s and broken WebSockets; the first request after a Redis restart often failed on a
stale pooled connection; instances with different keys ran side by side, splitting each
conversation in two; a killed instance kept its conversations locked for 30 s.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import pytest
from aiohttp import ClientSession, WSMsgType
from aiohttp.test_utils import TestServer
from redis.asyncio import BlockingConnectionPool

from redirection_bot.authoring.testing import RasaActionRunner
from redirection_bot.errors import ConfigError
from redirection_bot.operations.config import StoreSettings
from redirection_bot.operations.crypto import new_key_text
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store import SessionStore, StoredSession, StoreRefused
from redirection_bot.store.encrypted import EncryptedStore
from redirection_bot.store.factory import open_store
from redirection_bot.store.redis import RedisStore
from redirection_bot.turn.runtime import Runtime
from redirection_bot_connectors.webchat import WebChatOptions, create_app
from tests.fixtures.redis import RedisServer

pytestmark = pytest.mark.redis

CONVERSATIONS = 300
TURNS = 4


def settings(server: RedisServer, key: str | None = None, **options: Any) -> StoreSettings:
    return StoreSettings(
        "redis",
        url=server.url,
        prefix=f"sec-{uuid.uuid4().hex[:8]}:",
        keys=(key or new_key_text(),),
        **options,
    )


def redis_of(store: SessionStore) -> RedisStore:
    assert isinstance(store, EncryptedStore) and isinstance(store.inner, RedisStore)
    return store.inner


def test_the_pool_blocks_and_is_sized_from_the_configuration(redis_server: RedisServer) -> None:
    store = open_store(settings(redis_server, redis_connections=37, redis_wait_seconds=3))
    pool = redis_of(store).client.connection_pool
    assert isinstance(pool, BlockingConnectionPool)
    assert (pool.max_connections, pool.timeout) == (37, 3)
    default = redis_of(open_store(settings(redis_server))).client.connection_pool
    assert isinstance(default, BlockingConnectionPool) and default.max_connections == 200


async def test_300_concurrent_conversations_get_every_answer(
    shipped: LoadedProgram, redis_server: RedisServer
) -> None:
    # Far fewer connections than conversations: turns wait for one instead of failing.
    store = open_store(settings(redis_server, redis_connections=16))
    runtime = Runtime(shipped, store, RasaActionRunner(shipped))
    server = TestServer(create_app(runtime, WebChatOptions()))
    await server.start_server()
    failures: list[str] = []
    base = f"http://127.0.0.1:{server.port}"

    async def over_rest(http: ClientSession, n: int) -> None:
        sender = f"load-{n}-{uuid.uuid4().hex}"
        for message in ("hello", "/repeat", "/help", "/repeat")[:TURNS]:
            async with http.post(
                base + "/webhooks/rest/webhook", json={"sender": sender, "message": message}
            ) as response:
                body = await response.json()
                if response.status != 200 or not any("text" in item for item in body):
                    failures.append(f"REST {response.status}")

    async def over_socket(http: ClientSession) -> None:
        async with http.ws_connect(base + "/ws") as ws:
            await ws.send_json({"type": "start", "locale": "en"})
            for turn in range(TURNS):
                answer = await ws.receive(timeout=60)
                if answer.type is not WSMsgType.TEXT:
                    failures.append(f"WS {answer.type.name}")
                    return
                frames = json.loads(answer.data)
                if not any(f.get("type") == "message" for f in frames):
                    failures.append("WS no message")
                if turn < TURNS - 1:
                    await ws.send_json({"type": "command", "command": "repeat"})

    try:
        async with ClientSession() as http:
            started = time.monotonic()
            await asyncio.gather(
                *(over_rest(http, n) for n in range(CONVERSATIONS // 3)),
                *(over_socket(http) for _ in range(CONVERSATIONS - CONVERSATIONS // 3)),
            )
            seconds = time.monotonic() - started
        assert failures == []
        print(f"{CONVERSATIONS} conversations x {TURNS} turns in {seconds:.1f} s")
    finally:
        await server.close()
        await runtime.close()


async def test_the_first_request_after_a_redis_restart_succeeds(redis_own: RedisServer) -> None:
    store = RedisStore.from_url(redis_own.url, connections=4)
    try:
        await store.save("a", b"kept", None, 3600)
        assert await store.get("a") is not None  # a pooled connection, now open
        redis_own.restart()  # the pooled connections are dead; nothing tells the pool
        found = await store.get("a")
        assert found is not None and found.data == b"kept"
    finally:
        await store.close()


async def test_a_turn_after_a_redis_restart_succeeds_though_redis_forgot_the_scripts(
    redis_own: RedisServer,
) -> None:
    store = RedisStore.from_url(redis_own.url, connections=4)
    try:
        async with store.lock("a"):  # the turn's scripts are known to Redis, connections open
            assert await store.get("a") is None
            kept = await store.save("a", b"kept", None, 3600, final=True)
        redis_own.restart()  # dead pooled connections, and a Redis that knows no script
        async with store.lock("a"):
            assert await store.get("a") == StoredSession(b"kept", kept)
            again = await store.save("a", b"again", kept, 3600, final=True)
            assert await store.get("a") == StoredSession(b"again", again)
    finally:
        await store.close()


async def test_readiness_says_not_ready_at_once_while_redis_hangs(
    shipped: LoadedProgram, redis_own: RedisServer
) -> None:
    # Found by an outside tester: with Redis paused, /readyz hung with it.
    store = open_store(StoreSettings("redis", url=redis_own.url, keys=(new_key_text(),)))
    runtime = Runtime(shipped, store, RasaActionRunner(shipped))
    server = TestServer(create_app(runtime, WebChatOptions()))
    await server.start_server()
    try:
        async with ClientSession() as http:
            ready = str(server.make_url("/readyz"))
            assert (await http.get(ready)).status == 200
            with redis_own.paused():
                started = time.monotonic()
                assert (await http.get(ready)).status == 503
                assert time.monotonic() - started < 3
            assert (await http.get(ready)).status == 200
    finally:
        await server.close()
        await runtime.close()


def test_an_instance_with_another_key_refuses_to_start_naming_the_setting(
    redis_server: RedisServer,
) -> None:
    first = settings(redis_server)
    open_store(first)
    open_store(first)  # the same key again: fine
    other = StoreSettings("redis", url=first.url, prefix=first.prefix, keys=(new_key_text(),))
    with pytest.raises(ConfigError, match=r"store\.keys"):
        open_store(other)
    # A rotation (the new key first, the old one kept) is the same deployment.
    rotated = StoreSettings(
        "redis", url=first.url, prefix=first.prefix, keys=(new_key_text(), first.keys[0])
    )
    open_store(rotated)
    with pytest.raises(ConfigError, match=r"store\.keys"):
        open_store(first)  # an instance that only knows the old key can no longer join


async def test_after_redis_is_flushed_a_running_instance_records_its_keys_again(
    redis_server: RedisServer,
) -> None:
    first = settings(redis_server)
    running = open_store(first)
    try:
        await redis_of(running).client.delete(f"{first.prefix}key")  # FLUSHALL, for this prefix
        async with redis_of(running).lock("person"):  # the next turn records it again
            pass
        other = StoreSettings("redis", url=first.url, prefix=first.prefix, keys=(new_key_text(),))
        with pytest.raises(ConfigError, match=r"store\.keys"):
            open_store(other)
    finally:
        await running.close()


async def test_when_an_instance_with_other_keys_claimed_a_flushed_redis_turns_wait_until_it_is_gone(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    first = settings(redis_server)
    running = open_store(first)
    try:
        await redis_of(running).client.delete(f"{first.prefix}key")
        other = StoreSettings("redis", url=first.url, prefix=first.prefix, keys=(new_key_text(),))
        newcomer = open_store(other)  # it came first after the flush: it has Redis now
        await newcomer.close()
        with pytest.raises(StoreRefused):
            async with redis_of(running).lock("person"):
                pass
        with pytest.raises(StoreRefused):  # for good: nothing more is read or written
            await running.get("person")
        assert "store refused reason=store.keys" in caplog.text
        assert await redis_of(running).client.get(f"{first.prefix}l:person") is None
        # The operator stops the stray instance and deletes its fingerprint: the running
        # instance carries on at its next recheck, with no restart.
        key_check = redis_of(running).key_check
        assert key_check is not None
        key_check.recheck_seconds = 0.2
        await redis_of(running).client.delete(f"{first.prefix}key")
        with pytest.raises(StoreRefused):  # not before the recheck is due
            await running.get("person")
        await asyncio.sleep(0.3)
        async with redis_of(running).lock("person"):
            pass
        assert caplog.text.count("store refused reason=store.keys") == 1
    finally:
        await running.close()


async def test_a_dead_instances_lease_frees_its_conversation_within_the_lease_time(
    redis_server: RedisServer,
) -> None:
    prefix = f"lease-{uuid.uuid4().hex[:8]}:"
    alive = RedisStore.from_url(redis_server.url, prefix=prefix, lock_seconds=1.0)
    try:
        # Another instance took the lease and died: it never renews it.
        await alive.client.set(f"{prefix}l:person", "dead-instance", px=1000)
        started = time.monotonic()
        async with alive.lock("person"):
            waited = time.monotonic() - started
        assert waited <= 1.0 + 0.5
    finally:
        await alive.close()


async def test_a_running_turn_keeps_its_lease_past_the_lease_time(
    redis_server: RedisServer,
) -> None:
    prefix = f"lease-{uuid.uuid4().hex[:8]}:"
    one = RedisStore.from_url(redis_server.url, prefix=prefix, lock_seconds=0.3)
    two = RedisStore.from_url(
        redis_server.url, prefix=prefix, lock_seconds=0.3, lock_wait_seconds=0.1
    )
    try:
        async with one.lock("person"):
            await asyncio.sleep(1.0)  # a slow action, three lease times long
            with pytest.raises(Exception, match="held by another instance"):
                async with two.lock("person"):
                    pass
        async with two.lock("person"):  # released at the end of the turn
            pass
    finally:
        await one.close()
        await two.close()
