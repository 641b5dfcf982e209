"""The condition language: parsed once, evaluated without eval, type-checked against slots."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redirection_bot.diagnostics import Diagnostics, Span
from redirection_bot.dialogue.conditions import (
    ConditionChecker,
    ConditionSyntaxError,
    parse_condition,
)
from redirection_bot.dialogue.model import SlotDecl, SlotType

HERE = Span("flow.yaml", 3, 13)
SLOTS = {
    "importance": SlotDecl("importance", SlotType.INTEGER, HERE, minimum=0, maximum=10),
    "stage": SlotDecl("stage", SlotType.CHOICE, HERE, values=("stop", "worried", "curious")),
    "triggers": SlotDecl("triggers", SlotType.LIST, HERE, values=("alone", "night", "stress")),
    "diary": SlotDecl("diary", SlotType.BOOLEAN, HERE),
    "reasons": SlotDecl("reasons", SlotType.TEXT, HERE, max_length=100),
}


def holds(source: str, **slots: object) -> bool:
    return parse_condition(source, HERE).evaluate(slots)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("source", "slots", "expected"),
    [
        ("importance >= 7", {"importance": 8}, True),
        ("importance >= 7", {"importance": 6}, False),
        ("importance >= 7", {}, False),
        ("importance < 7", {}, False),
        ('stage == "stop"', {"stage": "stop"}, True),
        ('stage != "stop"', {}, True),
        ('stage in ["stop", "worried"]', {"stage": "worried"}, True),
        ('stage not in ["stop", "worried"]', {"stage": "curious"}, True),
        ('triggers contains "alone"', {"triggers": ("alone",)}, True),
        ('"night" in triggers', {"triggers": ("alone",)}, False),
        ("not diary", {"diary": False}, True),
        ("diary", {"diary": True}, True),
        ("reasons", {"reasons": "my children"}, True),
        ("reasons", {}, False),
        ('importance > 3 and (stage == "stop" or diary)', {"importance": 5, "diary": True}, True),
        ('importance > 3 and stage == "stop" or diary', {"importance": 1, "diary": True}, True),
        ("not importance >= 5 and diary", {"importance": 1, "diary": True}, True),
    ],
)
def test_evaluation(source: str, slots: dict[str, object], expected: bool) -> None:
    assert holds(source, **slots) is expected


@pytest.mark.parametrize(
    ("source", "offset", "message"),
    [
        ("importance = 3", 11, "use == to compare"),
        ("importance >=", 13, "stops too early"),
        ("(importance > 3", 0, "never closed"),
        ("importance > 3 diary", 15, "join conditions with `and` or `or`"),
        ("", 0, "empty"),
        ("stage in [stage]", 10, "quoted values or numbers only"),
        ("__import__('os')", 10, "unexpected"),
    ],
)
def test_syntax_errors_know_where(source: str, offset: int, message: str) -> None:
    with pytest.raises(ConditionSyntaxError) as caught:
        parse_condition(source, HERE)
    assert caught.value.offset == offset
    assert message in caught.value.message


def check(source: str) -> list[str]:
    diagnostics = Diagnostics()
    ConditionChecker(SLOTS, diagnostics).check(parse_condition(source, HERE))
    return [d.format() for d in diagnostics.items]


def test_type_errors_point_into_the_expression() -> None:
    assert check('stage == "stp"') == [
        'flow.yaml:3:22: error: "stp" is not one of the values of `stage` (did you mean `stop`?)'
    ]
    assert check("stage > 3") == [
        "flow.yaml:3:19: error: `>` compares numbers, and `stage` is a choice slot"
    ]
    assert check('importance == "high"') == [
        "flow.yaml:3:27: error: `importance` holds a number; compare it with a number"
    ]
    assert check('triggers contains "lonely"') == [
        'flow.yaml:3:31: error: "lonely" is not one of the values of `triggers` (did you mean `alone`?)'
    ]
    assert check("diary == 1") == [
        "flow.yaml:3:22: error: `diary` is yes/no; compare it with true or false"
    ]
    assert check("3") == [
        "flow.yaml:3:13: error: a value on its own is not a condition; compare it to a slot"
    ]


def test_well_typed_conditions_pass() -> None:
    assert check('importance >= 7 and stage in ["stop", "worried"] and not diary') == []
    assert check('triggers contains "alone" or reasons') == []


@given(st.text(max_size=60))
def test_parser_raises_only_its_own_error(source: str) -> None:
    try:
        condition = parse_condition(source, HERE)
    except ConditionSyntaxError as error:
        assert 0 <= error.offset <= len(source)
    else:
        condition.evaluate({"importance": 3, "stage": "stop", "triggers": ("alone",)})


@pytest.mark.parametrize(
    ("source", "answered"),
    [
        ("importance >= 0", {"importance"}),
        ("importance >= 7 and stage == 'stop'", {"importance", "stage"}),
        ("importance >= 7 or stage == 'stop'", set()),
        ("importance >= 7 or importance < 2", {"importance"}),
        ("stage != 'stop'", set()),
        ("not diary", set()),
        ("diary", {"diary"}),
        ("stage in ['stop', 'worried']", {"stage"}),
    ],
)
def test_a_branch_knows_which_slots_it_proves_answered(source: str, answered: set[str]) -> None:
    """The validator's "may not be answered yet" follows what a branch's condition proves: a
    summary behind `importance >= 0 and confidence >= 0` shows both without a warning."""
    assert parse_condition(source, HERE).answered_when_true() == answered

    # and what it proves holds: the condition is false wherever one of those slots is empty
    for name in answered:
        assert not holds(source, **{name: None})
