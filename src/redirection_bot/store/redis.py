"""The Redis session store: several instances of the bot share their sessions.

Each session is one Redis hash (``v``: version, ``d``: data) with Redis's own expiry, so idle
sessions vanish without a sweeper. The version check and the write run as one Lua script, so
two instances can never overwrite each other's turn. ``lock`` is a per-session lease (``SET NX
PX`` with a random token, released only by its holder) of a few seconds, renewed while the turn
runs: two messages of one person are handled in order even when they reach two instances at
once, and a dead instance's conversations are free again once its leases run out.

The turn's scripts (lock and read, save and release) go through ``ScriptBatch``: those called
while the event loop ran once are sent together as one pipeline on one connection, so that at
many concurrent turns Redis gets a few large writes instead of many small ones (about twice the
turns per second in bench/stores.py). Connections come from a blocking pool of
``redis_connections``: at more concurrent batches than that, a batch waits for a free
connection rather than failing. A command that meets a stale
connection (Redis restarted since it was opened) is sent once more on a fresh one. When Redis
cannot be reached, every call raises ``StoreUnavailable``; the runtime turns that into a clear
"try again in a moment" instead of a crash.

Every instance on one Redis must seal with the same keys (``KeyCheck``): checked at start when
Redis answers then, otherwise on the first call that reaches it; until it has passed, nothing is
read or written, and an instance with other keys never uses the store (fail closed). Every
turn's lock checks it again: a flushed Redis gets this instance's fingerprint back, and
another's makes this instance refuse until a recheck (every few seconds) finds it gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import random
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.driver_info import DriverInfo
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from redirection_bot.operations.evaluation import CountRow
from redirection_bot.operations.logs import log_event
from redirection_bot.store import (
    SessionBusy,
    StoredSession,
    StoreRefused,
    StoreUnavailable,
    VersionConflict,
    coarse_ttl,
    new_version,
)
from redirection_bot.store.relay import START, Relayed

DEFAULT_PREFIX = "rb:"
DEFAULT_LOCK_SECONDS = 5.0
DEFAULT_LOCK_WAIT_SECONDS = 10.0
DEFAULT_CONNECTIONS = 200
DEFAULT_WAIT_SECONDS = 10.0
KEPT_IDLE = 4
"""How many pooled connections the turns' scripts keep between batches."""
RECHECK_SECONDS = 5.0
"""While refused (another key's fingerprint recorded), how often the keys are checked again."""
_T = TypeVar("_T")

# KEYS[1] the session; ARGV: expected version ('' = must not exist), data, ttl in ms, the new
# version (``new_version``: random, never a count of saves), as text.
_WRITE = """
local current = redis.call('HGET', KEYS[1], 'v')
if current == false then current = '' end
if current ~= ARGV[1] then return -1 end
local version = ARGV[4]
redis.call('HSET', KEYS[1], 'v', version, 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
"""
_SAVE = _WRITE + "return version\n"

# _SAVE, then end the lease KEYS[2] if this holder (ARGV[5]) still owns it: a turn's last
# write and the end of its lock in one round trip.
_SAVE_AND_RELEASE = (
    _WRITE
    + """if redis.call('GET', KEYS[2]) == ARGV[5] then redis.call('DEL', KEYS[2]) end
return version
"""
)

# Take the lock and, in the same round trip, read the session it guards (the turn reads it next).
# KEYS: the lock, the session, the keys' fingerprint, since when Redis has kept everything;
# ARGV: token, ttl in ms, the time now (Unix seconds, to the microsecond), then (a sealed store) the ring's
# fingerprints, newest first. Every turn checks the fingerprint: if Redis lost it (flushed), this
# instance records its own again, so that an instance with other keys still cannot join; if
# another instance's is there, the turn is refused (-1). Redis having lost everything, the
# first turn after records when (``RedisStore.kept_since``).
_LOCK_AND_READ = """
if #ARGV > 3 then
  local stored = redis.call('GET', KEYS[3])
  if stored == false then
    redis.call('SET', KEYS[3], ARGV[4])
  else
    local known = false
    for i = 4, #ARGV do
      if stored == ARGV[i] then known = true end
    end
    if not known then return {-1} end
  end
end
redis.call('SET', KEYS[4], ARGV[3], 'NX')
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('HMGET', KEYS[2], 'v', 'd')}
end
return {0}
"""

# KEYS[1] since when Redis has kept everything; ARGV[1] the time now: recorded if Redis lost it.
_SINCE = """
local since = redis.call('GET', KEYS[1])
if since == false then
  redis.call('SET', KEYS[1], ARGV[1])
  return ARGV[1]
end
return since
"""

# Delete the lock only if this holder still owns it (it may have expired and passed on).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# Extend the lease only if this holder still owns it.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def redis_client(
    url: str,
    connections: int = DEFAULT_CONNECTIONS,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    socket_timeout: float = 5.0,
) -> Redis:
    """A client over a blocking pool of at most ``connections``, retrying a command once on a
    fresh connection when the pooled one turns out to be dead."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=connections,
        timeout=wait_seconds,
        socket_connect_timeout=2,
        socket_timeout=socket_timeout,
        health_check_interval=10,
        # Only a broken connection is retried: after a timeout the command may have run.
        retry=Retry(NoBackoff(), 1, (RedisConnectionError,)),
        retry_on_error=[RedisConnectionError],
        # What each new connection tells the server it is (CLIENT SETINFO), made once: left
        # to redis-py, every connection looked its version up in the installed packages'
        # metadata (1 to 3 ms, on the event loop; 200 of them when a busy instance fills its
        # pool, a pause for every conversation waiting).
        driver_info=DriverInfo(),
    )
    return Redis(connection_pool=pool)


async def reachable(call: Awaitable[_T]) -> _T:
    """Await a Redis call, turning "cannot reach Redis" into StoreUnavailable."""
    try:
        return await call
    except _UNREACHABLE as error:
        raise StoreUnavailable("Redis cannot be reached") from error


class KeyCheck:
    """That this instance seals with the keys the others on this Redis use (``_CLAIM_KEY``),
    checked on the first call that reaches Redis (an instance started while Redis was away
    serves its pages and checks once Redis answers), and again by every turn's lock. While
    another key's fingerprint is recorded, nothing is read or written (fail closed); every
    ``recheck_seconds`` the claim is tried again, so that once the other instance is gone and
    its fingerprint deleted (``redis-cli DEL <prefix>key``), this one carries on by itself."""

    def __init__(
        self,
        fingerprints: list[str],
        passed: bool = False,
        recheck_seconds: float = RECHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fingerprints = fingerprints
        self.passed = passed
        self.refused = False
        self.recheck_seconds = recheck_seconds
        self._clock = clock
        self._refused_at = 0.0

    async def ensure(self, client: Redis, prefix: str) -> None:
        """Return once the check has passed; raise StoreRefused (other keys) or
        StoreUnavailable (Redis still away)."""
        if self.passed:
            return
        if self.refused and self._clock() - self._refused_at < self.recheck_seconds:
            raise StoreRefused(REFUSED)
        answer: Any = await reachable(
            client.eval(_CLAIM_KEY, 1, f"{prefix}key", *self.fingerprints)
        )
        if int(answer):
            self.passed, self.refused = True, False
            log_event("store keys checked")
            return
        self.refuse()

    def refuse(self) -> NoReturn:
        """Another instance's keys are recorded: refuse until a recheck finds them gone."""
        if not self.refused:
            log_event("store refused", level=logging.ERROR, reason="store.keys")
        self.passed, self.refused = False, True
        self._refused_at = self._clock()
        raise StoreRefused(REFUSED)


REFUSED = (
    "store.keys: the other instances using this Redis seal conversations with another key; "
    "every instance needs the same store.keys (REDIRECTION_BOT_STORE__KEYS), or this one "
    "would split each person's conversation in two"
)


class RedisStore:
    """Sessions in Redis under ``<prefix>s:<key>``, locks under ``<prefix>l:<key>``.
    ``key_check``: the keys check that must pass before the first read or write (None: none,
    for a store whose data is not sealed)."""

    def __init__(
        self,
        client: Redis,
        prefix: str = DEFAULT_PREFIX,
        lock_seconds: float = DEFAULT_LOCK_SECONDS,
        lock_wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS,
        key_check: KeyCheck | None = None,
    ) -> None:
        self.client = client
        self.key_check = key_check
        self.prefix = prefix
        self.lock_seconds = lock_seconds
        self.lock_wait_seconds = lock_wait_seconds
        self._batch = ScriptBatch(client)
        self._save = self._batch.script(_SAVE)
        self._release = self._batch.script(_RELEASE)
        self._renew = self._batch.script(_RENEW)
        self._lock_and_read = self._batch.script(_LOCK_AND_READ)
        self._save_and_release = self._batch.script(_SAVE_AND_RELEASE)
        self._since = self._batch.script(_SINCE)
        self._read_with_lock: dict[str, StoredSession | None] = {}
        """Sessions read when their lock was taken, for the turn's first ``get``."""
        self._leases: dict[str, _Lease] = {}
        """The leases this instance holds, by session key."""

    @classmethod
    def from_url(
        cls,
        url: str,
        prefix: str = DEFAULT_PREFIX,
        connections: int = DEFAULT_CONNECTIONS,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
        **options: Any,
    ) -> RedisStore:
        return cls(redis_client(url, connections, wait_seconds), prefix, **options)

    def _key(self, key: str) -> str:
        return f"{self.prefix}s:{key}"

    async def _checked(self) -> None:
        if self.key_check is not None and not self.key_check.passed:
            await self.key_check.ensure(self.client, self.prefix)

    async def get(self, key: str) -> StoredSession | None:
        if key in self._read_with_lock:
            return self._read_with_lock.pop(key)
        await self._checked()
        version, data = await reachable(self.client.hmget(self._key(key), ["v", "d"]))
        return _stored(version, data)

    async def save(
        self,
        key: str,
        data: bytes,
        expected_version: int | None,
        ttl_seconds: float,
        *,
        final: bool = False,
    ) -> int:
        """``final``: the turn's last write under its lock, which ends the lease with it."""
        await self._checked()
        expected = "" if expected_version is None else str(expected_version)
        ttl_ms = max(1, round(coarse_ttl(time.time(), ttl_seconds) * 1000))
        lease = self._leases.get(key) if final else None
        fresh = str(new_version(expected_version))
        if lease is None:
            answer = self._save(keys=[self._key(key)], args=[expected, data, ttl_ms, fresh])
        else:
            answer = self._save_and_release(
                keys=[self._key(key), lease.name],
                args=[expected, data, ttl_ms, fresh, lease.token],
            )
        version = int(await reachable(answer))
        if version < 0:
            raise VersionConflict("the session was changed by someone else")
        if lease is not None:
            lease.ended = True
        return version

    async def delete(self, key: str) -> None:
        await self._checked()
        await reachable(self.client.delete(self._key(key)))

    async def expire(self) -> int:
        """Redis expires sessions itself; nothing is left to sweep."""
        return 0

    @property
    def _since_key(self) -> str:
        return f"{self.prefix}since"

    async def kept_since(self) -> float:
        """Since when Redis has kept every save (``ForgetfulStore``): recorded by the first turn
        after Redis lost everything (restarted without persistence, flushed), or now."""
        await self._checked()
        now = f"{time.time():.6f}"
        return float(await reachable(self._since(keys=[self._since_key], args=[now])))

    async def ping(self) -> bool:
        """Whether Redis answers and this instance may use it (the keys check passed)."""
        try:
            await self._checked()
            return bool(await reachable(self.client.ping()))
        except StoreUnavailable:
            return False

    @asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        lease = _Lease(f"{self.prefix}l:{key}", secrets.token_hex(16))
        await self._checked()
        self._read_with_lock[key] = await self._acquire(lease.name, lease.token, self._key(key))
        self._leases[key] = lease
        # Most turns end long before a third of the lease: a timer, not a task, until then.
        timer = asyncio.get_running_loop().call_later(self.lock_seconds / 3, lease.keep, self._keep)
        try:
            yield
        finally:
            timer.cancel()
            lease.stop()
            self._read_with_lock.pop(key, None)
            self._leases.pop(key, None)
            if not lease.ended:
                with contextlib.suppress(StoreUnavailable):  # if so, the lock expires by itself
                    await reachable(self._release(keys=[lease.name], args=[lease.token]))

    async def _keep(self, name: str, token: str) -> None:
        """Renew the lease now and every third of its length while the turn runs (a turn
        waiting on a slow action keeps its conversation; a dead instance's lease runs out)."""
        ttl_ms = max(1, round(self.lock_seconds * 1000))
        while True:
            try:
                if not int(await reachable(self._renew(keys=[name], args=[token, ttl_ms]))):
                    log_event("session lease lost")
                    return
            except StoreUnavailable:
                pass
            await asyncio.sleep(self.lock_seconds / 3)

    async def _acquire(self, name: str, token: str, session: str) -> StoredSession | None:
        """Take the lock (waiting while another holds it); return the session as it is now."""
        deadline = time.monotonic() + self.lock_wait_seconds
        pause = 0.002
        ttl_ms = max(1, round(self.lock_seconds * 1000))
        fingerprints = self.key_check.fingerprints if self.key_check is not None else []
        keys = [name, session, f"{self.prefix}key", self._since_key]
        while True:
            now = f"{time.time():.6f}"
            answer: Any = await reachable(
                self._lock_and_read(keys=keys, args=[token, ttl_ms, now, *fingerprints])
            )
            if int(answer[0]) == 1:
                return _stored(*answer[1])
            if int(answer[0]) == -1 and self.key_check is not None:
                self.key_check.refuse()
            if time.monotonic() >= deadline:
                raise SessionBusy("the session is held by another instance")
            await asyncio.sleep(pause * (1 + random.random()))
            pause = min(pause * 2, 0.05)

    async def close(self) -> None:
        await self._batch.close()
        await self.client.aclose()


_Call = tuple[AsyncScript, list[Any], list[Any], "asyncio.Future[Any]"]


class ScriptBatch:
    """Lua scripts run in batches: the calls made while the event loop ran once are sent
    together on one pooled connection (one write, the answers read in order). Each call gets its
    own answer or error; a script Redis does not know yet (restarted, flushed) is loaded and run
    again by itself. A broken pooled connection is retried once, as single commands are.

    The batch is written and read on the connection directly rather than through redis-py's
    ``Pipeline``, whose bookkeeping (observability hooks, a second retry wrapper, response
    callbacks scripts do not have) cost about a fifth of a Redis turn when batches are small."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        self._pool = client.connection_pool
        self._waiting: list[_Call] = []
        self._sending: set[asyncio.Task[None]] = set()
        self._idle: list[AbstractConnection] = []
        """Connections kept from the pool between batches (a checkout costs about as much as
        a third of the round trip); at most ``KEPT_IDLE``, the rest go back to the pool."""

    async def close(self) -> None:
        """Give the kept connections back to the pool (before it is closed)."""
        while self._idle:
            await self._pool.release(self._idle.pop())

    def script(self, source: str) -> Callable[..., Awaitable[Any]]:
        """``source`` as a callable ``(keys=..., args=...)`` whose calls are batched."""
        registered = self.client.register_script(source)

        def run(keys: list[Any], args: list[Any]) -> Awaitable[Any]:
            return self._call(registered, keys, args)

        return run

    def _call(self, script: AsyncScript, keys: list[Any], args: list[Any]) -> Awaitable[Any]:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Any] = loop.create_future()
        if not self._waiting:
            # A task's first step runs when the loop comes round again: by then, the calls of
            # every turn that ran in the meantime are waiting too.
            task = loop.create_task(self._send())
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        self._waiting.append((script, keys, args, answer))
        return answer

    async def _send(self) -> None:
        calls, self._waiting = self._waiting, []
        try:
            connection = self._idle.pop() if self._idle else await self._pool.get_connection()  # type: ignore[no-untyped-call]
            try:
                packed = connection.pack_commands(
                    [
                        ("EVALSHA", script.sha, len(keys), *keys, *args)
                        for script, keys, args, _ in calls
                    ]
                )
                results = await connection.retry.call_with_retry(
                    lambda: _exchange(connection, packed, len(calls)),
                    lambda _error: connection.disconnect(),
                )
            finally:
                if len(self._idle) < KEPT_IDLE and connection.is_connected:
                    self._idle.append(connection)
                else:
                    await self._pool.release(connection)
        except asyncio.CancelledError:
            for *_, answer in calls:
                answer.cancel()
            raise
        except Exception as error:  # each caller gets it, as if its call had been sent alone
            for *_, answer in calls:
                if not answer.done():
                    answer.set_exception(error)
            return
        for (script, keys, args, answer), result in zip(calls, results, strict=True):
            if answer.done():  # its turn was cancelled
                continue
            settled = (
                await _settled(script(keys=keys, args=args))
                if isinstance(result, NoScriptError)
                else result
            )
            if answer.done():
                # Cancelled while its script was loaded again: setting it raised, and every
                # call after it in the batch was left without an answer (the eighteenth
                # attack, Redis killed under load: a turn unanswered for 30 s).
                continue
            if isinstance(settled, BaseException):
                answer.set_exception(settled)
            else:
                answer.set_result(settled)


async def _exchange(connection: AbstractConnection, packed: list[bytes], count: int) -> list[Any]:
    """Send ``packed`` (``count`` commands) and read their answers, an error in its place."""
    await connection.send_packed_command(packed)
    answers: list[Any] = []
    for _ in range(count):
        try:
            answers.append(await connection.read_response())
        except ResponseError as error:
            answers.append(error)
    return answers


async def _settled(call: Awaitable[_T]) -> _T | BaseException:
    try:
        return await call
    except Exception as error:  # handed to the caller that made the call
        return error


class _Lease:
    """A session lock this instance holds: its name, its token, and the task renewing it once
    the turn has run for a third of the lease."""

    __slots__ = ("_renewing", "ended", "name", "token")

    def __init__(self, name: str, token: str) -> None:
        self.name = name
        self.token = token
        self.ended = False
        """Released already, with the turn's last write."""
        self._renewing: asyncio.Task[None] | None = None

    def keep(self, renew: Callable[[str, str], Awaitable[None]]) -> None:
        self._renewing = asyncio.ensure_future(renew(self.name, self.token))

    def stop(self) -> None:
        if self._renewing is not None:
            self._renewing.cancel()


def _stored(version: bytes | str | None, data: bytes | str | None) -> StoredSession | None:
    if version is None or data is None:
        return None
    return StoredSession(data if isinstance(data, bytes) else data.encode(), int(version))


class RedisRelay:
    """Topics as Redis streams, shared by every instance.

    Every topic this instance listens to is read by one reader (``XREAD`` over all of them at
    once, on one connection), whatever the number of listeners: each open handoff's listener
    held a pooled connection of its own in a blocking ``XREAD``, so that 100 "talk to a
    person" requests took every connection and the next handoff, a crisis's included, failed
    (the fifty-sixth attack). A new listener wakes the reader with an entry in this instance's
    own wake stream, so that it reads the new topic at once rather than after ``block_ms``."""

    def __init__(
        self,
        client: Redis,
        prefix: str = "rb:",
        max_length: int = 1000,
        ttl_seconds: float = 24 * 3600.0,
        block_ms: int = 5000,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.max_length = max_length
        self.ttl_ms = max(1, round(ttl_seconds * 1000))
        self.block_ms = block_ms
        self._listeners: set[_Listener] = set()
        self._reader: asyncio.Task[None] | None = None
        self._wake_key = f"{prefix}w:{secrets.token_hex(8)}"
        self._woken = START

    @classmethod
    def from_url(
        cls,
        url: str,
        prefix: str = DEFAULT_PREFIX,
        block_ms: int = 5000,
        connections: int = DEFAULT_CONNECTIONS,
    ) -> RedisRelay:
        # The reader blocks for up to ``block_ms``: its socket waits a little longer than that.
        client = redis_client(url, connections, socket_timeout=block_ms / 1000 + 5)
        return cls(client, prefix, block_ms=block_ms)

    def _key(self, topic: str) -> str:
        return f"{self.prefix}r:{topic}"

    async def publish(self, topic: str, data: bytes) -> str:
        key = self._key(topic)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.xadd(key, {"d": data}, maxlen=self.max_length, approximate=True)
            pipe.pexpire(key, self.ttl_ms)
            added, _ = await reachable(pipe.execute())
        return added.decode() if isinstance(added, bytes) else str(added)

    async def listen(self, topic: str, after: str = START) -> AsyncIterator[Relayed]:
        listener = _Listener(self._key(topic), after)
        self._listeners.add(listener)
        try:
            await self._wake()
            while True:
                got = await listener.queue.get()
                if isinstance(got, StoreUnavailable):
                    raise got
                yield got
        finally:
            self._listeners.discard(listener)

    async def _wake(self) -> None:
        """Start the reader, or have it read its topics again (a listener was added)."""
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read())
            return
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.xadd(self._wake_key, {"w": b""}, maxlen=1, approximate=False)
            pipe.pexpire(self._wake_key, self.block_ms * 4)
            await reachable(pipe.execute())

    async def _read(self) -> None:
        """Read every listened topic after its listener's place until nobody listens."""
        try:
            while self._listeners:
                streams = {self._wake_key: self._woken}
                for listener in self._listeners:
                    known = streams.get(listener.key)
                    if known is None or _id_order(listener.last) < _id_order(known):
                        streams[listener.key] = listener.last
                answer: Any = await reachable(
                    self.client.xread(streams, count=100, block=self.block_ms)  # type: ignore[arg-type]
                )
                for raw_key, entries in answer or []:
                    self._hand_out(_text(raw_key), entries)
        except StoreUnavailable as error:
            for listener in self._listeners:
                listener.queue.put_nowait(error)

    def _hand_out(self, key: str, entries: list[tuple[Any, dict[bytes, bytes]]]) -> None:
        if key == self._wake_key:
            self._woken = _text(entries[-1][0])
            return
        for listener in [found for found in self._listeners if found.key == key]:
            for raw_id, fields in entries:
                message_id = _text(raw_id)
                if _id_order(message_id) > _id_order(listener.last):
                    listener.last = message_id
                    listener.queue.put_nowait(Relayed(message_id, bytes(fields[b"d"])))

    async def forget(self, topic: str) -> None:
        await reachable(self.client.delete(self._key(topic)))

    async def entries(self, topic: str) -> list[Relayed]:
        found: Any = await reachable(self.client.xrange(self._key(topic)))
        return [Relayed(_text(raw_id), bytes(fields[b"d"])) for raw_id, fields in found]

    async def remove(self, topic: str, ids: list[str]) -> None:
        if ids:
            await reachable(self.client.xdel(self._key(topic), *ids))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self.client.aclose()


@dataclass(eq=False)
class _Listener:
    """One ``listen`` of a ``RedisRelay``: its stream, the last id handed to it, and what the
    reader hands it (a message, or the error that ended the reading)."""

    key: str
    last: str
    queue: asyncio.Queue[Relayed | StoreUnavailable] = field(default_factory=asyncio.Queue)


def _id_order(message_id: str) -> tuple[int, int]:
    first, _, second = message_id.partition("-")
    return int(first), int(second or 0)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisCounts:
    """Anonymous evaluation counts (redirection_bot.operations.evaluation): one Redis hash per day."""

    def __init__(self, client: Redis, prefix: str = DEFAULT_PREFIX, keep_days: int = 400) -> None:
        self.client = client
        self.prefix = prefix
        self.keep_seconds = keep_days * 86400

    @classmethod
    def from_url(cls, url: str, prefix: str = DEFAULT_PREFIX) -> RedisCounts:
        return cls(redis_client(url, connections=16), prefix)

    async def add(self, day: dt.date, module: str, question: str, answer: str) -> None:
        key = f"{self.prefix}e:{day.isoformat()}"
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hincrby(key, json.dumps([module, question, answer]), 1)
            pipe.expire(key, self.keep_seconds)
            await reachable(pipe.execute())

    async def rows(self) -> list[CountRow]:
        found: list[CountRow] = []
        async for key in self.client.scan_iter(match=f"{self.prefix}e:*"):
            day = (key.decode() if isinstance(key, bytes) else str(key)).rsplit(":", 1)[1]
            counts: Any = await reachable(self.client.hgetall(key))
            for counted, count in counts.items():
                module, question, answer = json.loads(counted)
                found.append(CountRow(day, module, question, answer, int(count)))
        return sorted(found)

    async def close(self) -> None:
        await self.client.aclose()


# KEYS[1] the fingerprint; ARGV the ring's fingerprints, newest first. The newest is recorded
# when the stored one is absent or belongs to the ring (a rotation moves it forward).
_CLAIM_KEY = """
local stored = redis.call('GET', KEYS[1])
local known = (stored == false)
for _, fingerprint in ipairs(ARGV) do
  if stored == fingerprint then known = true end
end
if not known then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
"""


def shares_key(url: str, prefix: str, fingerprints: list[str]) -> bool:
    """Whether the instances already using this Redis (under ``prefix``) seal with one of the
    keys whose fingerprints (``Keyring.fingerprint``) are given; records the newest if so.
    Called once at start, before the event loop runs (``KeyCheck`` does the same later, when
    Redis did not answer then)."""
    from redis import Redis as SyncRedis  # noqa: PLC0415

    client = SyncRedis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        answer = client.eval(_CLAIM_KEY, 1, f"{prefix}key", *fingerprints)
    except _UNREACHABLE as error:
        raise StoreUnavailable("Redis cannot be reached") from error
    finally:
        client.close()
    return bool(int(answer))
