"""Answers kept for a REST client's resend: the ``Idempotency-Key`` of a message.

A client that lost an answer (a timeout, an instance that died) sends the message again with
the same key and gets the first answer back; the message is not applied twice. Answers are
kept in the session store (sealed like conversations, so every instance finds them) under a
name derived from the conversation and the key: first a short-lived "being handled" mark,
taken only if absent, then the answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from redirection_bot.api import SessionStore, VersionConflict

KEY_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}\Z")
HEADER = "Idempotency-Key"
FIELD = "message_id"
PENDING_SECONDS = 60.0
"""How long a key stays marked "being handled" if its instance dies before answering."""
_PENDING = b"pending"


@dataclass(frozen=True, slots=True)
class Claimed:
    """This request holds the key: apply the message, then ``Replays.keep`` the answer."""

    name: str


@dataclass(frozen=True, slots=True)
class Replayed:
    """The key was used before: ``answer`` is the first answer (None: still being handled)."""

    answer: list[dict[str, Any]] | None


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
            await self.store.save(name, _PENDING, None, PENDING_SECONDS)
        except VersionConflict:
            stored = await self.store.get(name)
            if stored is None or stored.data == _PENDING:
                return Replayed(None)
            answer: list[dict[str, Any]] = json.loads(stored.data)
            return Replayed(answer)
        return Claimed(name)

    async def release(self, claimed: Claimed) -> None:
        """The message could not be handled (the store was away): a resend may try again."""
        await self.store.delete(claimed.name)

    async def keep(self, claimed: Claimed, answer: list[dict[str, Any]]) -> None:
        data = json.dumps(answer, ensure_ascii=False).encode()
        await self.store.save(claimed.name, data, 1, self.ttl_seconds)
