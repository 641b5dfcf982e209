"""What the runtime keeps for a session: its state, the name of its phrase copy if any, and,
when a helpline is connected, its handoff and the last lines of the conversation.

Stored as compact JSON (then sealed by ``EncryptedStore``). ``resume`` is the name of the
copy parked under the person's resume phrase: with it the runtime can erase that copy when
the person erases their conversation, but it cannot read it. ``conversation`` holds the last
lines shown and said (``handoff.conversation_lines``, 20 by default; none without a
helpline), so that an operator can read how the person got here if the person agrees; it
goes with the session when the session is erased or expires, and is never parked under a
resume phrase. ``partner`` is the partner platform whose link opened the conversation, kept
only while ``awaiting`` names funnel stages not yet counted (operations/partners.py); it is
never parked either.

It lives beside the handoff machine whose state it holds: the store keeps bytes only, and
both the runtime and its side of the handoff (``conduct``) read and write records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from redirection_bot.engine import SessionState
from redirection_bot.engine.state import COMPACT_JSON
from redirection_bot.errors import EngineError
from redirection_bot.handoff.machine import HandoffState

Line = tuple[str, str]
"""One line of the conversation: ``(who, text)``, who being ``program``, ``person`` or
``risk`` (a message that raised a risk, not kept; the text names the categories)."""

_NO_HANDOFF = HandoffState()


@dataclass(frozen=True, slots=True)
class SessionRecord:
    state: SessionState
    resume: str | None = None
    handoff: HandoffState = _NO_HANDOFF
    conversation: tuple[Line, ...] = ()
    partner: str | None = None
    awaiting: tuple[str, ...] = ()
    """The partner's funnel stages this conversation may still reach and count."""
    applied: str | None = None
    """The key of the last message applied (a REST client's ``Idempotency-Key``), saved with
    its turn: a resend of it whose answer was lost (its instance died after the save) finds
    it applied, and is not applied twice."""
    opened_from: str | None = None
    """The conversation only opened whose copy this is (``Runtime.fork``): the address the
    page was first drawn at, ended with this one while it is still only opened."""

    def encode(self) -> bytes:
        body: dict[str, object] = {}
        if self.resume is not None:
            body["resume"] = self.resume
        if self.handoff != _NO_HANDOFF:
            body["handoff"] = self.handoff.to_json()
        if self.conversation:
            body["conversation"] = [list(line) for line in self.conversation]
        if self.partner is not None:
            body["partner"] = [self.partner, *self.awaiting]
        if self.applied is not None:
            body["applied"] = self.applied
        if self.opened_from is not None:
            body["opened_from"] = self.opened_from
        rest = f",{COMPACT_JSON.encode(body)[1:]}" if body else "}"
        return f'{{"state":{self.state.json_text()}{rest}'.encode()

    @classmethod
    def decode(cls, data: bytes) -> SessionRecord:
        """Read a record (or a bare state, as the first versions stored); raise EngineError."""
        try:
            body = json.loads(data)
        except ValueError as error:
            raise EngineError("session record is not JSON") from error
        if not isinstance(body, dict):
            raise EngineError("session record is not an object")
        if "state" not in body:
            return cls(SessionState.from_json(body))
        resume = body.get("resume")
        partner = body.get("partner")
        applied = body.get("applied")
        opened_from = body.get("opened_from")
        try:
            handoff = body.get("handoff")
            conversation = tuple(
                (str(who), str(text)) for who, text in body.get("conversation") or ()
            )
            return cls(
                SessionState.from_json(body["state"]),
                resume if isinstance(resume, str) else None,
                HandoffState.from_json(handoff) if isinstance(handoff, dict) else _NO_HANDOFF,
                conversation,
                str(partner[0]) if partner else None,
                tuple(str(stage) for stage in partner[1:]) if partner else (),
                applied if isinstance(applied, str) else None,
                opened_from if isinstance(opened_from, str) else None,
            )
        except (KeyError, TypeError, ValueError) as error:
            raise EngineError(f"session record is damaged: {error!r}") from error
