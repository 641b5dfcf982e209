"""What operators type in the operator room, read as commands (pure, so it is easy to test).

In a request's thread: ``!claim``, ``!close [flow or flow.node]``, ``!return flow[.node]``,
``!transfer @user:server`` (to a colleague) or ``!transfer`` (back to the queue),
``!note ...`` (kept in the thread, never sent). Anything else written in a claimed thread
by the operator who holds it goes to the person. In the room itself: ``!on`` and ``!off``
(on duty or not), ``!queue``, ``!help``; and for appointments (``appointments.py``):
``!slots``, ``!bookings [slot]``, ``!addslot ID START [MINUTES] [LANGUAGE] [PLACES]``,
``!removeslot ID``, ``!cancel BOOKING``, ``!noshow BOOKING``. The command words are the same in every language;
the help that lists them is the text ``operators.help``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

PREFIX = "!"
CLAIM_REACTIONS = frozenset({"✋", "✋️", "👍", "👍️", "✅", "claim"})


class Verb(enum.StrEnum):
    CLAIM = "claim"
    CLOSE = "close"
    RETURN = "return"
    TRANSFER = "transfer"
    NOTE = "note"
    ON = "on"
    OFF = "off"
    QUEUE = "queue"
    HELP = "help"
    SLOTS = "slots"
    BOOKINGS = "bookings"
    ADD_SLOT = "addslot"
    REMOVE_SLOT = "removeslot"
    CANCEL = "cancel"
    NO_SHOW = "noshow"


@dataclass(frozen=True, slots=True)
class Command:
    verb: Verb
    argument: str = ""


@dataclass(frozen=True, slots=True)
class Unknown:
    """A ``!word`` that is not a command."""

    word: str


def read_command(text: str) -> Command | Unknown | None:
    """The command ``text`` is, or None for words meant for the person."""
    stripped = text.strip()
    if not stripped.startswith(PREFIX) or len(stripped) == 1:
        return None
    # any white space ends the word, so that a note may start on the line after ``!note``
    word, *rest = re.split(r"\s", stripped[1:], maxsplit=1)
    argument = rest[0] if rest else ""
    try:
        verb = Verb(word.lower())
    except ValueError:
        return Unknown(word)
    return Command(verb, argument.strip())
