"""The handoff state machine: pure, per session, idempotent.

    bot --asked--> waiting --claimed--> with_operator --closed--> bot
                     |  ^                   |   \\--transferred (to a colleague)--> with_operator
                     |  \\--transferred (back to the queue)--/
                     |--withdrawn (the person goes back)--> bot <--withdrawn (the person ends)--|
                     \\--left (the person left or erased) --> ended

``advance(state, event, situation) -> Step`` returns the new state and what to do: tell the
person something (a text key, perhaps with choices), open or update a ticket for the
operators, give the fallback, pass words on, hand the conversation back to the engine.
Time and the operators' availability come in as data, so every rule here can be tested
without a clock or a network. Duplicate and late events (a second claim, a close after a
close, a webhook delivered twice, a message from an operator who does not hold the
conversation) change nothing and are reported as such.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from redirection_bot.dialogue.model import HandoffReason, HandoffUrgency, Place
from redirection_bot.engine.outputs import ChoiceOption, Label, Message
from redirection_bot.safety.categories import RiskCategory

SEEN_KEPT = 64
"""Operator message keys remembered per conversation, so that a message delivered twice is
passed on once."""

_URGENCY_RANK = {
    HandoffUrgency.LOW: 0,
    HandoffUrgency.NORMAL: 1,
    HandoffUrgency.HIGH: 2,
    HandoffUrgency.IMMEDIATE: 3,
}


def urgency_rank(urgency: HandoffUrgency | None) -> int:
    """Higher is more urgent (None counts as normal)."""
    return _URGENCY_RANK[urgency or HandoffUrgency.NORMAL]


class HandoffStatus(enum.StrEnum):
    """Where a session's handoff is; the desk's tickets use the same words (a ticket is
    ``WAITING`` or ``WITH_OPERATOR`` while open, ``ENDED`` once the handoff is over)."""

    BOT = "bot"
    WAITING = "waiting"
    WITH_OPERATOR = "with_operator"
    ENDED = "ended"


class TicketChange(enum.StrEnum):
    """What happened to a ticket: ``UpdateTicket.what``, and ``TicketChanged.change`` on the
    wire to the operators."""

    CLAIMED = "claimed"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    ENDED = "ended"
    """The person ended the chat with the operator."""
    LEFT = "left"
    """The person left or erased the conversation."""
    EXPIRED = "expired"
    """The session expired while the ticket was open (said by the desk)."""
    RISK = "risk"
    ESCALATED = "escalated"
    TRANSFERRED = "transferred"
    REQUEUED = "requeued"
    FALLBACK = "fallback"
    SHARED = "shared"
    NOT_SHARED = "not_shared"

    @property
    def ends_ticket(self) -> bool:
        """The handoff is over: the desk drops the ticket from its queue."""
        return self in _ENDING_CHANGES


_ENDING_CHANGES = frozenset(
    {
        TicketChange.CLOSED,
        TicketChange.WITHDRAWN,
        TicketChange.ENDED,
        TicketChange.LEFT,
        TicketChange.EXPIRED,
    }
)


class Unchanged(enum.StrEnum):
    """Why an event changed nothing (``Duplicate.why``)."""

    LATE = "late"
    """Repeated, late, or for another ticket."""
    NOT_YOURS = "not_yours"
    """An operator acting on a conversation a colleague has."""
    NOT_CLAIMED = "not_claimed"
    """An operator writing to a person whose request nobody has claimed yet."""


class HandoffKeys:
    """Texts the handoff says to the person (``locales/handoff.<locale>.yml``)."""

    AVAILABLE_NOW = "handoff.available_now"
    QUEUE_POSITION = "handoff.queue_position"
    """``%{position}``: the person's place in line."""
    NOBODY_AVAILABLE = "handoff.nobody_available"
    NOBODY_AVAILABLE_AGAIN = "handoff.nobody_available_again"
    STILL_WAITING = "handoff.still_waiting"
    ALREADY_WAITING = "handoff.already_waiting"
    FALLBACK = "handoff.fallback"
    FALLBACK_CRISIS = "handoff.fallback_crisis"
    """The timed fallback said while the person is in a crisis's safety flow (``Tick.crisis``):
    that nobody has answered yet, without announcing services; the crisis's short plan and
    the person's question follow."""
    NO_TEAM = "handoff.no_team"
    """Said where no helpline is connected at all (the fallback follows at once)."""
    LINE_FULL = "handoff.line_full"
    """Said when the service's line is full (``Situation.queue_full``): the request is not
    queued, the services follow at once."""
    NO_TEAM_AGAIN = "handoff.no_team_again"
    """The same, said more briefly at a later request in the same conversation (the services
    follow, the short plan not again)."""
    SAFETY_PLAN = "handoff.safety_plan"
    KEEP_OR_GO = "handoff.keep_or_go"
    KEPT_WAITING = "handoff.kept_waiting"
    OPERATOR_JOINED = "handoff.operator_joined"
    """``%{operator}``: how the operator is named to the person (a first name or a role)."""
    ASK_TO_SHARE = "handoff.ask_to_share"
    SHARED = "handoff.shared"
    NOT_SHARED = "handoff.not_shared"
    WITH_OPERATOR = "handoff.with_operator"
    """Said when the person uses a command while a person has the conversation."""
    DANGER_WITH_OPERATOR = "handoff.danger_with_operator"
    """Said at once when the person writes of a crisis while a person has the conversation:
    the emergency number, not to wait for an answer (the twenty-fourth retest: "I have the
    rope ready" to an operator gone quiet got nothing for minutes)."""
    DANGER_WITH_OPERATOR_CHILD = "handoff.child_danger_with_operator"
    """The same, where what was written is a child in danger: "if a child is in danger right
    now", never "if you might be in danger" (the thirty-ninth retest)."""
    TRANSFERRED = "handoff.transferred"
    REQUEUED = "handoff.requeued"
    REQUEUED_NOBODY = "handoff.requeued_nobody"
    REQUEUED_NOBODY_AGAIN = "handoff.requeued_nobody_again"
    OPERATOR_LEFT = "handoff.operator_left"
    REQUEST_CLOSED = "handoff.request_closed"
    WITHDRAWN = "handoff.withdrawn"
    ENDED_BY_PERSON = "handoff.ended_by_person"
    FROM_OPERATOR = "handoff.from_operator"
    """How a channel labels an operator's words (``%{operator}``)."""

    @classmethod
    def all(cls) -> tuple[str, ...]:
        texts = tuple(value for name, value in vars(cls).items() if name.isupper())
        return texts + tuple(choice.label_key for choice in HandoffChoice)


class HandoffChoice(enum.StrEnum):
    """Answers the handoff offers the person (choice ids ``handoff:<value>``)."""

    SHARE = "share"
    NO_SHARE = "no_share"
    KEEP = "keep"
    BACK = "back"
    """Stop waiting and go back to the program."""
    END = "end"
    """End the chat with the operator and go back to the program."""

    @property
    def choice_id(self) -> str:
        return CHOICE_PREFIX + self.value

    @property
    def label_key(self) -> str:
        return f"handoff.choice_{self.value}"

    @property
    def option(self) -> ChoiceOption:
        """The answer as a quick reply, like the engine's."""
        return ChoiceOption(self.choice_id, Label(self.label_key))


CHOICE_PREFIX = "handoff:"


def choice_from_id(choice_id: str) -> HandoffChoice | None:
    """The handoff answer a choice id stands for (None: not one of the handoff's)."""
    if not choice_id.startswith(CHOICE_PREFIX):
        return None
    try:
        return HandoffChoice(choice_id.removeprefix(CHOICE_PREFIX))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class HandoffTimings:
    """How long the machine lets a person wait (from the ``handoff`` section of the settings,
    ``config.HandoffSettings``)."""

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
    queue_full: bool = False
    """The service's line holds as many requests as it takes (``max_waiting``): a new one is
    not queued."""

    @property
    def available(self) -> bool:
        return self.open_now and self.operators_on_duty > 0


@dataclass(frozen=True, slots=True)
class HandoffState:
    status: HandoffStatus = HandoffStatus.BOT
    ticket: str | None = None
    reason: HandoffReason | None = None
    urgency: HandoffUrgency | None = None
    flow: str | None = None
    service: str | None = None
    """The service whose operators the request went to."""
    requested_at: float | None = None
    operator: str | None = None
    """How the operator is named to the person."""
    operator_ref: str | None = None
    """The operator's id in their channel: only they may write to the person or close."""
    last_notice_at: float | None = None
    fallback_given: bool = False
    risks: tuple[str, ...] = ()
    shared: bool | None = None
    """Whether the person agreed that the operator reads the conversation so far (None: not
    asked yet)."""
    seen: tuple[str, ...] = ()
    """Keys of operator messages already passed on (the last ``SEEN_KEPT``)."""
    crises: tuple[str, ...] = ()
    """Crises (``PersonSaid.crises``) read in what the person wrote to the operator: when the
    handoff ends, the program asks about them first, whatever the operator answered ("Please
    call 112 now" and a close after "i have pills here" left the person with "Thank you for
    talking with them": the twenty-first retest)."""

    @property
    def active(self) -> bool:
        """A person is awaited or has the conversation."""
        return self.status in (HandoffStatus.WAITING, HandoffStatus.WITH_OPERATOR)

    def to_json(self) -> dict[str, object]:
        return {
            "status": self.status.value,
            "ticket": self.ticket,
            "reason": self.reason.value if self.reason else None,
            "urgency": self.urgency.value if self.urgency else None,
            "flow": self.flow,
            "service": self.service,
            "requested_at": self.requested_at,
            "operator": self.operator,
            "operator_ref": self.operator_ref,
            "last_notice_at": self.last_notice_at,
            "fallback_given": self.fallback_given,
            "risks": list(self.risks),
            "shared": self.shared,
            "seen": list(self.seen),
            "crises": list(self.crises),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> HandoffState:
        reason = data.get("reason")
        urgency = data.get("urgency")
        shared = data.get("shared")
        return cls(
            status=HandoffStatus(str(data.get("status", "bot"))),
            ticket=_optional_str(data.get("ticket")),
            reason=HandoffReason(str(reason)) if reason else None,
            urgency=HandoffUrgency(str(urgency)) if urgency else None,
            flow=_optional_str(data.get("flow")),
            service=_optional_str(data.get("service")),
            requested_at=_optional_float(data.get("requested_at")),
            operator=_optional_str(data.get("operator")),
            operator_ref=_optional_str(data.get("operator_ref")),
            last_notice_at=_optional_float(data.get("last_notice_at")),
            fallback_given=bool(data.get("fallback_given", False)),
            risks=_strings(data.get("risks")),
            shared=shared if isinstance(shared, bool) else None,
            seen=_strings(data.get("seen")),
            crises=_strings(data.get("crises")),
        )


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def _optional_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(item) for item in value) if isinstance(value, list) else ()


# --- events ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Asked:
    """The program asked for a person (a handoff node, the `human` safety category, ...)."""

    ticket: str
    reason: HandoffReason
    urgency: HandoffUrgency
    flow: str
    service: str | None = None


@dataclass(frozen=True, slots=True)
class Claimed:
    ticket: str
    operator: str
    """How the operator is shown to the person (a first name or a role, never an account id)."""
    operator_ref: str = ""
    ask_to_share: bool = False
    """Ask the person whether the operator may read the conversation so far."""


@dataclass(frozen=True, slots=True)
class Closed:
    """An operator closed; the bot resumes at ``resume_at`` or where the person was."""

    ticket: str
    operator_ref: str = ""
    resume_at: Place | None = None


@dataclass(frozen=True, slots=True)
class Transferred:
    """The operator passed the conversation to a colleague (``to``), or back to the queue."""

    ticket: str
    operator_ref: str
    to: str | None = None
    to_ref: str | None = None


@dataclass(frozen=True, slots=True)
class OperatorSaid:
    """The operator wrote to the person; ``key`` identifies the message (for duplicates)."""

    ticket: str
    operator_ref: str
    key: str


@dataclass(frozen=True, slots=True)
class PersonSaid:
    """The person wrote while an operator has the conversation; ``crises``: the crises
    screening read in it (``HandoffState.crises``)."""

    crises: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Shared:
    """The person answered whether the operator may read the conversation so far."""

    agreed: bool


@dataclass(frozen=True, slots=True)
class Withdrawn:
    """The person chose to go back to the program (instead of waiting, or ending the chat)."""


@dataclass(frozen=True, slots=True)
class KeepWaiting:
    """The person chose to keep waiting after the fallback."""


@dataclass(frozen=True, slots=True)
class Left:
    """The person left or erased the conversation."""


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed (the runtime ticks waiting sessions regularly).

    ``crisis``: the crisis whose safety flow the person is in at that moment (the conduct
    says which, ``conduct.crisis_in_view``; None: none). A timed fallback then keeps to that
    crisis and asks the person's question again (``AskAgain``), never the general services
    and plan over an open "are you having thoughts of ending your life?" (the nineteenth
    retest: its buttons replaced by "keep waiting", a self-help site for sexual interest in
    children among the services)."""

    crisis: HandoffReason | None = None


@dataclass(frozen=True, slots=True)
class RiskSeen:
    """The safety layer flagged a message during the handoff. ``urgency``: at least this for
    a request still waiting (a crisis read in what the person writes while they wait puts them
    higher in line; the nineteenth retest: a pending suicide check left the ticket
    ``normal``)."""

    category: str
    urgency: HandoffUrgency | None = None
    known: bool = False
    """Already among the conversation's risks, which the ticket carried when it opened: no
    "new risk" for the operator (the fifty-second retest: `change: risk` for suicide, told
    from the start)."""


HandoffEvent = (
    Asked
    | Claimed
    | Closed
    | Transferred
    | OperatorSaid
    | PersonSaid
    | Shared
    | Withdrawn
    | KeepWaiting
    | Left
    | Tick
    | RiskSeen
)


# --- outputs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TellPerson:
    key: str
    params: tuple[tuple[str, str | int], ...] = ()
    choices: tuple[HandoffChoice, ...] = ()

    @property
    def message(self) -> Message:
        """What to tell the person, as a message like the engine's (rendered with them)."""
        params = {name: str(value) for name, value in self.params}
        return Message(self.key, params, tuple(choice.option for choice in self.choices))


@dataclass(frozen=True, slots=True)
class OpenTicket:
    ticket: str


@dataclass(frozen=True, slots=True)
class UpdateTicket:
    ticket: str
    what: TicketChange


@dataclass(frozen=True, slots=True)
class GiveFallback:
    """Services for the person's country and language, and a short safety plan; for a
    ``crisis`` in hand, only that crisis's short plan (its question follows, ``AskAgain``)."""

    crisis: HandoffReason | None = None


@dataclass(frozen=True, slots=True)
class AskAgain:
    """Show the person again the question they are at (what the fallback was said over)."""


@dataclass(frozen=True, slots=True)
class ResumeBot:
    """Hand the conversation back to the engine (at ``resume_at``, or where it was), asking
    first about the ``crises`` the person wrote of to the operator (``HandoffState.crises``)."""

    resume_at: Place | None = None
    crises: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ForwardToPerson:
    """Pass the operator's words on to the person."""


@dataclass(frozen=True, slots=True)
class ForwardToOperator:
    """Pass the person's words on to the operator (and nowhere else)."""


@dataclass(frozen=True, slots=True)
class ShareConversation:
    """Show the operator the conversation so far (the person agreed)."""


@dataclass(frozen=True, slots=True)
class Duplicate:
    """The event changed nothing; log it as such, with why."""

    event: str
    why: Unchanged = Unchanged.LATE


HandoffOutput = (
    TellPerson
    | OpenTicket
    | UpdateTicket
    | GiveFallback
    | AskAgain
    | ResumeBot
    | ForwardToPerson
    | ForwardToOperator
    | ShareConversation
    | Duplicate
)


@dataclass(frozen=True, slots=True)
class Step:
    state: HandoffState
    outputs: tuple[HandoffOutput, ...]

    @property
    def changed(self) -> bool:
        return not any(isinstance(output, Duplicate) for output in self.outputs)


_END = (HandoffChoice.END,)


def advance(
    state: HandoffState,
    event: HandoffEvent,
    situation: Situation,
    timings: HandoffTimings = HandoffTimings(),
) -> Step:
    """Apply one event."""
    if isinstance(event, Asked):
        return _asked(state, event, situation)
    if isinstance(event, Claimed):
        return _claimed(state, event)
    if isinstance(event, Closed):
        return _closed(state, event)
    if isinstance(event, Transferred):
        return _transferred(state, event, situation)
    if isinstance(event, OperatorSaid):
        if state.status is HandoffStatus.WAITING and event.ticket == state.ticket:
            return _same(state, "operator_said", Unchanged.NOT_CLAIMED)
        if not _holds(state, event.ticket):
            return _same(state, "operator_said")
        if event.operator_ref != state.operator_ref:
            return _same(state, "operator_said", Unchanged.NOT_YOURS)
        if event.key in state.seen:
            return _same(state, "operator_said")
        seen = (*state.seen, event.key)[-SEEN_KEPT:]
        return Step(replace(state, seen=seen), (ForwardToPerson(),))
    if isinstance(event, PersonSaid):
        if state.status is not HandoffStatus.WITH_OPERATOR:
            return _same(state, "person_said")
        crises = tuple(dict.fromkeys((*state.crises, *event.crises)))
        return Step(replace(state, crises=crises), (ForwardToOperator(),))
    if isinstance(event, Shared):
        return _shared(state, event)
    if isinstance(event, Withdrawn):
        return _withdrawn(state)
    if isinstance(event, KeepWaiting):
        if state.status is not HandoffStatus.WAITING:
            return _same(state, "keep_waiting")
        kept = replace(state, last_notice_at=situation.now)
        return Step(kept, (TellPerson(HandoffKeys.KEPT_WAITING),))
    if isinstance(event, Left):
        if not state.active or state.ticket is None:
            return Step(replace(state, status=HandoffStatus.ENDED), ())
        return Step(
            HandoffState(status=HandoffStatus.ENDED),
            (UpdateTicket(state.ticket, TicketChange.LEFT),),
        )
    if isinstance(event, RiskSeen):
        return _risk_seen(state, event)
    return _tick(state, event, situation, timings)


def _same(state: HandoffState, event: str, why: Unchanged = Unchanged.LATE) -> Step:
    return Step(state, (Duplicate(event, why),))


def _holds(state: HandoffState, ticket: str) -> bool:
    return state.status is HandoffStatus.WITH_OPERATOR and ticket == state.ticket


def _asked(state: HandoffState, event: Asked, situation: Situation) -> Step:
    if state.status is HandoffStatus.WITH_OPERATOR:
        return _same(state, "asked")
    if state.status is HandoffStatus.WAITING and state.ticket is not None:
        told = TellPerson(HandoffKeys.ALREADY_WAITING)
        if urgency_rank(event.urgency) > urgency_rank(state.urgency):
            raised = replace(state, urgency=event.urgency, reason=event.reason)
            return Step(raised, (UpdateTicket(state.ticket, TicketChange.ESCALATED), told))
        return Step(state, (told, Duplicate("asked")))
    if situation.queue_full:
        return Step(state, (TellPerson(HandoffKeys.LINE_FULL), GiveFallback()))
    now = situation.now
    waiting = HandoffState(
        status=HandoffStatus.WAITING,
        ticket=event.ticket,
        reason=event.reason,
        urgency=event.urgency,
        flow=event.flow,
        service=event.service,
        requested_at=now,
        last_notice_at=now,
        risks=state.risks if state.status is HandoffStatus.BOT else (),
    )
    if situation.available:
        tell = TellPerson(HandoffKeys.AVAILABLE_NOW)
        if situation.queue_position > 1:
            tell = TellPerson(HandoffKeys.QUEUE_POSITION, (("position", situation.queue_position),))
        return Step(waiting, (OpenTicket(event.ticket), tell))
    return Step(
        replace(waiting, fallback_given=True),
        (OpenTicket(event.ticket), *_with_fallback(HandoffKeys.NOBODY_AVAILABLE)),
    )


def _claimed(state: HandoffState, event: Claimed) -> Step:
    if state.status is not HandoffStatus.WAITING or event.ticket != state.ticket:
        taken = state.status is HandoffStatus.WITH_OPERATOR and event.ticket == state.ticket
        mine = taken and event.operator_ref == state.operator_ref
        why = Unchanged.NOT_YOURS if taken and not mine else Unchanged.LATE
        return _same(state, "claimed", why)
    claimed = replace(
        state,
        status=HandoffStatus.WITH_OPERATOR,
        operator=event.operator,
        operator_ref=event.operator_ref,
    )
    joined = TellPerson(HandoffKeys.OPERATOR_JOINED, (("operator", event.operator),))
    if event.ask_to_share and state.shared is None:
        ask = TellPerson(
            HandoffKeys.ASK_TO_SHARE,
            choices=(HandoffChoice.SHARE, HandoffChoice.NO_SHARE, HandoffChoice.END),
        )
        return Step(claimed, (UpdateTicket(event.ticket, TicketChange.CLAIMED), joined, ask))
    joined = replace(joined, choices=_END)
    return Step(claimed, (UpdateTicket(event.ticket, TicketChange.CLAIMED), joined))


def _shared(state: HandoffState, event: Shared) -> Step:
    if state.status is not HandoffStatus.WITH_OPERATOR or state.shared is not None:
        return _same(state, "shared")
    assert state.ticket is not None
    answered = replace(state, shared=event.agreed)
    if event.agreed:
        return Step(
            answered,
            (
                ShareConversation(),
                UpdateTicket(state.ticket, TicketChange.SHARED),
                TellPerson(HandoffKeys.SHARED, choices=_END),
            ),
        )
    return Step(
        answered,
        (
            UpdateTicket(state.ticket, TicketChange.NOT_SHARED),
            TellPerson(HandoffKeys.NOT_SHARED, choices=_END),
        ),
    )


def _closed(state: HandoffState, event: Closed) -> Step:
    if not state.active or event.ticket != state.ticket:
        return _same(state, "closed")
    if state.status is HandoffStatus.WITH_OPERATOR and event.operator_ref != state.operator_ref:
        return _same(state, "closed", Unchanged.NOT_YOURS)
    told = (
        HandoffKeys.OPERATOR_LEFT
        if state.status is HandoffStatus.WITH_OPERATOR
        else HandoffKeys.REQUEST_CLOSED
    )
    return Step(
        HandoffState(risks=state.risks),
        (
            UpdateTicket(event.ticket, TicketChange.CLOSED),
            TellPerson(told),
            ResumeBot(event.resume_at, state.crises),
        ),
    )


_KEEP_OR_GO = (HandoffChoice.KEEP, HandoffChoice.BACK)


def _with_fallback(why: str, crisis: HandoffReason | None = None) -> tuple[HandoffOutput, ...]:
    """Why nobody joins now (``why``), the services that help now (for ``crisis``, that
    crisis's), then that the request stays open, with "Keep waiting" and "Stop waiting": said
    when nobody is on duty, when nobody claimed in time, when handed back with nobody else on
    duty."""
    return (
        TellPerson(why),
        GiveFallback(crisis),
        TellPerson(HandoffKeys.KEEP_OR_GO, choices=_KEEP_OR_GO),
    )


CRISIS_FIRST = (HandoffReason.SUICIDE, HandoffReason.CHILD_AT_RISK)
"""Of the crises a person wrote of to an operator, the one whose services come first."""


def _gravest(crises: tuple[str, ...]) -> HandoffReason | None:
    """The crisis the person wrote of to the operator whose help comes first, if any."""
    for reason in CRISIS_FIRST:
        if reason.value in crises:
            return reason
    return None


def _transferred(state: HandoffState, event: Transferred, situation: Situation) -> Step:
    if not _holds(state, event.ticket):
        return _same(state, "transferred")
    if event.operator_ref != state.operator_ref:
        return _same(state, "transferred", Unchanged.NOT_YOURS)
    if event.to is not None and event.to_ref is not None:
        if event.to_ref == state.operator_ref:
            return _same(state, "transferred")
        moved = replace(state, operator=event.to, operator_ref=event.to_ref)
        told = TellPerson(HandoffKeys.TRANSFERRED, (("operator", event.to),), _END)
        return Step(moved, (UpdateTicket(event.ticket, TicketChange.TRANSFERRED), told))
    now = situation.now
    queued = replace(
        state,
        status=HandoffStatus.WAITING,
        operator=None,
        operator_ref=None,
        requested_at=now,
        last_notice_at=now,
    )
    requeued = UpdateTicket(event.ticket, TicketChange.REQUEUED)
    if situation.available:
        return Step(queued, (requeued, TellPerson(HandoffKeys.REQUEUED, choices=_KEEP_OR_GO)))
    # Nobody else is on duty: say so first, then what helps now (never "another person will
    # join you" when nobody can); a fallback already given is pointed to, not given twice.
    crisis = _gravest(state.crises)
    if state.fallback_given and crisis is None:
        told = TellPerson(HandoffKeys.REQUEUED_NOBODY_AGAIN)
        return Step(
            queued, (requeued, told, TellPerson(HandoffKeys.KEEP_OR_GO, choices=_KEEP_OR_GO))
        )
    # A crisis written to the operator: its services and short plan (the forty-ninth retest:
    # "huomenna ei tarvii enää herätä" to the operator, handed back with nobody on duty, got
    # the general list and plan, no crisis line).
    nobody = replace(queued, fallback_given=True)
    return Step(nobody, (requeued, *_with_fallback(HandoffKeys.REQUEUED_NOBODY, crisis)))


def _withdrawn(state: HandoffState) -> Step:
    if not state.active or state.ticket is None:
        return _same(state, "withdrawn")
    with_operator = state.status is HandoffStatus.WITH_OPERATOR
    return Step(
        HandoffState(risks=state.risks),
        (
            UpdateTicket(
                state.ticket, TicketChange.ENDED if with_operator else TicketChange.WITHDRAWN
            ),
            TellPerson(HandoffKeys.ENDED_BY_PERSON if with_operator else HandoffKeys.WITHDRAWN),
            ResumeBot(crises=state.crises),
        ),
    )


def _risk_seen(state: HandoffState, event: RiskSeen) -> Step:
    # A crisis written to the person who has the conversation: the emergency number at once,
    # every time, whatever they answer and however long they take; with the way to end the
    # chat still offered (the twenty-fifth retest: the page had no buttons left after it).
    urgent = event.urgency is not None and state.status is HandoffStatus.WITH_OPERATOR
    notice = (
        HandoffKeys.DANGER_WITH_OPERATOR_CHILD
        if event.category == RiskCategory.CHILD_AT_RISK
        else HandoffKeys.DANGER_WITH_OPERATOR
    )
    told = (TellPerson(notice, choices=_END),) if urgent else ()
    if event.category in state.risks:
        return Step(state, told)
    seen = replace(state, risks=(*state.risks, event.category))
    if not state.active or state.ticket is None:
        return Step(seen, ())
    waiting = state.status is HandoffStatus.WAITING
    higher = urgency_rank(event.urgency) > urgency_rank(state.urgency)
    if waiting and higher:
        raised = replace(seen, urgency=event.urgency)
        return Step(raised, (UpdateTicket(state.ticket, TicketChange.ESCALATED),))
    if higher:
        # A crisis written to the operator raises the ticket's urgency too, for a transfer or
        # a return to the queue (the thirty-sixth retest: it stayed `normal`).
        seen = replace(seen, urgency=event.urgency)
    if event.known:
        change = (UpdateTicket(state.ticket, TicketChange.ESCALATED),) if higher else ()
        return Step(seen, (*change, *told))
    return Step(seen, (UpdateTicket(state.ticket, TicketChange.RISK), *told))


def tick_due(state: HandoffState, timings: HandoffTimings) -> float | None:
    """When a tick could next change ``state`` (``_tick``): its fallback's time or its next
    notice's, whichever comes first; None when no tick changes it (not waiting)."""
    requested = state.requested_at
    if state.status is not HandoffStatus.WAITING or requested is None or state.ticket is None:
        return None
    last = state.last_notice_at if state.last_notice_at is not None else requested
    due = last + timings.notice_interval_seconds
    if not state.fallback_given:
        due = min(due, requested + timings.claim_timeout_seconds)
    return due


def _tick(state: HandoffState, event: Tick, situation: Situation, timings: HandoffTimings) -> Step:
    requested, ticket = state.requested_at, state.ticket
    if state.status is not HandoffStatus.WAITING or requested is None or ticket is None:
        return Step(state, ())
    now = situation.now
    if not state.fallback_given and now - requested >= timings.claim_timeout_seconds:
        state = replace(state, fallback_given=True, last_notice_at=now)
        given = UpdateTicket(ticket, TicketChange.FALLBACK)
        if event.crisis is not None:
            told = TellPerson(HandoffKeys.FALLBACK_CRISIS)
            return Step(state, (given, told, GiveFallback(event.crisis), AskAgain()))
        return Step(state, (given, *_with_fallback(HandoffKeys.FALLBACK)))
    last = state.last_notice_at if state.last_notice_at is not None else requested
    if now - last < timings.notice_interval_seconds:
        return Step(state, ())
    if situation.available:
        tell = TellPerson(HandoffKeys.QUEUE_POSITION, (("position", situation.queue_position),))
    else:
        tell = TellPerson(HandoffKeys.STILL_WAITING)
    return Step(replace(state, last_notice_at=now), (tell,))
