"""What the engine asks the world to do: show messages, run an action, hand over, end.

Messages carry locale keys and parameters, never rendered text: rendering happens at the
edge, in the person's locale and escaped for the channel that shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from redirection_bot.dialogue.model import (
    HandoffReason,
    HandoffUrgency,
    SlotDecl,
    SlotType,
    SlotValue,
)

YES_KEY = "engine.yes"
NO_KEY = "engine.no"


@dataclass(frozen=True, slots=True)
class Label:
    """An authored text by key; ``locale`` set only where it must not follow the session's
    (each language's own name in the language menu)."""

    key: str
    locale: str | None = None
    params: tuple[tuple[str, Param], ...] = ()
    """The values of the text's placeholders (a choice label that shows slots, like a
    ``say`` text: "%{appointment_zone_time_1}"), by name."""


Param = str | int | Label | tuple[Label, ...] | None
"""A placeholder's value: the person's words, a number, an authored label, a list of labels,
or None for a slot not answered yet."""


@dataclass(frozen=True, slots=True)
class ChoiceOption:
    """A quick reply offered to the person. ``label`` is a text key, or a number shown as digits."""

    id: str
    label: Label | int
    picked: bool = False
    """An item of a checklist the person has picked: picking it again takes it off."""


@dataclass(frozen=True, slots=True)
class Message:
    """One message to show; the last message of a turn carries the choices, if any."""

    key: str
    params: Mapping[str, Param] = field(default_factory=dict)
    choices: tuple[ChoiceOption, ...] = ()
    expects_text: bool = False


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """Run the custom action ``action`` and send back an ``ActionResult``."""

    action: str


@dataclass(frozen=True, slots=True)
class HandoffRequest:
    """The program asks for human support."""

    reason: HandoffReason
    urgency: HandoffUrgency
    flow: str
    """The module the person was in, for the operator."""


@dataclass(frozen=True, slots=True)
class End:
    """The conversation is over; ``erase`` when the person asked to leave quickly."""

    erase: bool = False
    forget_saved: bool = False
    """Erase the copy kept under the person's resume words too ("erase", not "leave now")."""


Output = Message | ActionRequest | HandoffRequest | End


def slot_param(declared: SlotDecl, value: SlotValue | None) -> Param:
    """How a slot's value appears in a text: labels for choices, the person's words as they are."""
    if value is None:
        return None
    if declared.type is SlotType.CHOICE and isinstance(value, str) and value in declared.labels:
        return Label(declared.labels[value])
    if declared.type is SlotType.LIST and isinstance(value, tuple):
        return tuple(Label(declared.labels.get(item, item)) for item in value)
    if isinstance(value, bool):
        return Label(YES_KEY if value else NO_KEY)
    if isinstance(value, (str, int)):
        return value
    return None
