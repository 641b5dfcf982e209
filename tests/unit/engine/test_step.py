"""The engine, alone: pure steps from state and event to state and outputs.

Assertions name locale keys, so that no translation can break them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pytest

from redirection_bot.authoring.testing import MINIMAL_PROGRAM, load, write_program
from redirection_bot.dialogue import graph
from redirection_bot.dialogue.model import CommandName, Program
from redirection_bot.engine import (
    ActionRequest,
    ActionResult,
    ChoicePicked,
    CommandGiven,
    End,
    Event,
    HandoffEnded,
    HandoffRequest,
    Label,
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

PROGRAM = (
    MINIMAL_PROGRAM.replace(
        "slots:\n",
        """slots:
  importance:
    type: integer
    min: 0
    max: 10
  reasons:
    type: text
    max_length: 20
  triggers:
    type: list
    values:
      alone: main.alone
      night: main.night
  noted:
    type: boolean
""",
    )
    + "actions:\n  action_plan_summary:\n    texts: plan\n    sets: [noted]\n"
)

FLOWS = {
    "main": """\
flow: main
start: ask
nodes:
  ask:
    say: [main.hello, main.question]
    input: mood
    next: importance
  importance:
    say: main.importance
    input: importance
    reask: main.importance_reask
    next: branch
  branch:
    if:
      - when: importance >= 7
        next: reasons
    else:
      call: side
      next: reasons
  reasons:
    say: main.reasons
    input: reasons
    choices:
      - id: skip
        label: main.skip
        words: main.skip_words
        next: triggers
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
    next: bye
  bye:
    say: main.bye
    end: true
""",
    "side": """\
flow: side
start: note
nodes:
  note:
    say: side.note
    next: back
  back:
    return: true
""",
}

LOCALES = {
    "main.en.yml": """\
en:
  hello: "Hello."
  question: "How are you?"
  mood_good: "Good"
  mood_bad: "Bad"
  importance: "How important, 0 to 10?"
  importance_reask: "A number from 0 to 10, please."
  reasons: "Your reasons?"
  skip: "Skip"
  skip_words: "skip, pass, next"
  triggers: "Which triggers?"
  alone: "Being alone"
  night: "Late at night"
  done: "That's all"
  bye: "Bye, %{mood}, %{triggers}, %{reasons}."
""",
    "side.en.yml": 'en:\n  note: "A note."\n',
    "plan.en.yml": 'en:\n  title: "My plan"\n  empty: "Empty"\n  reasons: "Reasons: %{reasons}"\n',
}


@pytest.fixture
def loaded(tmp_path: Path) -> LoadedProgram:
    return load(write_program(tmp_path, PROGRAM, FLOWS, LOCALES), tmp_path)


@pytest.fixture
def program(loaded: LoadedProgram) -> Program:
    return loaded.program


def keys(turn: Turn) -> list[str]:
    return [o.key for o in turn.outputs if isinstance(o, Message)]


def last_choices(turn: Turn) -> list[str]:
    messages = [o for o in turn.outputs if isinstance(o, Message)]
    return [c.id for c in messages[-1].choices]


def play(program: Program, *events: Event) -> Turn:
    turn = step(program, new_state(program), Start())
    for event in events:
        turn = step(program, turn.state, event)
    return turn


def test_start_says_the_entry_and_waits(program: Program) -> None:
    turn = play(program)
    assert keys(turn) == ["main.hello", "main.question"]
    assert last_choices(turn) == ["good", "bad"]
    assert turn.state.waiting is Waiting.ANSWER
    assert turn.state.at == Place("main", "ask")
    assert turn.trace == ("main.ask",)


def test_choice_sets_the_slot_and_moves_on(program: Program) -> None:
    turn = play(program, ChoicePicked("good"))
    assert turn.state.slots["mood"] == "good"
    assert keys(turn) == ["main.importance"]
    assert last_choices(turn) == [str(n) for n in range(11)]


@pytest.mark.parametrize("typed", ["good", "GOOD!", "  Good ", "1"])
def test_typed_label_or_number_picks_the_choice(program: Program, typed: str) -> None:
    assert play(program, Text(typed)).state.slots["mood"] == "good"


def test_integer_input_reads_numbers_as_values_not_positions(program: Program) -> None:
    turn = play(program, ChoicePicked("good"), Text("8"))
    assert turn.state.slots["importance"] == 8
    assert keys(turn) == ["main.reasons"]


def test_invalid_input_gets_the_reask_and_keeps_the_place(program: Program) -> None:
    turn = play(program, ChoicePicked("good"), Text("eleven"))
    assert keys(turn) == ["main.importance_reask"]
    assert turn.state.at == Place("main", "importance")
    assert "importance" not in turn.state.slots
    assert play(program, ChoicePicked("good"), Text("11")).state.slots.get("importance") is None


def test_unmatched_text_gets_not_understood_with_the_choices(program: Program) -> None:
    turn = play(program, Text("purple"))
    assert keys(turn) == ["engine.not_understood"]
    assert last_choices(turn) == ["good", "bad"]
    assert turn.state.misses == 1


def test_after_repeated_misses_a_person_is_offered(program: Program) -> None:
    turn = play(program, Text("purple"), Text("green"), Text("blue"))
    assert keys(turn) == ["engine.not_understood", "engine.offer_person"]
    assert last_choices(turn) == ["good", "bad", "command:help"]
    helped = step(program, turn.state, ChoicePicked("command:help"))
    assert keys(helped) == ["helpdesk.offer", "main.hello", "main.question"]
    assert any(isinstance(o, HandoffRequest) and o.reason == "asked" for o in helped.outputs)


def test_the_flows_that_interrupt_are_worked_out_once_per_program(
    program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every miss past the third asks whether the person is in a flow that interrupts; the
    answer reads the whole program's edges (5 ms a turn of words the program did not
    understand, until 2026-12-06): worked out once per program."""
    worked_out: list[Program] = []
    reached = graph.flows_reached

    def counted(of: Program, flows: Iterable[str]) -> set[str]:
        worked_out.append(of)
        return reached(of, flows)

    monkeypatch.setattr(graph, "flows_reached", counted)
    graph.interrupting_flows.clear()
    turn = play(program, *(Text(typed) for typed in ("purple", "green", "blue", "red", "pink")))
    assert keys(turn) == ["engine.not_understood", "engine.offer_person"]
    assert worked_out == [program]


def test_an_answer_resets_the_miss_count(program: Program) -> None:
    assert play(program, Text("purple"), Text("good")).state.misses == 0


def test_call_runs_the_flow_and_returns(program: Program) -> None:
    turn = play(program, ChoicePicked("good"), Text("3"))
    assert keys(turn) == ["side.note", "main.reasons"]
    assert turn.state.stack == ()
    assert "side.back" in turn.trace


def test_text_input_is_kept_as_written_and_limited(program: Program) -> None:
    # The engine gets text already admitted (tests/unit/turn/test_ingress.py: invisible characters
    # are removed once, at the door); it keeps the words without the spaces around them.
    turn = play(program, ChoicePicked("good"), Text("9"), Text("  my family "))
    assert turn.state.slots["reasons"] == "my family"
    too_long = play(program, ChoicePicked("good"), Text("9"), Text("x" * 21))
    assert keys(too_long) == ["engine.invalid_input"]


def test_choice_words_match_typed_text(program: Program) -> None:
    turn = play(program, ChoicePicked("good"), Text("9"), Text("Pass"))
    assert "reasons" not in turn.state.slots
    assert keys(turn) == ["main.triggers"]


def test_checklist_marks_picked_items_and_a_second_pick_takes_one_off(program: Program) -> None:
    turn = play(program, ChoicePicked("good"), Text("9"), ChoicePicked("skip"))
    assert last_choices(turn) == ["alone", "night", "done"]
    turn = step(program, turn.state, ChoicePicked("night"))
    assert turn.state.slots["triggers"] == ("night",)
    assert last_choices(turn) == ["alone", "night", "done"]
    offered = turn.outputs[-1]
    assert isinstance(offered, Message)
    assert [c.picked for c in offered.choices] == [False, True, False]
    turn = step(program, turn.state, Text("being alone"))
    assert turn.state.slots["triggers"] == ("night", "alone")
    turn = step(program, turn.state, ChoicePicked("night"))
    assert turn.state.slots["triggers"] == ("alone",)


def test_action_is_requested_then_its_result_applied(program: Program) -> None:
    turn = play(
        program, ChoicePicked("good"), Text("9"), ChoicePicked("skip"), ChoicePicked("done")
    )
    assert turn.outputs[-1] == ActionRequest("action_plan_summary")
    assert turn.state.waiting is Waiting.ACTION
    result = ActionResult("action_plan_summary", (("noted", True),), (Message("plan.title"),))
    done = step(program, turn.state, result)
    assert keys(done) == ["plan.title", "main.bye"]
    assert done.state.slots["noted"] is True
    assert isinstance(done.outputs[-1], End)
    assert step(program, done.state, result).outputs == ()


def test_failed_action_is_admitted_and_the_conversation_goes_on(program: Program) -> None:
    turn = play(
        program, ChoicePicked("good"), Text("9"), ChoicePicked("skip"), ChoicePicked("done")
    )
    done = step(program, turn.state, ActionResult("action_plan_summary", failed=True))
    assert keys(done) == ["engine.action_failed", "main.bye"]


def test_late_or_repeated_action_results_change_nothing(program: Program) -> None:
    turn = play(program)
    again = step(program, turn.state, ActionResult("action_plan_summary"))
    assert again.outputs == ()
    assert again.state.at == turn.state.at


def test_messages_carry_slot_values_as_parameters(program: Program) -> None:
    turn = play(
        program,
        ChoicePicked("bad"),
        Text("9"),
        Text("my kids"),
        ChoicePicked("alone"),
        ChoicePicked("done"),
    )
    done = step(program, turn.state, ActionResult("action_plan_summary"))
    bye = [o for o in done.outputs if isinstance(o, Message) and o.key == "main.bye"][0]
    assert bye.params == {
        "mood": Label("main.mood_bad"),
        "triggers": (Label("main.alone"),),
        "reasons": "my kids",
    }


def test_back_returns_to_the_previous_question(program: Program) -> None:
    turn = play(program, ChoicePicked("good"), CommandGiven(CommandName.BACK))
    assert turn.state.at == Place("main", "ask")
    assert keys(turn) == ["main.hello", "main.question"]
    nothing = play(program, CommandGiven(CommandName.BACK))
    assert keys(nothing)[0] == "engine.cannot_go_back"


def test_back_into_a_called_flow_restores_its_return_point(program: Program) -> None:
    turn = play(program, ChoicePicked("good"), Text("3"), CommandGiven(CommandName.BACK))
    assert turn.state.at == Place("main", "importance")


def test_repeat_shows_the_question_again_without_side_effects(program: Program) -> None:
    before = play(program, ChoicePicked("good"))
    turn = step(program, before.state, CommandGiven(CommandName.REPEAT))
    assert keys(turn) == ["main.importance"]
    assert turn.state.slots == before.state.slots


def test_typed_command_words_work_anywhere(program: Program) -> None:
    turn = play(program, ChoicePicked("good"), Text("/repeat"))
    assert keys(turn) == ["main.importance"]


def test_restart_forgets_everything_but_the_language(program: Program) -> None:
    turn = play(program, ChoicePicked("good"), CommandGiven(CommandName.RESTART))
    assert keys(turn) == ["main.hello", "main.question"]
    assert turn.state.slots == {}
    assert turn.state.history == ()


def test_stop_ends_and_asks_for_erasure(program: Program) -> None:
    turn = play(program, ChoicePicked("good"), CommandGiven(CommandName.STOP))
    assert turn.outputs == (End(erase=True),)
    assert turn.state.slots == {}
    after = step(program, turn.state, Text("hello?"))
    assert keys(after) == ["engine.ended"]
    assert last_choices(after) == ["command:restart"]


def test_language_menu_lists_each_language_in_its_own_words(program: Program) -> None:
    turn = play(program, CommandGiven(CommandName.LANGUAGE))
    assert keys(turn) == ["engine.choose_language"]
    menu = [o for o in turn.outputs if isinstance(o, Message)][0]
    assert [(c.id, c.label) for c in menu.choices] == [("en", Label("language.name", "en"))]
    back = step(program, turn.state, ChoicePicked("en"))
    assert back.state.waiting is Waiting.ANSWER
    assert keys(back) == ["main.hello", "main.question"]


def test_help_calls_the_help_flow_and_comes_back(program: Program) -> None:
    turn = play(program, ChoicePicked("good"), CommandGiven(CommandName.HELP))
    assert keys(turn) == ["helpdesk.offer", "main.importance"]
    assert turn.state.at == Place("main", "importance")


def test_stale_choice_says_so_and_shows_where_we_are(program: Program) -> None:
    turn = play(program, ChoicePicked("good"), ChoicePicked("bad"))
    assert keys(turn) == ["engine.choice_unavailable", "main.importance"]


def test_handoff_ended_resumes_where_asked(program: Program) -> None:
    turn = play(program, ChoicePicked("good"))
    resumed = step(program, turn.state, HandoffEnded(Place("main", "reasons")))
    assert keys(resumed) == ["engine.handoff_ended", "main.reasons"]
    here = step(program, turn.state, HandoffEnded())
    assert keys(here) == ["engine.handoff_ended", "main.importance"]


def test_any_event_before_start_starts(program: Program) -> None:
    turn = step(program, new_state(program), Text("hi"))
    assert keys(turn) == ["main.hello", "main.question"]


def test_sessions_from_an_older_program_move_home_keeping_valid_slots(program: Program) -> None:
    turn = play(program, ChoicePicked("good"))
    old = replace(turn.state, program_version="0", slots={"mood": "good", "gone": "x"})
    moved = step(program, old, Text("8"))
    assert keys(moved)[0] == "engine.program_updated"
    assert moved.state.program_version == program.version
    assert moved.state.slots == {"mood": "good"}


def test_state_is_json_and_round_trips(program: Program) -> None:
    turn = play(program, ChoicePicked("good"), Text("3"), Text("kids"), ChoicePicked("alone"))
    data = json.loads(json.dumps(turn.state.to_json()))
    assert SessionState.from_json(data) == turn.state
    assert len(json.dumps(data)) < 1000


def test_the_engine_is_deterministic(program: Program) -> None:
    events: list[Event] = [
        Text("good"),
        Text("x"),
        Text("4"),
        Text("kids"),
        ChoicePicked("night"),
        CommandGiven(CommandName.BACK),
        ChoicePicked("done"),
    ]
    assert play(program, *events) == play(program, *events)


def test_after_repeated_misses_with_no_helpline_connected_help_is_offered_not_a_person(
    program: Program,
) -> None:
    """An outside tester's finding: "Would you like to talk to a person?" two messages after
    "nobody can join you here"."""
    state = replace(play(program).state, slots={"helpline_connected": False})
    for typed in ("purple", "green", "blue"):
        turn = step(program, state, Text(typed))
        state = turn.state
    assert keys(turn) == ["engine.not_understood", "engine.offer_help"]
    assert last_choices(turn)[-1] == "command:help"
