"""The program file's `safety` section and what the validator says about it, and `set` on a
list slot (the safety flows choose which services to list)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from redirection_bot.program.load import ProgramSources
from tests.conftest import WriteProgram
from tests.unit.engine.test_preemption import FLOWS, LOCALES, PROGRAM, RULES

Problems = Callable[[ProgramSources], list[str]]


def safety_problems(
    write: WriteProgram, problems: Problems, program: str, **files: object
) -> list[str]:
    flows = files.pop("flows", FLOWS)
    extra = files.pop("extra_files", RULES)
    return problems(write(program=program, flows=flows, locales=LOCALES, extra_files=extra))


def test_a_complete_safety_section_is_clean(write: WriteProgram, problems: Problems) -> None:
    assert safety_problems(write, problems, PROGRAM) == []


def test_every_category_needs_a_flow(write: WriteProgram, problems: Problems) -> None:
    start = PROGRAM.index("  distress:\n")
    program = PROGRAM[:start] + PROGRAM[PROGRAM.index("  identifying_info:\n") :]
    flows = {name: text for name, text in FLOWS.items() if name != "s_distress"}
    found = safety_problems(write, problems, program, flows=flows)
    assert [line for line in found if "error" in line] == [
        "dialogues/program.yaml:30:1: error: every risk category needs a safety flow;"
        " missing: `distress`"
    ]


def test_an_unknown_category_gets_a_did_you_mean(write: WriteProgram, problems: Problems) -> None:
    program = PROGRAM.replace("  human:\n", "  humna:\n")
    found = "\n".join(safety_problems(write, problems, program))
    assert "`humna` is not a risk category (did you mean `human`?)" in found


def test_a_safety_flow_and_its_nodes_must_exist(write: WriteProgram, problems: Problems) -> None:
    program = PROGRAM.replace("flow: s_minor\n    check: check", "flow: s_mnior\n    check: chek")
    program = program.replace("flow: s_human\n    check: check", "flow: s_human\n    check: chek")
    found = "\n".join(safety_problems(write, problems, program))
    assert "is `s_mnior`, which does not exist (did you mean `s_minor`?)" in found
    assert "`check: chek` is not a node of `s_human` (did you mean `check`?)" in found


def test_a_safety_flow_without_a_way_back_is_a_warning(
    write: WriteProgram, problems: Problems
) -> None:
    flows = dict(FLOWS)
    flows["s_minor"] = flows["s_minor"].replace(
        "  done:\n    return: true\n", "  done:\n    say: s.back\n    end: true\n"
    )
    found = safety_problems(write, problems, PROGRAM, flows=flows)
    assert found == [
        "dialogues/flows/s_minor.yaml:1:1: warning: the safety flow `s_minor` has no `return`:"
        " it cannot offer to go back to where the person was"
    ]


def test_screening_rules_are_validated_with_the_program(
    write: WriteProgram, problems: Problems
) -> None:
    rules = {"dialogues/safety/en.yaml": RULES["dialogues/safety/en.yaml"] + "  suicde: {}\n"}
    found = safety_problems(write, problems, PROGRAM, extra_files=rules)
    assert any(
        line.startswith("dialogues/safety/en.yaml:17:3: error: `suicde` is not a risk category")
        for line in found
    )


def test_a_list_slot_can_be_set_to_a_whole_list(write: WriteProgram, problems: Problems) -> None:
    flows = dict(FLOWS)
    flows["main"] = flows["main"].replace(
        "      - id: done\n        label: main.done\n",
        "      - id: done\n        label: main.done\n        set: {triggers: [night, alone]}\n",
    )
    assert safety_problems(write, problems, PROGRAM, flows=flows) == []
    flows["main"] = (
        flows["main"]
        .replace("[night, alone]", "[nite]")
        .replace("label: main.question\n", "label: main.question\n")
    )
    found = safety_problems(write, problems, PROGRAM, flows=flows)
    assert any(
        "`nite` is not one of the values of `triggers` (did you mean `night`?)" in line
        for line in found
    )
    flows["main"] = flows["main"].replace("{triggers: [nite]}", "{triggers: night}")
    found = safety_problems(write, problems, PROGRAM, flows=flows)
    assert any("`triggers` is a list: `set` it to a list such as [a, b]" in line for line in found)


def test_answered_by_names_choices_of_its_question(write: WriteProgram, problems: Problems) -> None:
    route = "  human:\n    flow: s_human\n    check: check\n    again: again\n"
    program = PROGRAM.replace(route, route + "    answered_at: ask\n    answered_by: [bakc]\n")
    found = "\n".join(safety_problems(write, problems, program))
    assert "`answered_by: bakc` is not a choice of `ask` (did you mean `back`?)" in found


@pytest.mark.parametrize(
    ("field", "problem"),
    [
        ("defers_to: [suicde]", "`suicde` is not a risk category (did you mean `suicide`?)"),
        ("set: {undr_18: true}", "`undr_18` is not a declared slot"),
        ("keeps_answer: sometimes", "`sometimes` is not a declared slot"),  # a condition
    ],
)
def test_a_routes_fields_are_checked_with_their_location(
    write: WriteProgram, problems: Problems, field: str, problem: str
) -> None:
    route = "  distress:\n    flow: s_distress\n    check: check\n    again: again\n"
    program = PROGRAM.replace(route, route + f"    {field}\n")
    found = "\n".join(safety_problems(write, problems, program))
    assert problem in found


def test_settled_at_and_about_another_name_questions_and_answers_of_the_flow(
    write: WriteProgram, problems: Problems
) -> None:
    """A clinician who misspells where a crisis told with another one runs, or which answer
    says a message is about another person, is told so with the route's place."""
    route = "  human:\n    flow: s_human\n    check: check\n    again: again\n"
    fields = "    answered_at: ask\n    answered_by: [back]\n    settled_at: [aks]\n"
    program = PROGRAM.replace(route, route + fields + "    about_another: [bakc]\n")
    found = "\n".join(safety_problems(write, problems, program))
    assert "`settled_at: aks` is not a question of `s_human` (did you mean `ask`?)" in found
    assert "`about_another: bakc` is not one of `answered_by` (did you mean `back`?)" in found
