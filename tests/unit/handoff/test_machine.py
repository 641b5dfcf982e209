"""The handoff state machine: honest messages, a wait that is never silent, a fallback on
time, and duplicate or late events that change nothing."""

from __future__ import annotations

from redirection_bot.dialogue.model import HandoffUrgency
from redirection_bot.handoff.machine import (
    Asked,
    Claimed,
    Closed,
    Duplicate,
    GiveFallback,
    HandoffKeys,
    HandoffSettings,
    HandoffState,
    HandoffStatus,
    Left,
    OpenTicket,
    ResumeBot,
    RiskSeen,
    Situation,
    Step,
    TellPerson,
    Tick,
    UpdateTicket,
    Withdrawn,
    advance,
)

ON_DUTY = Situation(now=0.0, operators_on_duty=2, open_now=True)
NOBODY = Situation(now=0.0, operators_on_duty=0, open_now=True)
SETTINGS = HandoffSettings(claim_timeout_seconds=300, notice_interval_seconds=120)
ASK = Asked("t1", "suicide", HandoffUrgency.IMMEDIATE, "motivation")


def at(seconds: float, base: Situation = ON_DUTY, position: int = 1) -> Situation:
    return Situation(seconds, base.operators_on_duty, base.open_now, position)


def told(step: Step) -> list[str]:
    return [o.key for o in step.outputs if isinstance(o, TellPerson)]


def test_asking_when_someone_is_on_duty() -> None:
    step = advance(HandoffState(), ASK, ON_DUTY)
    assert step.state.status is HandoffStatus.WAITING
    assert step.outputs[0] == OpenTicket("t1")
    assert told(step) == [HandoffKeys.AVAILABLE_NOW]


def test_the_person_is_told_their_place_in_line() -> None:
    step = advance(HandoffState(), ASK, at(0, position=3))
    assert TellPerson(HandoffKeys.QUEUE_POSITION, (("position", 3),)) in step.outputs


def test_nobody_on_duty_gives_the_fallback_at_once() -> None:
    step = advance(HandoffState(), ASK, NOBODY)
    assert told(step) == [HandoffKeys.NOBODY_AVAILABLE]
    assert GiveFallback() in step.outputs
    assert step.state.status is HandoffStatus.WAITING  # they may still wait
    assert step.state.fallback_given


def test_closed_service_counts_as_nobody() -> None:
    closed = Situation(0.0, operators_on_duty=3, open_now=False)
    assert GiveFallback() in advance(HandoffState(), ASK, closed).outputs


def test_the_wait_is_never_silent_and_the_fallback_comes_on_time() -> None:
    state = advance(HandoffState(), ASK, ON_DUTY, SETTINGS).state
    quiet = advance(state, Tick(), at(60), SETTINGS)
    assert quiet.outputs == ()
    notice = advance(quiet.state, Tick(), at(125, position=2), SETTINGS)
    assert told(notice) == [HandoffKeys.QUEUE_POSITION]
    again = advance(notice.state, Tick(), at(250), SETTINGS)
    assert told(again) == [HandoffKeys.QUEUE_POSITION]
    fallback = advance(again.state, Tick(), at(300), SETTINGS)
    assert told(fallback) == [HandoffKeys.FALLBACK]
    assert GiveFallback() in fallback.outputs
    after = advance(fallback.state, Tick(), at(430), SETTINGS)
    assert GiveFallback() not in after.outputs and told(after)


def test_claim_then_close_returns_to_the_bot() -> None:
    state = advance(HandoffState(), ASK, ON_DUTY).state
    claimed = advance(state, Claimed("t1", "Anna"), at(10))
    assert claimed.state.status is HandoffStatus.WITH_OPERATOR
    assert told(claimed) == [HandoffKeys.OPERATOR_JOINED]
    assert UpdateTicket("t1", "claimed") in claimed.outputs
    closed = advance(claimed.state, Closed("t1"), at(100))
    assert closed.state.status is HandoffStatus.BOT
    assert ResumeBot() in closed.outputs


def test_duplicate_and_late_events_change_nothing() -> None:
    state = advance(HandoffState(), ASK, ON_DUTY).state
    claimed = advance(state, Claimed("t1", "Anna"), at(10)).state
    second = advance(claimed, Claimed("t1", "Ben"), at(11))
    assert second.state == claimed and second.outputs == (Duplicate("claimed"),)
    wrong = advance(claimed, Closed("t0"), at(12))
    assert wrong.state == claimed and wrong.outputs == (Duplicate("closed"),)
    closed = advance(claimed, Closed("t1"), at(13)).state
    again = advance(closed, Closed("t1"), at(14))
    assert again.state == closed and again.outputs == (Duplicate("closed"),)
    asked_twice = advance(state, ASK, at(15))
    assert asked_twice.state == state and told(asked_twice) == [HandoffKeys.ALREADY_WAITING]


def test_the_person_can_go_back_to_the_program() -> None:
    state = advance(HandoffState(), ASK, NOBODY).state
    step = advance(state, Withdrawn(), at(30))
    assert step.state.status is HandoffStatus.BOT
    assert UpdateTicket("t1", "withdrawn") in step.outputs and ResumeBot() in step.outputs


def test_leaving_tells_the_operators() -> None:
    state = advance(HandoffState(), ASK, ON_DUTY).state
    step = advance(state, Left(), at(30))
    assert step.state.status is HandoffStatus.ENDED
    assert step.outputs == (UpdateTicket("t1", "left"),)


def test_risks_seen_during_the_wait_reach_the_ticket() -> None:
    state = advance(HandoffState(), ASK, ON_DUTY).state
    step = advance(state, RiskSeen("child_at_risk"), at(5))
    assert step.state.risks == ("child_at_risk",)
    assert step.outputs == (UpdateTicket("t1", "risk"),)
    assert advance(step.state, RiskSeen("child_at_risk"), at(6)).state.risks == ("child_at_risk",)


def test_state_round_trips_through_json() -> None:
    state = advance(advance(HandoffState(), ASK, ON_DUTY).state, RiskSeen("suicide"), at(1)).state
    assert HandoffState.from_json(state.to_json()) == state
