"""What travels between the desk and the operator channels, and to the person's channel.

Desk events go to a service's operators, in order, on the relay topic of that service:
a ticket opened, a change to a ticket, what the person wrote, the conversation so far (when
the person agreed). None of them carries a session id, a connector identity or an address:
a ticket is a random name, and the person's words are screened and redacted first.

Pushes go to the person's channel, on the relay topic of their handoff: what was shown to
them outside their own turns (an operator's words, a notice while waiting, the bot taking
over again). Both are JSON, sealed by ``EncryptedRelay`` when they leave the process.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from redirection_bot.dialogue.model import HandoffReason, HandoffUrgency
from redirection_bot.errors import RedirectionBotError
from redirection_bot.handoff.machine import TicketChange
from redirection_bot.program.render import (
    Shown,
    ShownChoice,
    ShownEnd,
    ShownHandoff,
    ShownMessage,
    ShownOperator,
)


class WireError(RedirectionBotError):
    """A desk event or a push that cannot be read (written by another version, or damaged)."""


@dataclass(frozen=True, slots=True)
class TicketOpened:
    """A person asks for a person. ``module``: the part of the program they were in;
    ``asked_in``: the flow that asked (``support``, a safety flow, ...)."""

    ticket: str
    service: str
    locale: str
    reason: HandoffReason | str
    urgency: HandoffUrgency | str
    module: str
    asked_in: str
    risks: tuple[str, ...]
    requested_at: float
    """Seconds since the epoch."""
    fallback_given: bool
    position: int


@dataclass(frozen=True, slots=True)
class TicketChanged:
    """``operator``: the reference, in their channel, of the operator who holds the
    conversation after the change (None while nobody does)."""

    ticket: str
    change: TicketChange | str
    urgency: HandoffUrgency | str
    risks: tuple[str, ...]
    operator: str | None = None


@dataclass(frozen=True, slots=True)
class PersonWrote:
    """The person's words while an operator has the conversation (screened and redacted);
    ``risks``: what screening found in them."""

    ticket: str
    text: str
    risks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ConversationShared:
    """The conversation before the handoff, which the person agreed to share. Each line is
    ``(who, text)``: ``program``, ``person``, or ``risk`` (a message that raised a risk and
    was not kept; ``text`` names the categories)."""

    ticket: str
    lines: tuple[tuple[str, str], ...]


DeskEvent = TicketOpened | TicketChanged | PersonWrote | ConversationShared

_KINDS: dict[str, type[DeskEvent]] = {
    "ticket": TicketOpened,
    "update": TicketChanged,
    "person": PersonWrote,
    "conversation": ConversationShared,
}
_NAMES = {kind: name for name, kind in _KINDS.items()}
_CLOSED_SETS: dict[str, type[enum.StrEnum]] = {
    "reason": HandoffReason,
    "urgency": HandoffUrgency,
    "change": TicketChange,
}
"""Fields that carry a code of a closed set (JSON strings on the wire). A code this version
does not know (sent by a newer one) is read as the plain string it came as, so that an
operator channel can still show it; hence ``| str`` in the events' fields."""


def desk_event_json(event: DeskEvent) -> dict[str, Any]:
    """A desk event as a JSON object with a ``type`` (the webhook sends exactly this)."""
    body: dict[str, Any] = {"type": _NAMES[type(event)]}
    for name in event.__slots__:
        value = getattr(event, name)
        if name == "lines":
            value = [{"who": who, "text": text} for who, text in value]
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, enum.Enum):
            value = value.value
        body[name] = value
    return body


def encode_desk_event(event: DeskEvent) -> bytes:
    return json.dumps(desk_event_json(event), separators=(",", ":")).encode()


def decode_desk_event(data: bytes) -> DeskEvent:
    try:
        body = json.loads(data)
        kind = _KINDS[body.pop("type")]
        if kind is ConversationShared:
            lines = tuple((str(line["who"]), str(line["text"])) for line in body["lines"])
            return ConversationShared(str(body["ticket"]), lines)
        values: dict[str, Any] = {name: _field(name, value) for name, value in body.items()}
        return kind(**values)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise WireError("a desk event could not be read") from error


def _field(name: str, value: Any) -> Any:
    if isinstance(value, list):
        return tuple(str(item) for item in value)
    closed_set = _CLOSED_SETS.get(name)
    if closed_set is None:
        return value
    try:
        return closed_set(value)
    except ValueError:
        return value


# --- pushes to the person ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Push:
    """What was shown to the person outside their own turn; ``active``: whether the handoff
    is still on afterwards (a channel stops listening when it is not)."""

    shown: tuple[Shown, ...]
    active: bool


def encode_push(push: Push) -> bytes:
    return json.dumps(
        {"shown": [_shown_json(item) for item in push.shown], "active": push.active},
        separators=(",", ":"),
    ).encode()


def decode_push(data: bytes) -> Push:
    try:
        body = json.loads(data)
        return Push(tuple(_shown(item) for item in body["shown"]), bool(body["active"]))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise WireError("a push could not be read") from error


def _shown_json(item: Shown) -> dict[str, Any]:
    if isinstance(item, ShownMessage):
        return {
            "kind": "message",
            "key": item.key,
            "text": item.text,
            "choices": [[choice.id, choice.label, choice.number] for choice in item.choices],
            "expects_text": item.expects_text,
        }
    if isinstance(item, ShownOperator):
        return {"kind": "operator", "name": item.name, "text": item.text}
    if isinstance(item, ShownHandoff):
        return {
            "kind": "handoff",
            "reason": item.reason,
            "urgency": item.urgency,
            "flow": item.flow,
        }
    return {"kind": "end", "erase": item.erase}


def _choice(entry: list[Any]) -> ShownChoice:
    """``[id, label, number]`` (a push written before numbers were kept has no third item)."""
    number = entry[2] if len(entry) > 2 and isinstance(entry[2], int) else None
    return ShownChoice(str(entry[0]), str(entry[1]), number)


def _shown(body: dict[str, Any]) -> Shown:
    kind = body["kind"]
    if kind == "message":
        choices = tuple(_choice(entry) for entry in body["choices"])
        return ShownMessage(
            str(body["key"]), str(body["text"]), choices, bool(body["expects_text"])
        )
    if kind == "operator":
        return ShownOperator(str(body["name"]), str(body["text"]))
    if kind == "handoff":
        return ShownHandoff(str(body["reason"]), str(body["urgency"]), str(body["flow"]))
    if kind == "end":
        return ShownEnd(bool(body["erase"]))
    raise KeyError(kind)
