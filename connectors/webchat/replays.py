"""Answers kept for a REST client's resend: the ``Idempotency-Key`` of a message.

A client that lost an answer (a timeout, an instance that died) sends the message again with
the same key and gets the first answer back; the message is not applied twice. Answers are
kept in the session store (sealed like conversations, so every instance finds them) under a
name derived from the conversation and the key: first a short "being handled" mark, taken
only if absent and renewed while the message is handled, then the answer.

- **A resend waits seconds, not a minute:** the mark lasts ``PENDING_SECONDS`` and is renewed
  every ``RENEW_SECONDS`` while its instance handles the message, so after that instance dies
  (or the store was away and the mark could not be taken back) a resend is handled afresh
  within ``PENDING_SECONDS``.
- **Erased is erased:** the answers of a conversation are listed under one more name (its
  index); when the conversation is erased, ``forget`` deletes every answer with the index, so
  that a resend cannot read back what the person wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from redirection_bot.api import SessionStore, StoreUnavailable, VersionConflict

KEY_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}\Z")
HEADER = "Idempotency-Key"
FIELD = "message_id"
PENDING_SECONDS = 10.0
"""How long a "being handled" mark lasts unless renewed (its instance died, or gave up)."""
RENEW_SECONDS = 3.0
"""How often a mark is renewed while its message is handled."""
KEPT_PER_CONVERSATION = 200
"""Answers kept for resends per conversation, the newest; older ones are deleted."""
_PENDING = b"pending"
_TRIES = 5


@dataclass(slots=True)
class Claimed:
    """This request holds the key: handle the message (``Replays.holding``), then
    ``Replays.keep`` the answer."""

    session_id: str
    name: str
    version: int = 1
    """The mark's version in the store (each renewal adds one)."""
    _renewing: asyncio.Task[None] | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Replayed:
    """The key was used before: ``answer`` is the first answer (None: still being handled)."""

    answer: list[dict[str, Any]] | None


def bound_key(key: str, message: str) -> str:
    """The key bound to its message: a resend (the same key, the same message) finds the first
    answer; the same key with another message (a widget's counter begun again after a reload)
    is another message, applied and screened like any other, never answered with an old reply
    and dropped (the forty-second outside attack: "i want to end my life" sent with a used key
    got the old answer, unread)."""
    digest = hashlib.blake2b(message.encode("utf-8", "surrogatepass"), digest_size=8)
    return f"{key}~{digest.hexdigest()}"


TWO_KEYS = f"send one {HEADER} (or {FIELD!r}), not two different ones"
"""The refusal of a message with two keys (two headers, or a header and a field that differ):
a resend could be matched by either (an outside attack: the first header was taken)."""


def key_problem(key: object) -> str | None:
    """Why ``key`` cannot be an idempotency key (None: it can)."""
    if isinstance(key, str) and KEY_PATTERN.match(key):
        return None
    return f"{HEADER} (or {FIELD!r}) must be 1 to 128 letters, digits or . _ : -"


class Replays:
    def __init__(self, store: SessionStore, ttl_seconds: float) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds

    async def claim(self, session_id: str, key: str) -> Claimed | Replayed:
        name = f"replay:{session_id}:{key}"
        try:
            version = await self.store.save(name, _PENDING, None, PENDING_SECONDS)
        except VersionConflict:
            stored = await self.store.get(name)
            if stored is None or stored.data == _PENDING:
                return Replayed(None)
            answer: list[dict[str, Any]] = json.loads(stored.data)
            return Replayed(answer)
        return Claimed(session_id, name, version)

    @contextlib.asynccontextmanager
    async def holding(self, claimed: Claimed) -> AsyncIterator[None]:
        """While the message is handled, the mark is renewed; if handling fails, the mark is
        taken back so that a resend may try again (or, the store away, it lapses soon)."""
        claimed._renewing = asyncio.ensure_future(self._renew(claimed))
        try:
            yield
        except BaseException:
            await self._stop_renewing(claimed)
            with contextlib.suppress(StoreUnavailable):
                await self.store.delete(claimed.name)
            raise
        await self._stop_renewing(claimed)

    async def _renew(self, claimed: Claimed) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            with contextlib.suppress(StoreUnavailable, VersionConflict):
                claimed.version = await self.store.save(
                    claimed.name, _PENDING, claimed.version, PENDING_SECONDS
                )

    async def _stop_renewing(self, claimed: Claimed) -> None:
        task, claimed._renewing = claimed._renewing, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def keep(
        self, claimed: Claimed, answer: list[dict[str, Any]], ttl_seconds: float | None = None
    ) -> None:
        """Keep the answer for resends, and list it under its conversation, for as long as the
        conversation is kept (``ttl_seconds``; the conversation's whole lifetime by default)."""
        data = json.dumps(answer, ensure_ascii=False).encode()
        ttl = self.ttl_seconds if ttl_seconds is None else ttl_seconds
        try:
            await self.store.save(claimed.name, data, claimed.version, ttl)
        except VersionConflict:  # a renewal landed as it was stopped: overwrite the mark only
            stored = await self.store.get(claimed.name)
            if stored is None or stored.data != _PENDING:
                return
            await self.store.save(claimed.name, data, stored.version, ttl)
        await self._listed(claimed, ttl)

    async def _listed(self, claimed: Claimed, ttl: float) -> None:
        index = _index_name(claimed.session_id)
        for _ in range(_TRIES):
            stored = await self.store.get(index)
            names: list[str] = json.loads(stored.data) if stored is not None else []
            if claimed.name in names:
                return
            names.append(claimed.name)
            dropped, names = names[:-KEPT_PER_CONVERSATION], names[-KEPT_PER_CONVERSATION:]
            try:
                await self.store.save(
                    index,
                    json.dumps(names).encode(),
                    stored.version if stored is not None else None,
                    ttl,
                )
            except VersionConflict:  # another answer of this conversation was listed: again
                continue
            for name in dropped:
                await self.store.delete(name)
            return

    async def forget(self, session_id: str) -> None:
        """The conversation was erased: delete every answer kept for its resends."""
        index = _index_name(session_id)
        stored = await self.store.get(index)
        if stored is None:  # nothing kept (a conversation that never sent a key)
            return
        for name in json.loads(stored.data):
            await self.store.delete(name)
        await self.store.delete(index)


def _index_name(session_id: str) -> str:
    return f"replays:{session_id}"
