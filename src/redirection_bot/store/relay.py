"""A relay between instances: ordered, replayable topics (for handoff conversations).

When an operator is connected to one instance and the person to another, each instance
publishes what its side says to the conversation's topic and listens to the other side's.
Messages have ids that only grow; a listener that restarts passes the last id it handled
and receives everything after it, so nothing is lost when an instance restarts mid-handoff.

``MemoryRelay`` serves one process; ``RedisRelay`` (store.redis) uses Redis streams (``XADD``/``XREAD``),
each topic trimmed to ``max_length`` messages and expiring ``ttl_seconds`` after its last
message. ``EncryptedRelay`` seals messages and hashes topic names, like ``EncryptedStore``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Protocol

from redirection_bot.operations.crypto import Keyring, pad, unpad

START = "0"
"""Listen from the first message still kept."""


@dataclass(frozen=True, slots=True)
class Relayed:
    id: str
    data: bytes


class Relay(Protocol):
    async def publish(self, topic: str, data: bytes) -> str:
        """Append a message to ``topic``; return its id."""
        ...

    def listen(self, topic: str, after: str = START) -> AsyncIterator[Relayed]:
        """Every message of ``topic`` after the id ``after``, then new ones as they come."""
        ...

    async def forget(self, topic: str) -> None:
        """Delete a topic and everything in it (the conversation is over or erased)."""
        ...

    async def entries(self, topic: str) -> list[Relayed]:
        """Every message ``topic`` still keeps, oldest first, without waiting."""
        ...

    async def remove(self, topic: str, ids: list[str]) -> None:
        """Delete these messages of ``topic`` (an erased person's words among others')."""
        ...

    async def close(self) -> None: ...


def _id_key(message_id: str) -> tuple[int, int]:
    first, _, second = message_id.partition("-")
    return int(first), int(second or 0)


@dataclass
class _Topic:
    messages: list[Relayed] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class MemoryRelay:
    """Topics in this process only."""

    def __init__(self, max_length: int = 1000, clock: Callable[[], float] = time.time) -> None:
        self.max_length = max_length
        self.clock = clock
        self._topics: dict[str, _Topic] = {}
        self._last_ms = 0
        self._sequence = 0

    def _next_id(self) -> str:
        """``<milliseconds>-<sequence>``, as Redis streams number messages: ids keep growing
        across restarts of the process, so a listener's saved place (kept in a SQLite store)
        never hides the messages of a new run."""
        now_ms = int(self.clock() * 1000)
        if now_ms > self._last_ms:
            self._last_ms, self._sequence = now_ms, 0
        else:
            self._sequence += 1
        return f"{self._last_ms}-{self._sequence}"

    async def publish(self, topic: str, data: bytes) -> str:
        kept = self._topics.setdefault(topic, _Topic())
        message = Relayed(self._next_id(), data)
        kept.messages = [*kept.messages, message][-self.max_length :]
        kept.changed.set()
        kept.changed = asyncio.Event()
        return message.id

    async def listen(self, topic: str, after: str = START) -> AsyncIterator[Relayed]:
        last = _id_key(after)
        while True:
            kept = self._topics.setdefault(topic, _Topic())
            waiting = kept.changed
            for message in kept.messages:
                if _id_key(message.id) > last:
                    last = _id_key(message.id)
                    yield message
            await waiting.wait()

    async def forget(self, topic: str) -> None:
        self._topics.pop(topic, None)

    async def entries(self, topic: str) -> list[Relayed]:
        kept = self._topics.get(topic)
        return list(kept.messages) if kept is not None else []

    async def remove(self, topic: str, ids: list[str]) -> None:
        kept = self._topics.get(topic)
        if kept is not None:
            doomed = set(ids)
            kept.messages = [m for m in kept.messages if m.id not in doomed]

    async def close(self) -> None:
        self._topics.clear()


class EncryptedRelay:
    """A relay whose topics are hashed and whose messages are sealed with the operator's keys,
    padded first to a size bucket as the store's blobs are (``crypto.pad``): an entry's length
    told how many characters a person wrote to an operator, to anyone who reads Redis (the
    fifty-sixth attack: 93 bytes plus the message)."""

    def __init__(self, inner: Relay, keyring: Keyring) -> None:
        self.inner = inner
        self.keyring = keyring

    def _topic(self, topic: str) -> str:
        return self.keyring.lookup_key("relay:" + topic)

    async def publish(self, topic: str, data: bytes) -> str:
        name = self._topic(topic)
        return await self.inner.publish(name, self.keyring.seal(pad(data), name.encode()))

    async def listen(self, topic: str, after: str = START) -> AsyncIterator[Relayed]:
        name = self._topic(topic)
        async for message in self.inner.listen(name, after):
            yield Relayed(message.id, unpad(self.keyring.open(message.data, name.encode())))

    async def forget(self, topic: str) -> None:
        await self.inner.forget(self._topic(topic))

    async def entries(self, topic: str) -> list[Relayed]:
        name = self._topic(topic)
        return [
            Relayed(m.id, unpad(self.keyring.open(m.data, name.encode())))
            for m in await self.inner.entries(name)
        ]

    async def remove(self, topic: str, ids: list[str]) -> None:
        await self.inner.remove(self._topic(topic), ids)

    async def close(self) -> None:
        await self.inner.close()
