"""Safety pre-emption in the engine: a risk found by screening interrupts whatever the
conversation waits for, in the same turn, runs the category's safety flow, and its `return`
comes back to the very place the person was. The engine is locale-blind: the runtime screens
(tests/unit/safety, tests/unit/turn/test_runtime_safety.py) and passes the hits in the event.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from redirection_bot.authoring.testing import MINIMAL_PROGRAM, load, write_program
from redirection_bot.dialogue.model import CommandName, HandoffUrgency, Program
from redirection_bot.engine import (
    ActionRequest,
    ActionResult,
    ChoicePicked,
    CommandGiven,
    Event,
    HandoffRequest,
    Message,
    Place,
    SessionState,
    Start,
    Text,
    Turn,
    Waiting,
    new_state,
    step,
)
from redirection_bot.program.load import LoadedProgram
from redirection_bot.safety.categories import RiskCategory, RiskHit

AFTER_OTHERS = {RiskCategory.SUICIDE, RiskCategory.MINOR}
WITHOUT_CHECK_OR_AGAIN = RiskCategory.IDENTIFYING_INFO
ORDER = [
    RiskCategory.CHILD_AT_RISK,
    RiskCategory.SUICIDE,
    RiskCategory.ILLEGAL_REQUEST,
    RiskCategory.HUMAN,
    RiskCategory.MINOR,
    RiskCategory.DISTRESS,
    RiskCategory.IDENTIFYING_INFO,
]


def _route(category: RiskCategory) -> str:
    lines = f"  {category}:\n    flow: s_{category}\n"
    if category is not WITHOUT_CHECK_OR_AGAIN:
        lines += "    check: check\n    again: again\n"
    if category in AFTER_OTHERS:
        lines += "    after_others: true\n"
    return lines


PROGRAM = (
    MINIMAL_PROGRAM.replace(
        "slots:\n",
        """slots:
  importance: {type: integer, min: 0, max: 10}
  reasons: {type: text, max_length: 50}
  triggers:
    type: list
    values:
      alone: main.alone
      night: main.night
""",
    )
    + "actions:\n  action_plan_summary:\n    texts: plan\n"
    + "safety:\n"
    + "".join(_route(category) for category in ORDER)
)

MAIN = """\
flow: main
start: ask
nodes:
  ask:
    say: main.question
    input: mood
    next: importance
  importance:
    say: main.importance
    input: importance
    next: reasons
  reasons:
    say: main.reasons
    input: reasons
    next: triggers
  triggers:
    say: main.triggers
    input: triggers
    choices:
      - id: done
        label: main.done
        next: plan
  plan:
    action: action_plan_summary
    next: person
  person:
    say: main.person
    handoff:
      reason: asked
"""


def _safety_flow(category: RiskCategory) -> str:
    text = f"""\
flow: s_{category}
start: hello
nodes:
  hello:
    say: s.{category}_hello
    next: ask
  ask:
    say: s.{category}_ask
    choices:
      - id: back
        label: s.back
        next: done
  done:
    return: true
"""
    if category is not WITHOUT_CHECK_OR_AGAIN:
        text += f"""\
  check:
    say: s.{category}_check
    choices:
      - id: sure
        label: s.sure
        next: hello
      - id: not_really
        label: s.back
        next: done
  again:
    say: s.{category}_again
    next: ask
"""
    return text


FLOWS = {"main": MAIN} | {f"s_{c}": _safety_flow(c) for c in RiskCategory}
LOCALES = {
    "main.en.yml": """\
en:
  question: "How are you?"
  mood_good: "Good"
  mood_bad: "Bad"
  importance: "How important?"
  reasons: "Your reasons?"
  triggers: "Which triggers?"
  alone: "Alone"
  night: "Night"
  done: "Done"
  person: "A person will come."
""",
    "plan.en.yml": 'en:\n  title: "My plan"\n  empty: "Empty"\n',
    "s.en.yml": 'en:\n  back: "Back"\n  sure: "Yes"\n'
    + "".join(
        f'  {c}_{part}: "{c} {part}"\n'
        for c in RiskCategory
        for part in ("hello", "ask", "check", "again")
        if c is not WITHOUT_CHECK_OR_AGAIN or part in ("hello", "ask")
    ),
}
RULES = {
    # Screening rules are required for every locale of a program with a safety section; the
    # engine never reads them (the events below carry the hits).
    "dialogues/safety/en.yaml": "locale: en\ncategories:\n"
    + "".join(f"  {c}:\n    phrases: [{c}]\n" for c in RiskCategory)
}


@pytest.fixture
def program(tmp_path: Path) -> Program:
    return load(write_program(tmp_path, PROGRAM, FLOWS, LOCALES, RULES), tmp_path).program


def keys(turn: Turn) -> list[str]:
    return [o.key for o in turn.outputs if isinstance(o, Message)]


def risk(category: RiskCategory, certain: bool = True, text: str = "words") -> Text:
    return Text(text, (RiskHit(category, certain),))


def play(program: Program, *events: Event, state: SessionState | None = None) -> Turn:
    turn = step(program, state or new_state(program), Start()) if state is None else None
    current = turn.state if turn is not None else state
    assert current is not None
    for event in events:
        turn = step(program, current, event)
        current = turn.state
    assert turn is not None
    return turn


TO_REASONS: tuple[Event, ...] = (ChoicePicked("good"), Text("7"))
PLACES: dict[str, tuple[tuple[Event, ...], Place | None, str]] = {
    # name: (events to get there, where `return` comes back to, the text said on return)
    "a choice": ((), Place("main", "ask"), "main.question"),
    "a number input": ((ChoicePicked("good"),), Place("main", "importance"), "main.importance"),
    "a text input": (TO_REASONS, Place("main", "reasons"), "main.reasons"),
    "a checklist": (
        (*TO_REASONS, Text("kids"), ChoicePicked("alone")),
        Place("main", "triggers"),
        "main.triggers",
    ),
    "the language menu": (
        (ChoicePicked("good"), CommandGiven(CommandName.LANGUAGE)),
        Place("main", "importance"),
        "main.importance",
    ),
    "a wait for a person": (
        (*TO_REASONS, Text("kids"), ChoicePicked("done"), ActionResult("action_plan_summary")),
        Place("main", "person"),
        "main.person",
    ),
    "an ended conversation": ((CommandGiven(CommandName.STOP),), Place("main", "ask"), ""),
}


@pytest.mark.parametrize("category", list(RiskCategory))
@pytest.mark.parametrize("place", list(PLACES))
def test_every_category_pre_empts_every_kind_of_place_and_comes_back(
    program: Program, category: RiskCategory, place: str
) -> None:
    events, comes_back_to, said_on_return = PLACES[place]
    before = play(program, *events)
    turn = step(program, before.state, risk(category))
    assert keys(turn) == [f"s.{category}_hello", f"s.{category}_ask"]
    assert turn.state.at == Place(f"s_{category}", "ask")
    assert turn.state.stack[-1] == comes_back_to
    assert turn.state.slots == before.state.slots
    back = step(program, turn.state, ChoicePicked("back"))
    assert back.state.at == comes_back_to
    if said_on_return:
        assert said_on_return in keys(back)


@pytest.mark.parametrize("category", list(RiskCategory))
def test_a_first_message_with_a_risk_runs_the_flow_then_the_program_starts(
    program: Program, category: RiskCategory
) -> None:
    turn = step(program, new_state(program), risk(category))
    assert keys(turn) == [f"s.{category}_hello", f"s.{category}_ask"]
    back = step(program, turn.state, ChoicePicked("back"))
    assert keys(back) == ["main.question"]


def test_waiting_for_an_action_is_pre_empted_and_goes_home_afterwards(program: Program) -> None:
    turn = play(program, *TO_REASONS, Text("kids"), ChoicePicked("done"))
    at_action = replace(turn.state, waiting=Waiting.ACTION, at=Place("main", "plan"))
    at_action = replace(at_action, pending_action="action_plan_summary")
    preempted = step(program, at_action, risk(RiskCategory.SUICIDE))
    assert keys(preempted)[0] == "s.suicide_hello"
    assert not any(isinstance(o, ActionRequest) for o in preempted.outputs)
    assert step(program, preempted.state, ChoicePicked("back")).state.at == Place("main", "ask")


def test_text_that_pre_empts_is_never_stored_in_the_slot(program: Program) -> None:
    at_reasons = play(program, *TO_REASONS)
    turn = step(program, at_reasons.state, risk(RiskCategory.SUICIDE, text="a disclosure"))
    assert "reasons" not in turn.state.slots
    back = step(program, turn.state, ChoicePicked("back"))
    assert "reasons" not in back.state.slots
    answered = step(program, back.state, Text("for my family"))
    assert answered.state.slots["reasons"] == "for my family"


def test_an_uncertain_hit_starts_at_the_check_question(program: Program) -> None:
    turn = step(program, play(program).state, risk(RiskCategory.SUICIDE, certain=False))
    assert keys(turn) == ["s.suicide_check"]
    assert turn.state.at == Place("s_suicide", "check")
    sure = step(program, turn.state, ChoicePicked("sure"))
    assert keys(sure) == ["s.suicide_hello", "s.suicide_ask"]


def test_a_hit_inside_its_own_flow_goes_to_again_without_a_second_interruption(
    program: Program,
) -> None:
    inside = step(program, play(program).state, risk(RiskCategory.SUICIDE))
    again = step(program, inside.state, risk(RiskCategory.SUICIDE))
    assert keys(again) == ["s.suicide_again", "s.suicide_ask"]
    assert again.state.stack == inside.state.stack
    hedged = step(program, inside.state, risk(RiskCategory.SUICIDE, certain=False))
    assert keys(hedged) == ["s.suicide_again", "s.suicide_ask"]


def test_without_an_again_node_a_hit_inside_the_flow_is_an_answer(program: Program) -> None:
    inside = step(program, play(program).state, risk(RiskCategory.IDENTIFYING_INFO))
    answered = step(program, inside.state, risk(RiskCategory.IDENTIFYING_INFO, text="1"))
    assert answered.state.at == Place("main", "ask")


def test_two_risks_run_the_higher_first_then_a_lower_one_marked_after_others(
    program: Program,
) -> None:
    both = Text("x", (RiskHit(RiskCategory.MINOR), RiskHit(RiskCategory.SUICIDE)))
    turn = step(program, play(program).state, both)
    assert keys(turn) == ["s.suicide_hello", "s.suicide_ask"]
    then = step(program, turn.state, ChoicePicked("back"))
    assert keys(then) == ["s.minor_hello", "s.minor_ask"]
    last = step(program, then.state, ChoicePicked("back"))
    assert last.state.at == Place("main", "ask")


def test_a_lower_risk_not_marked_after_others_does_not_run_twice_over(program: Program) -> None:
    both = Text("x", (RiskHit(RiskCategory.DISTRESS), RiskHit(RiskCategory.HUMAN)))
    turn = step(program, play(program).state, both)
    assert keys(turn) == ["s.human_hello", "s.human_ask"]
    assert step(program, turn.state, ChoicePicked("back")).state.at == Place("main", "ask")


def test_certain_hits_come_before_uncertain_ones_which_are_checked_afterwards(
    program: Program,
) -> None:
    mixed = Text("x", (RiskHit(RiskCategory.HUMAN, certain=False), RiskHit(RiskCategory.DISTRESS)))
    turn = step(program, play(program).state, mixed)
    assert keys(turn) == ["s.distress_hello", "s.distress_ask"]
    then = step(program, turn.state, ChoicePicked("back"))
    assert keys(then) == ["s.human_check"]


def test_a_crisis_comes_first_asked_about_when_uncertain(program: Program) -> None:
    # "pasame un link de eso ..., o me quito del medio de una vez" (the forty-first retest):
    # the question about suicide before the refusal, which follows; here, before the flow
    # for young people.
    mixed = Text("x", (RiskHit(RiskCategory.SUICIDE, certain=False), RiskHit(RiskCategory.MINOR)))
    turn = step(program, play(program).state, mixed)
    assert keys(turn) == ["s.suicide_check"]
    then = step(program, turn.state, ChoicePicked("not_really"))
    assert keys(then) == ["s.minor_hello", "s.minor_ask"]
    # A certain crisis still comes before an uncertain one of higher rank.
    both = Text(
        "x", (RiskHit(RiskCategory.CHILD_AT_RISK, certain=False), RiskHit(RiskCategory.SUICIDE))
    )
    assert keys(step(program, play(program).state, both)) == ["s.suicide_hello", "s.suicide_ask"]


def test_a_queued_flow_raised_again_runs_now_and_not_a_second_time(program: Program) -> None:
    both = Text("x", (RiskHit(RiskCategory.SUICIDE), RiskHit(RiskCategory.MINOR)))
    in_suicide = step(program, play(program).state, both)
    minor_now = step(program, in_suicide.state, risk(RiskCategory.MINOR))
    assert keys(minor_now) == ["s.minor_hello", "s.minor_ask"]
    back_to_suicide = step(program, minor_now.state, ChoicePicked("back"))
    assert back_to_suicide.state.at == Place("s_suicide", "ask")
    home = step(program, back_to_suicide.state, ChoicePicked("back"))
    assert home.state.at == Place("main", "ask")
    assert keys(home) == ["main.question"]


def test_the_miss_count_starts_afresh_after_a_pre_emption(program: Program) -> None:
    missed = play(program, ChoicePicked("good"), Text("lots"), Text("plenty"))
    assert missed.state.misses == 2
    turn = step(program, missed.state, risk(RiskCategory.DISTRESS))
    assert turn.state.misses == 0


def test_categories_are_remembered_without_words_and_survive_json(program: Program) -> None:
    turn = play(program, risk(RiskCategory.SUICIDE, text="secret words"))
    turn = step(program, turn.state, risk(RiskCategory.SUICIDE))
    turn = step(program, turn.state, Text("x", (RiskHit(RiskCategory.MINOR),)))
    assert turn.state.risks == ("suicide", "minor")
    data = turn.state.to_json()
    assert "secret" not in str(data)
    assert SessionState.from_json(data) == turn.state
    older = {key: value for key, value in data.items() if key != "risks"}
    assert SessionState.from_json(older).risks == ()


def test_after_a_program_update_a_risk_still_pre_empts_then_goes_home(program: Program) -> None:
    turn = play(program, ChoicePicked("good"))
    old = replace(turn.state, program_version="0")
    moved = step(program, old, risk(RiskCategory.CHILD_AT_RISK))
    assert keys(moved) == [
        "engine.program_updated",
        "s.child_at_risk_hello",
        "s.child_at_risk_ask",
    ]
    assert step(program, moved.state, ChoicePicked("back")).state.at == Place("main", "ask")


def asking_for_a_person(tmp_path: Path, urgency: str) -> Program:
    """The test program, its `human` safety flow asking for a person at ``urgency``."""
    flows = dict(FLOWS)
    flows["s_human"] = flows["s_human"].replace(
        "  hello:\n    say: s.human_hello\n    next: ask\n",
        "  hello:\n    say: s.human_hello\n    handoff:\n      reason: asked\n"
        f"      urgency: {urgency}\n    next: ask\n",
    )
    return load(write_program(tmp_path, PROGRAM, flows, LOCALES, RULES), tmp_path).program


def test_a_handoff_request_inside_a_safety_flow_is_passed_on(tmp_path: Path) -> None:
    program = asking_for_a_person(tmp_path, "high")
    turn = step(program, play(program).state, risk(RiskCategory.HUMAN))
    assert [o for o in turn.outputs if isinstance(o, HandoffRequest)][0].flow == "s_human"


def test_after_something_was_taken_any_request_for_a_person_is_immediate(tmp_path: Path) -> None:
    """The twenty-sixth retest: pills taken, then "Talk to a person now" opened a "high"
    request. While ``harm_taken`` holds, every request for a person is for now."""
    program = asking_for_a_person(tmp_path, "normal")
    start = play(program).state
    for taken, urgency in ((False, HandoffUrgency.NORMAL), (True, HandoffUrgency.IMMEDIATE)):
        state = replace(start, slots={**start.slots, "harm_taken": taken})
        turn = step(program, state, risk(RiskCategory.HUMAN))
        (asked,) = [o for o in turn.outputs if isinstance(o, HandoffRequest)]
        assert asked.urgency is urgency


def test_without_a_safety_section_risks_change_nothing(tmp_path: Path) -> None:
    plain = PROGRAM.split("safety:\n")[0]
    program = load(write_program(tmp_path, plain, {"main": MAIN}, LOCALES), tmp_path).program
    at_reasons = play(program, *TO_REASONS)
    turn = step(program, at_reasons.state, risk(RiskCategory.SUICIDE, text="kept words"))
    assert turn.state.slots["reasons"] == "kept words"
    assert turn.state.risks == ("suicide",)


def test_an_answer_with_an_uncertain_risk_waits_for_the_check_and_no_stores_it(
    program: Program,
) -> None:
    at_reasons = play(program, *TO_REASONS).state
    checked = step(program, at_reasons, risk(RiskCategory.SUICIDE, certain=False, text="tired"))
    assert keys(checked) == ["s.suicide_check"]
    assert "reasons" not in checked.state.slots
    held = SessionState.from_json(checked.state.to_json())  # kept across turns, sealed
    answered = step(program, held, ChoicePicked("not_really"))
    assert answered.state.slots["reasons"] == "tired"
    assert keys(answered) == ["main.triggers"]
    assert answered.state.held is None


def test_an_answer_whose_risk_is_confirmed_is_never_stored(program: Program) -> None:
    at_reasons = play(program, *TO_REASONS).state
    checked = step(program, at_reasons, risk(RiskCategory.SUICIDE, certain=False, text="tired"))
    confirmed = step(program, checked.state, ChoicePicked("sure"))
    assert keys(confirmed)[0] == "s.suicide_hello"
    assert confirmed.state.held is None
    back = step(program, confirmed.state, ChoicePicked("back"))
    assert "reasons" not in back.state.slots
    assert keys(back) == ["main.reasons"]  # asked again: the words were not kept


def test_once_a_crisis_is_confirmed_a_later_uncertain_hit_is_not_checked_again(
    program: Program,
) -> None:
    """An outside tester's finding: after "i want to die", a side question and then "i have a
    rope" (an uncertain hit), the person was asked "are you having thoughts of ending your
    life?" all over again, instead of being taken back to the crisis steps."""
    clear = step(program, play(program).state, risk(RiskCategory.SUICIDE))
    back = step(program, clear.state, ChoicePicked("back"))
    assert back.state.at == Place("main", "ask")
    kept = SessionState.from_json(back.state.to_json())  # across turns, sealed
    later = step(program, kept, risk(RiskCategory.SUICIDE, certain=False))
    # Its first question, its opening words not said a second time.
    assert keys(later) == ["s.suicide_ask"]
    checked = step(program, play(program).state, risk(RiskCategory.SUICIDE, certain=False))
    said_yes = step(program, checked.state, ChoicePicked("sure"))
    back = step(program, said_yes.state, ChoicePicked("back"))
    later = step(program, back.state, risk(RiskCategory.SUICIDE, certain=False))
    assert keys(later) == ["s.suicide_ask"]


def test_after_no_to_the_check_or_for_a_person_the_check_is_asked_each_time(
    program: Program,
) -> None:
    checked = step(program, play(program).state, risk(RiskCategory.SUICIDE, certain=False))
    said_no = step(program, checked.state, ChoicePicked("not_really"))
    assert said_no.state.confirmed == ()
    again = step(program, said_no.state, risk(RiskCategory.SUICIDE, certain=False))
    assert keys(again) == ["s.suicide_check"]
    asked = step(program, play(program).state, risk(RiskCategory.HUMAN))
    back = step(program, asked.state, ChoicePicked("back"))
    later = step(program, back.state, risk(RiskCategory.HUMAN, certain=False))
    assert keys(later) == ["s.human_check"]


def test_an_answer_at_a_safety_question_that_raises_its_own_flow_does_not_queue_it_again(
    shipped: LoadedProgram,
) -> None:
    """ "yes, i took the pills" at the suicide flow's danger question is its "in danger"
    answer; the flow is not queued to run a second time once it returns."""
    program = shipped.program
    turn = step(program, new_state(program, "en"), Start(locale="en"))
    turn = step(program, turn.state, ChoicePicked("go_on"))
    certain = RiskHit(RiskCategory.SUICIDE)
    turn = step(program, turn.state, Text("i want to end my life tonight", risks=(certain,)))
    unsure = RiskHit(RiskCategory.SUICIDE, certain=False)
    turn = step(program, turn.state, Text("yes, i took the pills", risks=(unsure,)))
    assert [o.key for o in turn.outputs if isinstance(o, Message)][0] == "safety.suicide.emergency"
    assert all(place.flow != "safety_suicide" for place in turn.state.stack)


def _answered_at_program(tmp_path: Path) -> Program:
    """The `human` route's question `ask` may be answered by the message that starts it, by
    its `hurt` choice only (its `other` choice has phrase words too)."""
    route = "  human:\n    flow: s_human\n    check: check\n    again: again\n"
    program = PROGRAM.replace(route, route + "    answered_at: ask\n    answered_by: [hurt]\n")
    flows = dict(FLOWS)
    flows["s_human"] = (
        flows["s_human"].replace(
            "    choices:\n      - id: back\n",
            "    choices:\n"
            "      - id: hurt\n        label: s.hurt\n        words: s.hurt_words\n        next: hurt\n"
            "      - id: other\n        label: s.other\n        words: s.other_words\n"
            "        next: done\n"
            "      - id: back\n",
            1,
        )
        + "  hurt:\n    say: s.hurt_reply\n    next: done\n"
    )
    locales = dict(LOCALES)
    locales["s.en.yml"] += (
        '  hurt: "Someone hurts me"\n  hurt_words: "...hurts me..."\n  hurt_reply: "Not your fault"\n'
        '  other: "Someone else"\n  other_words: "...someone else..."\n'
    )
    return load(write_program(tmp_path, program, flows, locales, RULES), tmp_path).program


def test_a_message_that_names_an_answered_by_choice_takes_it_without_the_opening_words(
    tmp_path: Path,
) -> None:
    program = _answered_at_program(tmp_path)
    said = keys(play(program, risk(RiskCategory.HUMAN, text="my dad hurts me")))
    assert said[0] == "s.hurt_reply" and "s.human_hello" not in said, said
    assert said[-1] == "main.question"  # and back where the person was


def test_a_message_naming_another_choice_too_or_only_another_starts_the_flow_as_usual(
    tmp_path: Path,
) -> None:
    program = _answered_at_program(tmp_path)
    for text in ("someone else hurts me", "someone else", "i need a person"):
        said = keys(play(program, risk(RiskCategory.HUMAN, text=text)))
        assert said[:2] == ["s.human_hello", "s.human_ask"], (text, said)


def deferring_program(tmp_path: Path) -> Program:
    """The test program with distress deferring to suicide (``defers_to``)."""
    route = "  distress:\n    flow: s_distress\n    check: check\n    again: again\n"
    text = PROGRAM.replace(route, route + "    defers_to: [suicide]\n")
    return load(write_program(tmp_path, text, FLOWS, LOCALES, RULES), tmp_path).program


def test_a_category_that_defers_to_a_running_flow_brings_its_again_not_its_own_flow(
    tmp_path: Path,
) -> None:
    program = deferring_program(tmp_path)
    inside = play(program, risk(RiskCategory.SUICIDE))
    deferred = step(program, inside.state, risk(RiskCategory.DISTRESS))
    assert keys(deferred) == ["s.suicide_again", "s.suicide_ask"]
    # At the check question too ("i cant take this life anymore" answering "are you having
    # thoughts of ending your life?"); in any other flow the lower flow runs as before.
    checking = play(program, risk(RiskCategory.SUICIDE, certain=False))
    assert keys(step(program, checking.state, risk(RiskCategory.DISTRESS)))[0] == "s.suicide_again"
    human = play(program, risk(RiskCategory.HUMAN))
    assert keys(step(program, human.state, risk(RiskCategory.DISTRESS)))[0] == "s.distress_hello"


def test_a_category_raised_with_a_phrase_it_defers_to_waits_but_not_for_the_model_alone(
    tmp_path: Path,
) -> None:
    program = deferring_program(tmp_path)

    def both(learned: bool) -> list[str]:
        hits = (
            RiskHit(RiskCategory.DISTRESS, True),
            RiskHit(RiskCategory.SUICIDE, False, learned),
        )
        return keys(play(program, Text("i cant take this life anymore", hits)))

    assert both(learned=False)[0] == "s.suicide_check"  # a clinician's check phrase: asked first
    assert both(learned=True)[0] == "s.distress_hello"  # "heart attack" read by the model alone
