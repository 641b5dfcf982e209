"""The Redis session store: several instances of the bot share their sessions.

Each session is one Redis hash (``v``: version, ``d``: data) with Redis's own expiry, so idle
sessions vanish without a sweeper. The version check and the write run as one Lua script, so
two instances can never overwrite each other's turn.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from redirection_bot.store import StoredSession, VersionConflict

DEFAULT_PREFIX = "rb:"

# KEYS[1] the session; ARGV: expected version ('' = must not exist), data, ttl in ms.
_SAVE = """
local current = redis.call('HGET', KEYS[1], 'v')
if current == false then current = '' end
if current ~= ARGV[1] then return -1 end
local version = (tonumber(current) or 0) + 1
redis.call('HSET', KEYS[1], 'v', version, 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return version
"""


class RedisStore:
    """Sessions in Redis under ``<prefix>s:<key>``."""

    def __init__(self, client: Redis, prefix: str = DEFAULT_PREFIX) -> None:
        self.client = client
        self.prefix = prefix
        self._save = client.register_script(_SAVE)

    @classmethod
    def from_url(cls, url: str, prefix: str = DEFAULT_PREFIX, **options: Any) -> RedisStore:
        return cls(Redis.from_url(url, **options), prefix)

    def _key(self, key: str) -> str:
        return f"{self.prefix}s:{key}"

    async def get(self, key: str) -> StoredSession | None:
        version, data = await self.client.hmget(self._key(key), ["v", "d"])
        if version is None or data is None:
            return None
        return StoredSession(data if isinstance(data, bytes) else data.encode(), int(version))

    async def save(
        self, key: str, data: bytes, expected_version: int | None, ttl_seconds: float
    ) -> int:
        expected = "" if expected_version is None else str(expected_version)
        ttl_ms = max(1, round(ttl_seconds * 1000))
        version = int(await self._save(keys=[self._key(key)], args=[expected, data, ttl_ms]))
        if version < 0:
            raise VersionConflict("the session was changed by someone else")
        return version

    async def delete(self, key: str) -> None:
        await self.client.delete(self._key(key))

    async def expire(self) -> int:
        """Redis expires sessions itself; nothing is left to sweep."""
        return 0

    async def close(self) -> None:
        await self.client.aclose()
