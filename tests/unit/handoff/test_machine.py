"""The handoff state machine: honest messages, a wait that is never silent, a fallback on
time, and duplicate or late events that change nothing."""

from __future__ import annotations

from dataclasses import replace

from redirection_bot.dialogue.model import HandoffReason, HandoffUrgency, Place
from redirection_bot.handoff.machine import (
    Asked,
    Claimed,
    Closed,
    Duplicate,
    ForwardToOperator,
    ForwardToPerson,
    GiveFallback,
    HandoffChoice,
    HandoffKeys,
    HandoffState,
    HandoffStatus,
    HandoffTimings,
    KeepWaiting,
    Left,
    OpenTicket,
    OperatorSaid,
    PersonSaid,
    ResumeBot,
    RiskSeen,
    ShareConversation,
    Shared,
    Situation,
    Step,
    TellPerson,
    Tick,
    TicketChange,
    Transferred,
    Unchanged,
    UpdateTicket,
    Withdrawn,
    advance,
)

ON_DUTY = Situation(now=0.0, operators_on_duty=2, open_now=True)
NOBODY = Situation(now=0.0, operators_on_duty=0, open_now=True)
TIMINGS = HandoffTimings(claim_timeout_seconds=300, notice_interval_seconds=120)
ASK = Asked("t1", HandoffReason.SUICIDE, HandoffUrgency.IMMEDIATE, "motivation")


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
    assert told(step) == [HandoffKeys.NOBODY_AVAILABLE, HandoffKeys.KEEP_OR_GO]
    assert step.outputs.index(GiveFallback()) == 2  # after "nobody is available", before the choice
    keep_or_go = step.outputs[-1]
    assert isinstance(keep_or_go, TellPerson)
    assert keep_or_go.choices == (HandoffChoice.KEEP, HandoffChoice.BACK)
    assert step.state.status is HandoffStatus.WAITING  # they may still wait
    assert step.state.fallback_given


def test_closed_service_counts_as_nobody() -> None:
    closed = Situation(0.0, operators_on_duty=3, open_now=False)
    assert GiveFallback() in advance(HandoffState(), ASK, closed).outputs


def test_the_wait_is_never_silent_and_the_fallback_comes_on_time() -> None:
    state = advance(HandoffState(), ASK, ON_DUTY, TIMINGS).state
    quiet = advance(state, Tick(), at(60), TIMINGS)
    assert quiet.outputs == ()
    notice = advance(quiet.state, Tick(), at(125, position=2), TIMINGS)
    assert told(notice) == [HandoffKeys.QUEUE_POSITION]
    again = advance(notice.state, Tick(), at(250), TIMINGS)
    assert told(again) == [HandoffKeys.QUEUE_POSITION]
    fallback = advance(again.state, Tick(), at(300), TIMINGS)
    assert told(fallback) == [HandoffKeys.FALLBACK, HandoffKeys.KEEP_OR_GO]
    assert UpdateTicket("t1", TicketChange.FALLBACK) in fallback.outputs
    assert GiveFallback() in fallback.outputs
    after = advance(fallback.state, Tick(), at(430), TIMINGS)
    assert GiveFallback() not in after.outputs and told(after)


def test_claim_then_close_returns_to_the_bot() -> None:
    state = advance(HandoffState(), ASK, ON_DUTY).state
    claimed = advance(state, Claimed("t1", "Anna"), at(10))
    assert claimed.state.status is HandoffStatus.WITH_OPERATOR
    assert told(claimed) == [HandoffKeys.OPERATOR_JOINED]
    assert UpdateTicket("t1", TicketChange.CLAIMED) in claimed.outputs
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
    assert (
        UpdateTicket("t1", TicketChange.WITHDRAWN) in step.outputs and ResumeBot() in step.outputs
    )


def test_leaving_tells_the_operators() -> None:
    state = advance(HandoffState(), ASK, ON_DUTY).state
    step = advance(state, Left(), at(30))
    assert step.state.status is HandoffStatus.ENDED
    assert step.outputs == (UpdateTicket("t1", TicketChange.LEFT),)


def test_risks_seen_during_the_wait_reach_the_ticket() -> None:
    state = advance(HandoffState(), ASK, ON_DUTY).state
    step = advance(state, RiskSeen("child_at_risk"), at(5))
    assert step.state.risks == ("child_at_risk",)
    assert step.outputs == (UpdateTicket("t1", TicketChange.RISK),)
    assert advance(step.state, RiskSeen("child_at_risk"), at(6)).state.risks == ("child_at_risk",)


def test_a_crisis_written_to_the_operator_raises_the_tickets_urgency() -> None:
    """The thirty-sixth retest: "la verdad ando pensando en tirarme del puente" written to the
    operator left the ticket `normal` (what a transfer or a return to the queue reads)."""
    asked = Asked("t1", HandoffReason.ASKED, HandoffUrgency.NORMAL, "support")
    state = advance(HandoffState(), asked, ON_DUTY).state
    claimed = advance(state, Claimed("t1", "Anna", "@anna"), at(10)).state
    step = advance(claimed, RiskSeen("suicide", HandoffUrgency.IMMEDIATE), at(20))
    assert step.state.urgency is HandoffUrgency.IMMEDIATE
    assert UpdateTicket("t1", TicketChange.RISK) in step.outputs


def test_a_child_in_danger_written_to_the_operator_is_told_to_call_for_the_child() -> None:
    """The thirty-ninth retest: a child in danger written to the operator brought "if you
    might be in danger right now", worded for the person's own danger."""
    asked = Asked("t1", HandoffReason.ASKED, HandoffUrgency.NORMAL, "support")
    state = advance(HandoffState(), asked, ON_DUTY).state
    claimed = advance(state, Claimed("t1", "Anna", "@anna"), at(10)).state
    child = advance(claimed, RiskSeen("child_at_risk", HandoffUrgency.IMMEDIATE), at(20))
    told = [o.key for o in child.outputs if isinstance(o, TellPerson)]
    assert told == [HandoffKeys.DANGER_WITH_OPERATOR_CHILD]
    own = advance(claimed, RiskSeen("suicide", HandoffUrgency.IMMEDIATE), at(20))
    assert [o.key for o in own.outputs if isinstance(o, TellPerson)] == [
        HandoffKeys.DANGER_WITH_OPERATOR
    ]


def test_state_round_trips_through_json() -> None:
    state = advance(advance(HandoffState(), ASK, ON_DUTY).state, RiskSeen("suicide"), at(1)).state
    assert HandoffState.from_json(state.to_json()) == state


def claimed_by_anna(ask_to_share: bool = False) -> HandoffState:
    state = advance(HandoffState(), ASK, ON_DUTY).state
    return advance(state, Claimed("t1", "Anna", "@anna", ask_to_share), at(10)).state


def test_the_operator_is_named_and_the_person_can_always_end_the_chat() -> None:
    state = advance(HandoffState(), ASK, ON_DUTY).state
    step = advance(state, Claimed("t1", "Anna", "@anna"), at(10))
    joined = step.outputs[-1]
    assert isinstance(joined, TellPerson) and joined.key == HandoffKeys.OPERATOR_JOINED
    assert joined.params == (("operator", "Anna"),)
    assert joined.choices == (HandoffChoice.END,)
    assert step.state.operator_ref == "@anna"


def test_the_conversation_so_far_is_shared_only_when_the_person_agrees() -> None:
    state = advance(HandoffState(), ASK, ON_DUTY).state
    step = advance(state, Claimed("t1", "Anna", "@anna", ask_to_share=True), at(10))
    assert told(step) == [HandoffKeys.OPERATOR_JOINED, HandoffKeys.ASK_TO_SHARE]
    assert ShareConversation() not in step.outputs
    declined = advance(step.state, Shared(agreed=False), at(11))
    assert ShareConversation() not in declined.outputs
    assert UpdateTicket("t1", TicketChange.NOT_SHARED) in declined.outputs
    assert declined.state.shared is False
    # Asked once: a later "yes" (an old button) changes nothing.
    late = advance(declined.state, Shared(agreed=True), at(12))
    assert late.outputs == (Duplicate("shared"),)
    agreed = advance(step.state, Shared(agreed=True), at(11))
    assert agreed.outputs[0] == ShareConversation()
    assert told(agreed) == [HandoffKeys.SHARED]


def test_only_the_operator_who_claimed_reaches_the_person_and_each_message_once() -> None:
    state = claimed_by_anna()
    first = advance(state, OperatorSaid("t1", "@anna", "m1"), at(20))
    assert first.outputs == (ForwardToPerson(),)
    again = advance(first.state, OperatorSaid("t1", "@anna", "m1"), at(21))
    assert again.outputs == (Duplicate("operator_said"),)
    colleague = advance(first.state, OperatorSaid("t1", "@ben", "m2"), at(22))
    assert colleague.outputs == (Duplicate("operator_said", Unchanged.NOT_YOURS),)
    other_ticket = advance(first.state, OperatorSaid("t0", "@anna", "m3"), at(23))
    assert other_ticket.outputs == (Duplicate("operator_said"),)
    waiting = advance(HandoffState(), ASK, ON_DUTY).state
    assert advance(waiting, OperatorSaid("t1", "@anna", "m4"), at(24)).outputs == (
        Duplicate("operator_said", Unchanged.NOT_CLAIMED),  # nobody has claimed it: not sent
    )


def test_the_persons_words_go_to_the_operator_only_while_they_have_the_conversation() -> None:
    assert advance(claimed_by_anna(), PersonSaid(), at(30)).outputs == (ForwardToOperator(),)
    waiting = advance(HandoffState(), ASK, ON_DUTY).state
    assert advance(waiting, PersonSaid(), at(30)).outputs == (Duplicate("person_said"),)


def test_a_colleague_cannot_close_but_the_operator_can_return_to_a_chosen_place() -> None:
    state = claimed_by_anna()
    assert advance(state, Closed("t1", "@ben"), at(40)).outputs == (
        Duplicate("closed", Unchanged.NOT_YOURS),
    )
    place = Place("coping", "intro")
    closed = advance(state, Closed("t1", "@anna", place), at(41))
    assert closed.state.status is HandoffStatus.BOT
    assert told(closed) == [HandoffKeys.OPERATOR_LEFT]
    assert closed.outputs[-1] == ResumeBot(place)


def test_transfer_to_a_colleague_or_back_to_the_queue() -> None:
    state = claimed_by_anna()
    moved = advance(state, Transferred("t1", "@anna", "Ben", "@ben"), at(50))
    assert moved.state.operator_ref == "@ben" and moved.state.operator == "Ben"
    assert UpdateTicket("t1", TicketChange.TRANSFERRED) in moved.outputs
    assert told(moved) == [HandoffKeys.TRANSFERRED]
    # Anna no longer holds it: her messages and her close are refused.
    assert advance(moved.state, OperatorSaid("t1", "@anna", "m9"), at(51)).outputs == (
        Duplicate("operator_said", Unchanged.NOT_YOURS),
    )
    queued = advance(moved.state, Transferred("t1", "@ben"), at(60))
    assert queued.state.status is HandoffStatus.WAITING and queued.state.operator is None
    assert queued.state.requested_at == 60  # the claim time runs again
    assert told(queued) == [HandoffKeys.REQUEUED]
    reclaimed = advance(queued.state, Claimed("t1", "Cleo", "@cleo"), at(61))
    assert reclaimed.state.status is HandoffStatus.WITH_OPERATOR


def test_handed_back_with_nobody_else_on_duty_says_so_and_gives_the_services() -> None:
    # "Another person will join you" would be untrue: nobody is left on duty.
    queued = advance(claimed_by_anna(), Transferred("t1", "@anna"), NOBODY)
    assert queued.state.status is HandoffStatus.WAITING
    assert told(queued) == [HandoffKeys.REQUEUED_NOBODY, HandoffKeys.KEEP_OR_GO]
    assert GiveFallback() in queued.outputs and queued.state.fallback_given
    # Claimed again and handed back again: the services are pointed to, not listed twice.
    again = advance(queued.state, Claimed("t1", "Ben", "@ben"), at(70)).state
    twice = advance(again, Transferred("t1", "@ben"), NOBODY)
    assert told(twice) == [HandoffKeys.REQUEUED_NOBODY_AGAIN, HandoffKeys.KEEP_OR_GO]
    assert GiveFallback() not in twice.outputs


def test_handed_back_with_nobody_on_duty_after_a_crisis_told_gives_that_crisis_help() -> None:
    # The forty-ninth retest: "huomenna ei tarvii enää herätä" written to the operator, then
    # handed back with nobody on duty: the general list and plan, no crisis line.
    said = advance(claimed_by_anna(), PersonSaid(crises=("child_at_risk", "suicide")), at(30))
    queued = advance(said.state, Transferred("t1", "@anna"), NOBODY)
    assert told(queued) == [HandoffKeys.REQUEUED_NOBODY, HandoffKeys.KEEP_OR_GO]
    assert GiveFallback(HandoffReason.SUICIDE) in queued.outputs
    # Given already as the general list: the crisis's help is still given.
    again = replace(said.state, fallback_given=True)
    assert (
        GiveFallback(HandoffReason.SUICIDE)
        in advance(again, Transferred("t1", "@anna"), NOBODY).outputs
    )


def test_a_more_urgent_request_while_waiting_raises_the_ticket() -> None:
    state = advance(
        HandoffState(), Asked("t1", HandoffReason.ASKED, HandoffUrgency.NORMAL, "support"), ON_DUTY
    )
    urgent = advance(state.state, ASK, at(5))
    assert urgent.state.urgency is HandoffUrgency.IMMEDIATE and urgent.state.ticket == "t1"
    assert UpdateTicket("t1", TicketChange.ESCALATED) in urgent.outputs
    calmer = advance(
        urgent.state, Asked("t2", HandoffReason.ASKED, HandoffUrgency.NORMAL, "x"), at(6)
    )
    assert calmer.state == urgent.state and Duplicate("asked") in calmer.outputs


def test_the_person_can_end_the_chat_with_the_operator() -> None:
    step = advance(claimed_by_anna(), Withdrawn(), at(70))
    assert step.state.status is HandoffStatus.BOT
    assert UpdateTicket("t1", TicketChange.ENDED) in step.outputs
    assert told(step) == [HandoffKeys.ENDED_BY_PERSON] and ResumeBot() in step.outputs
    assert advance(step.state, Withdrawn(), at(71)).outputs == (Duplicate("withdrawn"),)


def test_keeping_waiting_resets_the_quiet_time() -> None:
    state = advance(HandoffState(), ASK, NOBODY).state
    kept = advance(state, KeepWaiting(), at(100, NOBODY))
    assert told(kept) == [HandoffKeys.KEPT_WAITING] and kept.state.last_notice_at == 100
    assert advance(kept.state, Tick(), at(150, NOBODY), TIMINGS).outputs == ()
    assert advance(claimed_by_anna(), KeepWaiting(), at(1)).outputs == (Duplicate("keep_waiting"),)


def test_every_key_and_choice_label_is_listed() -> None:
    keys = HandoffKeys.all()
    assert "handoff.choice_end" in keys and HandoffKeys.SAFETY_PLAN in keys
    assert len(keys) == len(set(keys))


def test_a_child_in_danger_written_while_waiting_is_immediate_as_the_flows_own_request() -> None:
    """The thirty-ninth retest: a child at risk written to the operator's chat reached only
    `high`, where the child-at-risk flow's own request is `immediate`."""
    from redirection_bot.engine.state import SessionState
    from redirection_bot.handoff.conduct import risk_seen

    state = SessionState(program_version="1", locale="en")
    assert risk_seen("child_at_risk", state).urgency is HandoffUrgency.IMMEDIATE
    assert risk_seen("suicide", state).urgency is HandoffUrgency.HIGH
    assert risk_seen("minor", state).urgency is None
