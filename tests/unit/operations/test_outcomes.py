"""Outcome measures over time: answers become bands, a return counts the change from the first
band, nothing without consent, and the export never shows a count from 1 to 9."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redirection_bot.authoring.testing import MINIMAL_PROGRAM
from redirection_bot.dialogue.model import Place, Program, SlotValue
from redirection_bot.engine import (
    ActionRequest,
    ActionResult,
    CameBack,
    ChoicePicked,
    Event,
    SessionState,
    Start,
    Text,
    Waiting,
    step,
)
from redirection_bot.operations.evaluation import CountRow, export_csv
from redirection_bot.operations.outcomes import (
    BANDS,
    CONSENT_SLOT,
    OUTCOME_MODULE,
    OUTCOMES_ACTION,
    WHO5_SLOTS,
    Measure,
    OutcomeCell,
    Recorded,
    export_outcomes_csv,
    hidden_cells,
    new_visit,
    outcome_cells,
    record,
    recorded_slots,
)
from redirection_bot.program.load import LoadedProgram, ProgramSources
from redirection_bot.safety.categories import RiskCategory, RiskHit
from tests.conftest import WriteProgram
from tests.helpers import REPOSITORY

TODAY = dt.date(2026, 12, 2)
LAST_QUARTER = "2026-09-30"


@pytest.mark.parametrize(
    ("measure", "slots", "band"),
    [
        (Measure.DAYS, {"outcome_days": 0}, "0"),
        (Measure.DAYS, {"outcome_days": 2}, "1-2"),
        (Measure.DAYS, {"outcome_days": 3}, "3-5"),
        (Measure.DAYS, {"outcome_days": 6}, "6-7"),
        (Measure.HOURS, {"outcome_hours": "one_to_five"}, "one_to_five"),
        (Measure.URGE, {"outcome_urge": 3}, "0-3"),
        (Measure.URGE, {"outcome_urge": 4}, "4-6"),
        (Measure.CONFIDENCE, {"outcome_confidence": 7}, "7-10"),
        (Measure.WELLBEING, dict.fromkeys(WHO5_SLOTS, "at_no_time"), "0-7"),
        # 5 + 2 + 2 + 2 + 1 = 12: still under 13, poor wellbeing on the WHO-5's own scoring
        (
            Measure.WELLBEING,
            {
                "who5_cheerful": "all_of_the_time",
                "who5_calm": "less_than_half",
                "who5_active": "less_than_half",
                "who5_rested": "less_than_half",
                "who5_interest": "some_of_the_time",
            },
            "8-12",
        ),
        (Measure.WELLBEING, dict.fromkeys(WHO5_SLOTS, "more_than_half"), "13-25"),
    ],
)
def test_answers_fall_in_their_bands(
    measure: Measure, slots: dict[str, SlotValue], band: str
) -> None:
    index = measure.band(slots)
    assert index is not None and measure.band_name(index) == band


def test_the_who5_is_scored_only_when_all_five_are_answered() -> None:
    four = dict.fromkeys(WHO5_SLOTS[:4], "all_of_the_time")
    assert Measure.WELLBEING.band(four) is None


def test_without_consent_nothing_is_counted_and_the_answers_are_cleared() -> None:
    recorded = record({"outcome_days": 3, "outcome_urge": 9}, TODAY)
    assert recorded.counts == ()
    assert ("outcome_days", None) in recorded.slot_sets
    assert all(value is None for _name, value in recorded.slot_sets)


def _after(slots: dict[str, SlotValue], recorded: Recorded) -> dict[str, SlotValue]:
    """The conversation's slots once the action's changes are applied."""
    changed = {**slots, **dict(recorded.slot_sets)}
    return {name: value for name, value in changed.items() if value is not None}


def test_a_first_answer_keeps_its_band_and_a_return_counts_the_change() -> None:
    first = record({CONSENT_SLOT: True, "outcome_days": 6, "outcome_urge": 2}, TODAY)
    assert set(first.counts) == {
        ("consent", "first:agreed"),
        ("days", "first:6-7"),
        ("urge", "first:0-3"),
    }
    kept = {
        name: value
        for name, value in _after({}, first).items()
        if name.startswith("outcome_first_")
    }
    assert kept == {"outcome_first_days": 3, "outcome_first_urge": 0}

    back = record({**kept, CONSENT_SLOT: True, "outcome_days": 1, "outcome_confidence": 8}, TODAY)
    assert set(back.counts) == {
        ("consent", "return:agreed"),
        ("days", "6-7->1-2"),
        ("confidence", "first:7-10"),
    }
    changed = dict(back.slot_sets)
    assert "outcome_first_days" not in changed  # the first band stays the first
    assert changed["outcome_first_confidence"] == 2
    assert changed["outcome_days"] is None and changed[CONSENT_SLOT] is None


def test_yes_and_no_are_counted_once_a_visit_as_first_or_return() -> None:
    no = record({CONSENT_SLOT: False}, TODAY)
    assert no.counts == (("consent", "first:declined"),)
    # going back to the question and saying no (or yes) again in the same visit: nothing more
    again = _after({}, no)
    assert record({**again, CONSENT_SLOT: False}, TODAY).counts == ()
    assert record({**again, CONSENT_SLOT: True}, TODAY).counts == ()
    returned = record({"outcome_first_days": 1, CONSENT_SLOT: False}, TODAY)
    assert returned.counts == (("consent", "return:declined"),)


def test_agreeing_twice_in_one_visit_counts_once() -> None:
    """Yes (counted as it is given), the answers, then back to the consent question: yes
    again and other answers change nothing in the counts, and keep the first bands."""
    slots = _after({CONSENT_SLOT: True}, agreed := record({CONSENT_SLOT: True}, TODAY))
    assert agreed.counts == (("consent", "first:agreed"),)
    answered = record({**slots, "outcome_days": 7}, TODAY)
    assert answered.counts == (("days", "first:6-7"),)
    slots = _after(slots, answered)
    again = record({**slots, CONSENT_SLOT: True}, TODAY)
    assert again.counts == ()
    slots = _after(slots, again)
    assert record({**slots, "outcome_days": 0, "outcome_urge": 5}, TODAY).counts == ()
    assert slots["outcome_first_days"] == 3


def test_a_copy_counts_one_change_a_quarter_however_often_it_is_opened() -> None:
    first = _after({}, record({CONSENT_SLOT: True, "outcome_days": 7}, TODAY))

    def visit(slots: dict[str, SlotValue], day: dt.date, days: int) -> Recorded:
        opened = _after(slots, new_visit())
        return record({**opened, CONSENT_SLOT: True, "outcome_days": days}, day)

    back = visit(first, TODAY, 0)
    assert ("days", "6-7->0") in back.counts
    later = _after(first, back)
    for day in (TODAY, TODAY + dt.timedelta(days=20)):  # same quarter: agreed, no change
        assert visit(later, day, 1).counts == (("consent", "return:agreed"),)
    next_quarter = visit(later, dt.date(2027, 1, 5), 1)
    assert ("days", "6-7->1-2") in next_quarter.counts


def test_a_new_visit_keeps_only_what_the_copy_brings() -> None:
    opened = new_visit()
    assert {name for name, _ in opened.slot_sets} == {
        CONSENT_SLOT,
        "outcome_asked",
        "outcome_answered",
    }
    assert all(value is None for _name, value in opened.slot_sets)


def test_the_program_declares_every_slot_the_action_sets(shipped: LoadedProgram) -> None:
    declared = shipped.program.actions["action_record_outcomes"].sets
    assert set(declared) == set(recorded_slots())
    for measure in Measure:
        slot = shipped.program.slots[measure.first_slot]
        assert slot.maximum == len(BANDS[measure]) - 1
    assert shipped.program.slots["outcome_hours"].values == (
        "none",
        "under_one",
        "one_to_five",
        "over_five",
    )


def rows(*cells: tuple[str, str, int]) -> list[CountRow]:
    return [CountRow(LAST_QUARTER, OUTCOME_MODULE, q, a, n) for q, a, n in cells]


def test_the_export_sums_by_ended_quarter_and_hides_small_cells() -> None:
    stored = [
        *rows(("days", "6-7->0", 12), ("days", "6-7->1-2", 3), ("days", "first:6-7", 30)),
        CountRow(TODAY.isoformat(), OUTCOME_MODULE, "days", "6-7->0", 50),  # running quarter
        CountRow(LAST_QUARTER, "motivation", "eval_helped", "a_lot", 40),  # evaluation
    ]
    out = io.StringIO()
    export_outcomes_csv(stored, out, TODAY)
    assert out.getvalue().splitlines() == [
        "quarter,measure,kind,first,now,count",
        "2026-Q3,days,change,6-7,0,<10",  # hidden too: with the total it would give the 3
        "2026-Q3,days,change,6-7,1-2,<10",
        "2026-Q3,days,first,6-7,,30",
    ]
    to_date = io.StringIO()
    export_outcomes_csv(stored, to_date, TODAY, completed_only=False)
    assert "2026-Q4,days,change,6-7,0,50" in to_date.getvalue()


def test_the_evaluation_export_leaves_outcome_counts_out() -> None:
    out = io.StringIO()
    assert export_csv(rows(("days", "first:0", 20)), out) == 0


cell_counts = st.lists(
    st.tuples(st.sampled_from(["days", "urge"]), st.integers(0, 3), st.integers(1, 40)),
    max_size=12,
    unique_by=lambda t: (t[0], t[1]),
)


@given(cell_counts)
def test_no_count_under_ten_is_shown_and_no_table_hides_one_cell_alone(
    drawn: list[tuple[str, int, int]],
) -> None:
    cells = sorted(OutcomeCell("2026-Q3", m, "change", "0", str(b), n) for m, b, n in drawn)
    hidden = hidden_cells(cells)
    for i, cell in enumerate(cells):
        assert cell.count >= 10 or i in hidden
    for measure in ("days", "urge"):
        table = [i for i, cell in enumerate(cells) if cell.measure == measure]
        assert len([i for i in table if i in hidden]) != 1 or len(table) == 1


def test_outcome_cells_ignore_other_counts() -> None:
    other = CountRow(LAST_QUARTER, "@partner", "x", "shown", 99)
    assert outcome_cells([other], TODAY) == []


# --- coming back: the program's return_entry ----------------------------------------------------


def _at_pause(shipped: LoadedProgram, **slots: SlotValue) -> SessionState:
    program = shipped.program
    state = step(program, SessionState(program.version, "en"), Start()).state
    return replace(
        state,
        waiting=Waiting.ANSWER,
        at=Place("menu", "pause"),
        stack=(),
        slots={**state.slots, **slots},
    )


def _step(program: Program, state: SessionState, event: Event) -> tuple[list[str], SessionState]:
    """One turn, the outcome action answered as a runtime with no counts would (nothing
    counted): the message keys said, and the state after."""
    keys: list[str] = []
    turn = step(program, state, event)
    while True:
        keys += [o.key for o in turn.outputs if not isinstance(o, ActionRequest)]
        if turn.state.waiting is not Waiting.ACTION:
            return keys, turn.state
        turn = step(program, turn.state, ActionResult(OUTCOMES_ACTION))


def test_coming_back_offers_the_questions_again_then_the_question_left(
    shipped: LoadedProgram,
) -> None:
    program = shipped.program
    keys, state = _step(program, _at_pause(shipped, outcome_first_days=3), CameBack())
    assert keys[:2] == ["outcomes.offer_again", "outcomes.what_is_kept"]
    keys, state = _step(program, state, ChoicePicked("no_thanks"))
    assert keys == ["outcomes.declined", "menu.paused"]
    assert state.at == Place("menu", "pause")


def test_coming_back_without_first_answers_asks_nothing(shipped: LoadedProgram) -> None:
    keys, _state = _step(shipped.program, _at_pause(shipped), CameBack())
    assert keys == ["menu.paused"]


def test_coming_back_inside_a_safety_flow_asks_its_question_first(
    shipped: LoadedProgram,
) -> None:
    at_check = replace(
        _at_pause(shipped, outcome_first_days=3),
        at=Place("safety_suicide", "danger"),
        stack=(Place("menu", "pause"),),
    )
    turn = step(shipped.program, at_check, CameBack())
    assert "outcomes.offer_again" not in [o.key for o in turn.outputs]
    assert turn.state.at == Place("safety_suicide", "danger")


def test_screening_still_runs_inside_the_questions(shipped: LoadedProgram) -> None:
    program = shipped.program
    _keys, state = _step(program, _at_pause(shipped, outcome_first_days=3), CameBack())
    _keys, state = _step(program, state, ChoicePicked("agree"))
    hit = RiskHit(RiskCategory.SUICIDE)
    turn = step(program, state, Text("no point going on", (hit,)))
    assert turn.outputs[0].key.startswith("safety.suicide")


@pytest.mark.parametrize(
    ("written", "said"),
    [
        (
            "mian",
            "the return entry goes to the flow `mian`, which does not exist (did you mean `main`?)",
        ),
        ("main.nowhere", "the return entry goes to `nowhere`, which is not a node of `main`"),
        ("main..x", "the return entry `main..x` should be a flow id or `flow.node`"),
        ("[main]", "the return entry should be a single value, but this is a list"),
    ],
)
def test_a_wrong_return_entry_is_reported_where_it_is_written(
    write: WriteProgram, problems: Callable[[ProgramSources], list[str]], written: str, said: str
) -> None:
    program = MINIMAL_PROGRAM.replace("entry: main\n", f"entry: main\nreturn_entry: {written}\n")
    assert problems(write(program=program)) == [f"dialogues/program.yaml:6:15: error: {said}"]
    fixed = program.replace(f"return_entry: {written}", "return_entry: main")
    assert problems(write(program=fixed)) == []


def test_the_evaluation_doc_shows_the_bands_as_the_export_writes_them() -> None:
    """docs/evaluation.md's "bands in the export" are the cells a partner finds in the CSV."""
    doc = (REPOSITORY / "docs" / "evaluation.md").read_text(encoding="utf-8")
    for measure in Measure:
        row = next(line for line in doc.splitlines() if line.startswith(f"| `{measure.value}` |"))
        shown = row.rstrip(" |").rsplit("|", 1)[1]
        written = [measure.band_name(i) for i in range(len(BANDS[measure]))]
        assert [cell.strip("` ") for cell in shown.split(",")] == written, row
