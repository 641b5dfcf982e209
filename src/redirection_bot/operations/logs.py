"""Logging without content: events with a fixed set of safe fields, by construction.

Nothing a person typed, no IP address and no identifier can be logged through ``log_event``:
field names come from a fixed list and values must be numbers, yes/no, or short lower-case
words (a flow id, a category, an error type). Sessions appear as a keyed hash that changes
with every process, so log lines cannot be joined to a session across restarts.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import secrets
import time
from collections.abc import Callable

_PROCESS_KEY = secrets.token_bytes(32)
_SAFE_WORD = re.compile(r"[A-Za-z0-9_.:-]{0,64}\Z")
ALLOWED_FIELDS = frozenset(
    {
        "session",
        "duration_ms",
        "outputs",
        "event",
        "action",
        "reason",
        "urgency",
        "category",
        "count",
        "connector",
        "locale",
        "status",
        "error",
        "flow",
        "version",
        "waiting",
        "port",
        "host",
        "kind",
    }
)

logger = logging.getLogger("redirection_bot")


class UnsafeLogField(ValueError):
    """A log call tried to carry something that is not allowed in logs."""


def session_tag(session_id: str) -> str:
    """A short keyed hash of a session id, stable within this process only."""
    return hashlib.blake2b(session_id.encode(), key=_PROCESS_KEY, digest_size=6).hexdigest()


def log_enabled(level: int = logging.INFO) -> bool:
    """Whether an event at ``level`` would be written: a caller on a hot path whose fields are
    safe by construction may skip making them (``log_event`` itself always checks them)."""
    return logger.isEnabledFor(level)


def log_event(name: str, level: int = logging.INFO, **fields: object) -> None:
    """Log an event (a fixed phrase such as "turn handled") with safe fields only. The fields
    are checked whether or not the level is written; the line is made only if it is."""
    if not _SAFE_WORD.match(name.replace(" ", "_")):
        raise UnsafeLogField("event names are fixed phrases")
    for field, value in fields.items():
        if field not in ALLOWED_FIELDS:
            raise UnsafeLogField(f"the field {field!r} is not allowed in logs")
        if not (
            isinstance(value, bool | int | float)
            or value is None
            or (isinstance(value, str) and _SAFE_WORD.match(value))
        ):
            raise UnsafeLogField(f"the field {field!r} holds something that is not a short word")
    if logger.isEnabledFor(level):
        parts = [name, *(f"{field}={value}" for field, value in fields.items())]
        logger.log(level, " ".join(parts))


class Tally:
    """A repeated event logged at most once every ``seconds``, with how many happened since
    the last line: a refusal a script can cause as fast as it likes never fills the disk (the
    fourteenth attack: 2.2 GB of log an hour from one client), and no line says which
    conversation it was."""

    def __init__(
        self,
        name: str,
        seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        **fields: str,
    ) -> None:
        self.name = name
        self.seconds = seconds
        self.clock = clock
        self.fields = fields
        self.count = 0
        self.logged_at = -math.inf

    def add(self) -> None:
        self.count += 1
        now = self.clock()
        if now - self.logged_at >= self.seconds:
            log_event(self.name, logging.INFO, count=self.count, **self.fields)
            self.count = 0
            self.logged_at = now


class Tallies:
    """``Tally`` lines by event and reason, made as they first come: refusals a script can
    cause as fast as it likes (a foreign Host or Origin, a body that is not what it says),
    each logged at most once every ``seconds`` with its count (the forty-seventh attack:
    10,000 lines in 2.3 s, about 20 GB a day from one client)."""

    def __init__(
        self, seconds: float = 60.0, clock: Callable[[], float] = time.monotonic, **fields: str
    ) -> None:
        self.seconds = seconds
        self.clock = clock
        self.fields = fields
        self._tallies: dict[tuple[str, str], Tally] = {}

    def add(self, name: str, reason: str) -> None:
        tally = self._tallies.get((name, reason))
        if tally is None:
            tally = self._tallies[(name, reason)] = Tally(
                name, self.seconds, self.clock, reason=reason, **self.fields
            )
        tally.add()


class OncePer(logging.Filter):
    """Lets the same message through at most once every ``seconds`` (a fault that repeats in a
    tight loop, such as a failing accept, would otherwise fill the disk)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.seconds = seconds
        self._clock = clock
        self._last: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = str(record.msg)
        now = self._clock()
        if now - self._last.get(key, -self.seconds) < self.seconds:
            return False
        if len(self._last) > 1000:
            self._last.clear()
        self._last[key] = now
        return True
