"""What the runtime keeps for a session: its state, and the name of its phrase copy if any.

Stored as compact JSON (then sealed by ``EncryptedStore``). ``resume`` is the name of the
copy parked under the person's resume phrase: with it the runtime can erase that copy when
the person erases their conversation, but it cannot read it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from redirection_bot.engine import SessionState
from redirection_bot.errors import EngineError


@dataclass(frozen=True, slots=True)
class SessionRecord:
    state: SessionState
    resume: str | None = None

    def encode(self) -> bytes:
        body: dict[str, object] = {"state": self.state.to_json()}
        if self.resume is not None:
            body["resume"] = self.resume
        return json.dumps(body, separators=(",", ":")).encode()

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
        return cls(
            SessionState.from_json(body["state"]), resume if isinstance(resume, str) else None
        )
