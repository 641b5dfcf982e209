"""A conversation's state: small, immutable, JSON-serialisable."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from redirection_bot.dialogue.model import Place, SlotValue
from redirection_bot.errors import EngineError

STATE_FORMAT = 1

COMPACT_JSON = json.JSONEncoder(separators=(",", ":"), check_circular=False)
"""How a state and its session record are written: made once (``json.dumps`` with options
makes an encoder each call); a state is a tree of fresh lists and dicts, never circular."""


class Waiting(enum.StrEnum):
    """What the conversation is waiting for."""

    NOT_STARTED = "not_started"
    ANSWER = "answer"
    """The person's answer at a choice or input node."""
    ACTION = "action"
    LANGUAGE = "language"
    HANDOFF = "handoff"
    """A handoff node with no way on: a person will take over."""
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Frame:
    """Where the person was at an earlier question, for ``back``."""

    at: Place
    stack: tuple[Place, ...]
    _text: str | None = field(default=None, init=False, compare=False, repr=False)
    """Its JSON text, once written: each turn saves the history, and its frames are the same
    objects turn after turn and across conversations (``shared_frame``)."""

    def to_json(self) -> dict[str, Any]:
        return {"at": _place_json(self.at), "stack": [_place_json(p) for p in self.stack]}

    def json_text(self) -> str:
        text = self._text
        if text is None:
            text = COMPACT_JSON.encode(self.to_json())
            object.__setattr__(self, "_text", text)  # a cache, as a frozen __init__ sets fields
        return text


_FRAMES: dict[Frame, Frame] = {}
_FRAMES_KEPT = 20_000
"""At most this many frames are shared: a program has about as many places and stacks."""


def shared_frame(at: Place, stack: tuple[Place, ...]) -> Frame:
    """The frame for ``at`` under ``stack``, one object however many histories hold it:
    conversations through a program pass the same questions, so a history costs pointers,
    and a frame's JSON is written once."""
    made = Frame(at, stack)
    shared = _FRAMES.get(made)
    if shared is not None:
        return shared
    if len(_FRAMES) >= _FRAMES_KEPT:
        _FRAMES.clear()
    _FRAMES[made] = made
    return made


@dataclass(frozen=True, slots=True)
class HeldAnswer:
    """What the person typed at a question while screening was unsure about it.

    It is not an answer yet: the safety flow's check question comes first. If the check
    ends by going back to the question (the person said "no"), the text is taken as the
    answer then; if the safety flow starts in full, or an answer leads out of the check's
    flow ("someone is hurting me", to the young person's words), the text is dropped, never
    stored."""

    at: Place
    text: str


@dataclass(frozen=True, slots=True)
class SessionState:
    """Everything the engine needs to continue a conversation."""

    program_version: str
    locale: str
    waiting: Waiting = Waiting.NOT_STARTED
    at: Place | None = None
    slots: Mapping[str, SlotValue] = field(default_factory=dict)
    stack: tuple[Place, ...] = ()
    """Where to continue when a called flow returns, innermost last."""
    history: tuple[Frame, ...] = ()
    misses: int = 0
    turn: int = 0
    pending_action: str | None = None
    risks: tuple[str, ...] = ()
    """Risk categories raised in this conversation, in the order first raised (never the
    words): for the people a handoff goes to. Erased with the session."""
    confirmed: tuple[str, ...] = ()
    """Risk categories of ``safety.categories.CHECKED_ONCE`` whose safety flow this
    conversation went into in full (a clear hit, or "yes" to the check question): a later
    uncertain hit of one starts the flow again without asking the check question a second
    time. Erased with the session."""
    held: HeldAnswer | None = None
    screening_carry: tuple[float, ...] = ()
    """What the person's last messages weighed for each risk category (numbers, never
    words): screening reads the next message with it (``safety.screen``)."""
    earlier: Mapping[str, SlotValue] = field(default_factory=dict)
    """The ``progress`` slots' answers from the copy the person's resume words opened, to
    compare today's with (``came_back``). Never parked: the parked slots are last time's."""

    done: tuple[str, ...] = ()
    """The parts of the program the person has finished (``dialogue.parts``), in that order."""
    told: tuple[str, ...] = ()
    """Keys of what the runtime says once in a conversation and more briefly afterwards
    (that no support team is connected: ``Effects.without_team``). Never words."""

    @property
    def untouched(self) -> bool:
        """Only opened: the person has done nothing yet (the greeting was its one turn)."""
        return self.turn <= 1

    def to_json(self, history: bool = True) -> dict[str, Any]:
        """The state as JSON values; without its ``history`` for ``json_text``, which writes
        the frames' texts kept from earlier turns."""
        body: dict[str, Any] = {
            "format": STATE_FORMAT,
            "program_version": self.program_version,
            "locale": self.locale,
            "waiting": self.waiting.value,
            "at": _place_json(self.at),
            "slots": {
                name: list(value) if isinstance(value, tuple) else value
                for name, value in self.slots.items()
            },
            "stack": [_place_json(p) for p in self.stack],
            "misses": self.misses,
            "turn": self.turn,
            "pending_action": self.pending_action,
            "risks": list(self.risks),
            "confirmed": list(self.confirmed),
            "held": None
            if self.held is None
            else {"at": _place_json(self.held.at), "text": self.held.text},
            "screening_carry": list(self.screening_carry),
            "done": list(self.done),
            "earlier": dict(self.earlier),
            "told": list(self.told),
        }
        if history:
            body["history"] = [frame.to_json() for frame in self.history]
        return body

    def json_text(self) -> str:
        """``to_json()`` as compact JSON text: what a session record stores."""
        head = COMPACT_JSON.encode(self.to_json(history=False))
        frames = ",".join([frame.json_text() for frame in self.history])
        return f'{head[:-1]},"history":[{frames}]}}'

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SessionState:
        """Rebuild a state; raises EngineError if the data is not a state this version wrote."""
        try:
            if data["format"] != STATE_FORMAT:
                raise EngineError(f"unknown session state format {data['format']!r}")
            slots: dict[str, SlotValue] = {}
            for name, value in dict(data["slots"]).items():
                slots[str(name)] = (
                    tuple(str(v) for v in value) if isinstance(value, list) else value
                )
            return cls(
                program_version=str(data["program_version"]),
                locale=str(data["locale"]),
                waiting=Waiting(data["waiting"]),
                at=_place(data["at"]),
                slots=slots,
                stack=tuple(_required_place(p) for p in data["stack"]),
                history=tuple(
                    shared_frame(
                        _required_place(f["at"]),
                        tuple(_required_place(p) for p in f["stack"]),
                    )
                    for f in data["history"]
                ),
                misses=int(data["misses"]),
                turn=int(data["turn"]),
                pending_action=data["pending_action"],
                risks=tuple(str(risk) for risk in data.get("risks", ())),
                confirmed=tuple(str(risk) for risk in data.get("confirmed", ())),
                held=_held(data.get("held")),
                screening_carry=tuple(float(x) for x in data.get("screening_carry", ())),
                done=tuple(str(part) for part in data.get("done", ())),
                told=tuple(str(key) for key in data.get("told", ())),
                earlier={
                    str(name): value
                    for name, value in dict(data.get("earlier", {})).items()
                    if isinstance(value, (int, str)) and not isinstance(value, bool)
                },
            )
        except (KeyError, TypeError, ValueError) as error:
            raise EngineError(f"session state is damaged: {error!r}") from error


def _place_json(place: Place | None) -> list[str] | None:
    return None if place is None else [place.flow, place.node]


def _held(data: Any) -> HeldAnswer | None:
    if data is None:
        return None
    return HeldAnswer(_required_place(data["at"]), str(data["text"]))


def _place(data: Any) -> Place | None:
    if data is None:
        return None
    return _required_place(data)


def _required_place(data: Any) -> Place:
    flow, node = data
    return Place(str(flow), str(node))
