"""The handoff state machine: pure, per session, idempotent.

    bot --asked--> waiting --claimed--> with_operator --closed--> bot
                      |  \\--withdrawn (the person goes back)--> bot
                      \\--ended (the person leaves)--> ended

``advance(state, event, situation) -> Step`` returns the new state and what to do: tell the
person something (a text key), open or update a ticket for the operators, give the
fallback. Time and the operators' availability come in as data, so every rule here can be
tested without a clock or a network. Duplicate and late events (a second claim, a close after
a close, a webhook delivered twice) change nothing and are reported as such.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from redirection_bot.dialogue.model import HandoffUrgency


class HandoffStatus(enum.StrEnum):
    BOT = "bot"
    WAITING = "waiting"
    WITH_OPERATOR = "with_operator"
    ENDED = "ended"


class HandoffKeys:
    """Texts the handoff says to the person; every locale must have them."""

    AVAILABLE_NOW = "handoff.available_now"
    QUEUE_POSITION = "handoff.queue_position"
    NOBODY_AVAILABLE = "handoff.nobody_available"
    STILL_WAITING = "handoff.still_waiting"
    FALLBACK = "handoff.fallback"
    OPERATOR_JOINED = "handoff.operator_joined"
    RETURNED_TO_BOT = "handoff.returned_to_bot"
    ALREADY_WAITING = "handoff.already_waiting"
    WITHDRAWN = "handoff.withdrawn"


@dataclass(frozen=True, slots=True)
class HandoffSettings:
    claim_timeout_seconds: float = 300.0
    """Nobody claimed by then: the fallback is given (the person may keep waiting)."""
    notice_interval_seconds: float = 120.0
    """While waiting, a message at least this often: the wait is never silent."""


@dataclass(frozen=True, slots=True)
class Situation:
    """What the world is like now, as the runtime sees it."""

    now: float
    operators_on_duty: int
    open_now: bool
    queue_position: int = 1
    """This session's place in line (1 = next)."""

    @property
    def available(self) -> bool:
        return self.open_now and self.operators_on_duty > 0


@dataclass(frozen=True, slots=True)
class HandoffState:
    status: HandoffStatus = HandoffStatus.BOT
    ticket: str | None = None
    reason: str | None = None
    urgency: HandoffUrgency | None = None
    flow: str | None = None
    requested_at: float | None = None
    operator: str | None = None
    last_notice_at: float | None = None
    fallback_given: bool = False
    risks: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "status": self.status.value,
            "ticket": self.ticket,
            "reason": self.reason,
            "urgency": self.urgency.value if self.urgency else None,
            "flow": self.flow,
            "requested_at": self.requested_at,
            "operator": self.operator,
            "last_notice_at": self.last_notice_at,
            "fallback_given": self.fallback_given,
            "risks": list(self.risks),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> HandoffState:
        urgency = data.get("urgency")
        risks = data.get("risks") or []
        return cls(
            status=HandoffStatus(str(data.get("status", "bot"))),
            ticket=_optional_str(data.get("ticket")),
            reason=_optional_str(data.get("reason")),
            urgency=HandoffUrgency(str(urgency)) if urgency else None,
            flow=_optional_str(data.get("flow")),
            requested_at=_optional_float(data.get("requested_at")),
            operator=_optional_str(data.get("operator")),
            last_notice_at=_optional_float(data.get("last_notice_at")),
            fallback_given=bool(data.get("fallback_given", False)),
            risks=tuple(str(r) for r in risks) if isinstance(risks, list) else (),
        )


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def _optional_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


# --- events ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Asked:
    """The program asked for a person (a handoff node, the `human` safety category, ...)."""

    ticket: str
    reason: str
    urgency: HandoffUrgency
    flow: str


@dataclass(frozen=True, slots=True)
class Claimed:
    ticket: str
    operator: str
    """How the operator is shown to the person (a first name or a role, never an account id)."""


@dataclass(frozen=True, slots=True)
class Closed:
    """The operator closed; the bot resumes (where the operator chose, or where the person was)."""

    ticket: str


@dataclass(frozen=True, slots=True)
class Withdrawn:
    """The person chose to go back to the program instead of waiting."""


@dataclass(frozen=True, slots=True)
class Left:
    """The person left or erased the conversation."""


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed (the runtime ticks waiting sessions regularly)."""


@dataclass(frozen=True, slots=True)
class RiskSeen:
    """The safety layer flagged a message during the handoff."""

    category: str


HandoffEvent = Asked | Claimed | Closed | Withdrawn | Left | Tick | RiskSeen


# --- outputs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TellPerson:
    key: str
    params: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class OpenTicket:
    ticket: str


@dataclass(frozen=True, slots=True)
class UpdateTicket:
    ticket: str
    what: str
    """``claimed``, ``closed``, ``withdrawn``, ``left``, ``risk``."""


@dataclass(frozen=True, slots=True)
class GiveFallback:
    """Services for the person's country and language, and a short safety plan."""


@dataclass(frozen=True, slots=True)
class ResumeBot:
    """Hand the conversation back to the engine."""


@dataclass(frozen=True, slots=True)
class Duplicate:
    """The event changed nothing (late, repeated or for another ticket); log it as such."""

    event: str


HandoffOutput = TellPerson | OpenTicket | UpdateTicket | GiveFallback | ResumeBot | Duplicate


@dataclass(frozen=True, slots=True)
class Step:
    state: HandoffState
    outputs: tuple[HandoffOutput, ...]


def advance(
    state: HandoffState,
    event: HandoffEvent,
    situation: Situation,
    settings: HandoffSettings = HandoffSettings(),
) -> Step:
    """Apply one event."""
    status = state.status
    now = situation.now
    if isinstance(event, Asked):
        if status in (HandoffStatus.WAITING, HandoffStatus.WITH_OPERATOR):
            return Step(state, (TellPerson(HandoffKeys.ALREADY_WAITING), Duplicate("asked")))
        waiting = HandoffState(
            status=HandoffStatus.WAITING,
            ticket=event.ticket,
            reason=event.reason,
            urgency=event.urgency,
            flow=event.flow,
            requested_at=now,
            last_notice_at=now,
            risks=state.risks if status is HandoffStatus.BOT else (),
        )
        if situation.available:
            tell = TellPerson(HandoffKeys.AVAILABLE_NOW)
            if situation.queue_position > 1:
                tell = TellPerson(
                    HandoffKeys.QUEUE_POSITION, (("position", situation.queue_position),)
                )
            return Step(waiting, (OpenTicket(event.ticket), tell))
        fallback = replace(waiting, fallback_given=True)
        return Step(
            fallback,
            (OpenTicket(event.ticket), TellPerson(HandoffKeys.NOBODY_AVAILABLE), GiveFallback()),
        )
    if isinstance(event, Claimed):
        if status is not HandoffStatus.WAITING or event.ticket != state.ticket:
            return Step(state, (Duplicate("claimed"),))
        claimed = replace(state, status=HandoffStatus.WITH_OPERATOR, operator=event.operator)
        return Step(
            claimed,
            (UpdateTicket(event.ticket, "claimed"), TellPerson(HandoffKeys.OPERATOR_JOINED)),
        )
    if isinstance(event, Closed):
        if (
            status not in (HandoffStatus.WAITING, HandoffStatus.WITH_OPERATOR)
            or event.ticket != state.ticket
        ):
            return Step(state, (Duplicate("closed"),))
        return Step(
            HandoffState(risks=state.risks),
            (
                UpdateTicket(event.ticket, "closed"),
                TellPerson(HandoffKeys.RETURNED_TO_BOT),
                ResumeBot(),
            ),
        )
    if isinstance(event, Withdrawn):
        if status is not HandoffStatus.WAITING or state.ticket is None:
            return Step(state, (Duplicate("withdrawn"),))
        return Step(
            HandoffState(risks=state.risks),
            (
                UpdateTicket(state.ticket, "withdrawn"),
                TellPerson(HandoffKeys.WITHDRAWN),
                ResumeBot(),
            ),
        )
    if isinstance(event, Left):
        if (
            status not in (HandoffStatus.WAITING, HandoffStatus.WITH_OPERATOR)
            or state.ticket is None
        ):
            return Step(replace(state, status=HandoffStatus.ENDED), ())
        return Step(HandoffState(status=HandoffStatus.ENDED), (UpdateTicket(state.ticket, "left"),))
    if isinstance(event, RiskSeen):
        risks = state.risks if event.category in state.risks else (*state.risks, event.category)
        outputs: tuple[HandoffOutput, ...] = ()
        if (
            status in (HandoffStatus.WAITING, HandoffStatus.WITH_OPERATOR)
            and state.ticket is not None
        ):
            outputs = (UpdateTicket(state.ticket, "risk"),)
        return Step(replace(state, risks=risks), outputs)
    return _tick(state, situation, settings)


def _tick(state: HandoffState, situation: Situation, settings: HandoffSettings) -> Step:
    requested = state.requested_at
    if state.status is not HandoffStatus.WAITING or requested is None:
        return Step(state, ())
    now = situation.now
    outputs: list[HandoffOutput] = []
    if not state.fallback_given and now - requested >= settings.claim_timeout_seconds:
        state = replace(state, fallback_given=True, last_notice_at=now)
        return Step(state, (TellPerson(HandoffKeys.FALLBACK), GiveFallback()))
    last = state.last_notice_at if state.last_notice_at is not None else requested
    if now - last >= settings.notice_interval_seconds:
        if situation.available:
            outputs.append(
                TellPerson(HandoffKeys.QUEUE_POSITION, (("position", situation.queue_position),))
            )
        else:
            outputs.append(TellPerson(HandoffKeys.STILL_WAITING))
        state = replace(state, last_notice_at=now)
    return Step(state, tuple(outputs))
