"""What can happen to a conversation: the engine's input."""

from __future__ import annotations

from dataclasses import dataclass

from redirection_bot.dialogue.model import CommandName, Place, SlotValue
from redirection_bot.engine.outputs import Message
from redirection_bot.safety.categories import RiskHit


@dataclass(frozen=True, slots=True)
class Start:
    """A new conversation; ``locale`` None means the program's default. ``partner``: the
    partner platform whose link the person followed, already checked against the operator's
    list (operations/partners.py); the conversation then opens at the program's
    ``partner_entry``. The engine reads nothing else from it."""

    locale: str | None = None
    partner: str | None = None


@dataclass(frozen=True, slots=True)
class Text:
    """The person typed something; ``risks`` is what screening found in it (the runtime screens
    every message before the engine sees it, and passes ``text`` with identifying details
    hidden). A risk the program has a safety flow for pre-empts the current node."""

    text: str
    risks: tuple[RiskHit, ...] = ()


@dataclass(frozen=True, slots=True)
class ChoicePicked:
    """The person picked a quick reply by its id (or ``command:<name>``)."""

    choice: str


@dataclass(frozen=True, slots=True)
class CommandGiven:
    """A global command, from a button, a connector's menu or typed words."""

    command: CommandName
    argument: str | None = None


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What a custom action did, already checked by the action bridge."""

    action: str
    slot_sets: tuple[tuple[str, SlotValue | None], ...] = ()
    messages: tuple[Message, ...] = ()
    followup: str | None = None
    pause: bool = False
    restart: bool = False
    failed: bool = False


@dataclass(frozen=True, slots=True)
class HandoffEnded:
    """A human conversation ended; continue at ``resume_at`` or where the person was, after
    the safety flow of the highest of the ``crises`` (risk categories, by name) that what the
    person wrote to the operator raised."""

    resume_at: Place | None = None
    crises: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CameBack:
    """The person came back with resume words (their parked copy is the state now): the
    program's ``return_entry`` runs first, then what they were waiting for is shown again."""


Event = Start | Text | ChoicePicked | CommandGiven | ActionResult | HandoffEnded | CameBack
