"""Who takes an event: the pure decision, without asyncio, a store or a helpline."""

from __future__ import annotations

import pytest

from redirection_bot.dialogue.model import CommandName
from redirection_bot.engine import ChoicePicked, CommandGiven, Text, new_state
from redirection_bot.handoff.machine import HandoffChoice, HandoffState, HandoffStatus
from redirection_bot.program.load import LoadedProgram
from redirection_bot.safety.categories import RiskCategory, RiskHit
from redirection_bot.store.resume import new_phrase
from redirection_bot.turn.ingress import Problem
from redirection_bot.turn.routing import Route, route

WAITING = HandoffState(HandoffStatus.WAITING, ticket="t1")
WITH_OPERATOR = HandoffState(HandoffStatus.WITH_OPERATOR, ticket="t1", operator="Anna")
SUICIDE = (RiskHit(RiskCategory.SUICIDE),)


def test_ordinary_words_go_to_the_engine(shipped: LoadedProgram) -> None:
    state = new_state(shipped.program)
    assert route(shipped.program, state, None, Text("hello")).route is Route.ENGINE
    assert route(shipped.program, state, WAITING, Text("hello")).route is Route.ENGINE


def test_while_an_operator_has_the_chat_everything_but_leave_now_goes_to_them(
    shipped: LoadedProgram,
) -> None:
    program, state = shipped.program, new_state(shipped.program)
    for event in (Text("thank you"), Text("help"), CommandGiven(CommandName.BACK)):
        assert route(program, state, WITH_OPERATOR, event).route is Route.HANDOFF
    for leave in (Text("leave now"), CommandGiven(CommandName.STOP)):
        assert route(program, state, WITH_OPERATOR, leave).route is Route.ENGINE


def test_a_handoff_answer_goes_to_the_handoff_even_late(shipped: LoadedProgram) -> None:
    program, state = shipped.program, new_state(shipped.program)
    pressed = ChoicePicked(HandoffChoice.KEEP.choice_id)
    assert route(program, state, HandoffState(), pressed).route is Route.HANDOFF
    assert route(program, state, None, pressed).route is Route.ENGINE  # no helpline


@pytest.mark.parametrize("problem", list(Problem))
def test_a_message_that_cannot_be_taken_gets_a_notice_unless_it_raises_a_risk(
    shipped: LoadedProgram, problem: Problem
) -> None:
    program, state = shipped.program, new_state(shipped.program)
    plain = route(program, state, None, Text("x"), problem)
    assert (plain.route, plain.problem, plain.repeat) == (Route.NOTICE, problem, True)
    risky = route(program, state, None, Text("x", SUICIDE), problem)
    assert risky.route is Route.ENGINE  # safety before every limit
    with_operator = route(program, state, WITH_OPERATOR, Text("x"), problem)
    assert (with_operator.route, with_operator.repeat) == (Route.NOTICE, False)
    # A risk in it reaches the operator, with its risks, rather than a notice.
    risky_with_operator = route(program, state, WITH_OPERATOR, Text("x", SUICIDE), problem)
    assert risky_with_operator.route is Route.HANDOFF


def test_a_resume_phrase_is_a_restore_unless_it_raises_a_risk(shipped: LoadedProgram) -> None:
    program, state = shipped.program, new_state(shipped.program)
    phrase = " ".join(new_phrase("en"))
    routed = route(program, state, None, Text(phrase))
    assert routed.route is Route.RESTORE and routed.phrase is not None
    assert routed.phrase.checked
    assert route(program, state, None, Text(phrase, SUICIDE)).route is Route.ENGINE
