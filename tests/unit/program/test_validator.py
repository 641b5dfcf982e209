"""The validator catches each class of authoring error, at file:line:column, in words a
clinician understands."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from redirection_bot.authoring.testing import MINIMAL_LOCALES, MINIMAL_PROGRAM, load
from redirection_bot.errors import AuthoringError
from redirection_bot.program.load import ProgramSources
from tests.conftest import SHIPPED, WriteProgram

Problems = Callable[[ProgramSources], list[str]]

MAIN_HEAD = """\
flow: main
start: ask
nodes:
  ask:
    say: main.question
    input: mood
    next: bye
"""


def one(found: list[str], needle: str) -> str:
    matches = [line for line in found if needle in line]
    assert matches, f"no diagnostic mentions {needle!r}; got:\n" + "\n".join(found)
    return matches[0]


def test_shipped_program_is_clean() -> None:
    from redirection_bot.authoring.testing import diagnose

    found = diagnose(SHIPPED)
    assert [d.format() for d in found.items] == []


def test_minimal_program_is_clean(write: WriteProgram, problems: Problems) -> None:
    assert problems(write()) == []


def test_yaml_syntax_error_points_to_line_and_column(
    write: WriteProgram, problems: Problems
) -> None:
    sources = write(flows={"main": MAIN_HEAD + "  bye:\n    say: [main.bye\n    end: true\n"})
    line = one(problems(sources), "YAML syntax error")
    assert line.startswith("dialogues/flows/main.yaml:10:")


def test_unquoted_colon_gets_a_hint(write: WriteProgram, problems: Problems) -> None:
    sources = write(locales={"helpdesk.en.yml": "en:\n  offer: Note: a person will come\n"})
    line = one(problems(sources), "YAML syntax error")
    assert line.startswith("locales/helpdesk.en.yml:2:")
    assert "needs quotes" in line


def test_unknown_field_suggests_the_right_one(write: WriteProgram, problems: Problems) -> None:
    sources = write(flows={"main": MAIN_HEAD + "  bye:\n    sya: main.bye\n    end: true\n"})
    assert one(problems(sources), "`sya`") == (
        "dialogues/flows/main.yaml:9:5: error: `sya` is not a field of the node `bye` (did you mean `say`?)"
    )


def test_a_node_does_one_thing(write: WriteProgram, problems: Problems) -> None:
    sources = write(
        flows={"main": MAIN_HEAD + "  bye:\n    say: main.bye\n    end: true\n    choices: nope\n"}
    )
    assert one(problems(sources), "a node does one of these") == (
        "dialogues/flows/main.yaml:8:3: error: the node `bye` has `choices` and `end`; a node does one of these"
    )


def test_wrong_type_says_what_was_expected(write: WriteProgram, problems: Problems) -> None:
    sources = write(flows={"main": "flow: main\nstart: ask\nnodes: [ask]\n"})
    assert one(problems(sources), "`nodes` should be") == (
        "dialogues/flows/main.yaml:3:8: error: `nodes` should be a set of named fields, but this is a list"
    )


def test_unknown_node_target_suggests_a_near_name(write: WriteProgram, problems: Problems) -> None:
    sources = write(
        flows={
            "main": MAIN_HEAD.replace("next: bye", "next: bey")
            + "  bye:\n    say: main.bye\n    end: true\n"
        }
    )
    assert one(problems(sources), "`bey`") == (
        "dialogues/flows/main.yaml:7:11: error: this target goes to `bey`, which is not a node of `main` "
        "(did you mean `bye`?)"
    )


def test_unknown_flow_target(write: WriteProgram, problems: Problems) -> None:
    sources = write(flows={"main": MAIN_HEAD.replace("next: bye", "goto: helpdsk")})
    assert "which does not exist (did you mean `helpdesk`?)" in one(problems(sources), "`helpdsk`")


def test_next_cannot_name_another_flow(write: WriteProgram, problems: Problems) -> None:
    sources = write(flows={"main": MAIN_HEAD.replace("next: bye", "next: helpdesk.offer")})
    assert "use `goto: helpdesk.offer`" in one(problems(sources), "helpdesk.offer")


def test_duplicate_node_id(write: WriteProgram, problems: Problems) -> None:
    sources = write(
        flows={
            "main": MAIN_HEAD + "  bye:\n    say: main.bye\n    end: true\n  ask:\n    end: true\n"
        }
    )
    assert one(problems(sources), "appears twice") == (
        "dialogues/flows/main.yaml:11:3: error: `ask` appears twice here (first at line 4); "
        "YAML would silently keep only the last one"
    )


def test_duplicate_flow_id_across_files(write: WriteProgram, problems: Problems) -> None:
    sources = write(flows={"copy": "flow: main\nstart: x\nnodes:\n  x:\n    end: true\n"})
    assert "the flow id `main` is already used by dialogues/flows/copy.yaml" in one(
        problems(sources), "already used"
    )


def test_duplicate_choice_id(write: WriteProgram, problems: Problems) -> None:
    flow = MAIN_HEAD.replace(
        "    input: mood\n", "    input: mood\n    choices:\n      - {id: good, label: main.bye}\n"
    )
    sources = write(flows={"main": flow + "  bye:\n    say: main.bye\n    end: true\n"})
    assert "two choices of `ask` have the id `good`" in one(problems(sources), "two choices")


def test_a_choice_only_typed_needs_words_and_a_button_beside_it(
    write: WriteProgram, problems: Problems
) -> None:
    flow = (
        "flow: main\nstart: ask\nnodes:\n  ask:\n    say: main.question\n    choices:\n"
        "      - {id: quiet, label: main.bye, typed_only: true, next: bye}\n"
        "  bye:\n    say: main.bye\n    end: true\n"
    )
    found = problems(write(flows={"main": flow}))
    assert one(found, "`quiet`") == (
        "dialogues/flows/main.yaml:7:9: error: the choice `quiet` is `typed_only` but has no"
        " `words`: nothing can take it"
    )
    assert "every choice of `ask` is `typed_only`: no button is left" in one(found, "no button")


def test_a_slot_value_only_typed_needs_words_and_must_be_a_value(
    write: WriteProgram, problems: Problems
) -> None:
    program = MINIMAL_PROGRAM.replace(
        "      bad: main.mood_bad\n",
        "      bad: main.mood_bad\n    typed_only: [bad, ugly]\n",
    )
    found = problems(write(program=program))
    assert "`bad` is only typed but has no `words` in `mood`" in one(found, "`bad`")
    assert "`ugly` is not one of the values of `mood`" in one(found, "`ugly`")


def test_unreachable_node(write: WriteProgram, problems: Problems) -> None:
    flow = (
        MAIN_HEAD
        + "  bye:\n    say: main.bye\n    end: true\n  lost:\n    say: main.bye\n    end: true\n"
    )
    assert one(problems(write(flows={"main": flow})), "lost") == (
        "dialogues/flows/main.yaml:11:3: error: the node `lost` can never be reached: nothing leads to it"
    )


def test_unreachable_flow(write: WriteProgram, problems: Problems) -> None:
    sources = write(
        flows={"island": "flow: island\nstart: x\nnodes:\n  x:\n    say: main.bye\n    end: true\n"}
    )
    assert one(problems(sources), "island") == (
        "dialogues/flows/island.yaml:1:1: error: the flow `island` can never be reached: nothing goes to it"
    )


def test_dead_end(write: WriteProgram, problems: Problems) -> None:
    sources = write(flows={"main": MAIN_HEAD + "  bye:\n    say: main.bye\n"})
    assert one(problems(sources), "dead end") == (
        "dialogues/flows/main.yaml:8:3: error: `bye` is a dead end: add `next` (a node here) or `goto` "
        "(another flow), or make it an `end`"
    )


def test_if_without_else_is_a_dead_end(write: WriteProgram, problems: Problems) -> None:
    flow = MAIN_HEAD.replace("next: bye", "next: check") + (
        '  check:\n    if:\n      - when: mood == "good"\n        next: bye\n'
        "  bye:\n    say: main.bye\n    end: true\n"
    )
    assert "has no `else`" in one(problems(write(flows={"main": flow})), "check")


def test_loop_that_never_waits(write: WriteProgram, problems: Problems) -> None:
    flow = MAIN_HEAD.replace("next: bye", "next: one") + (
        "  one:\n    say: main.bye\n    next: two\n  two:\n    say: main.bye\n    next: one\n"
    )
    line = one(problems(write(flows={"main": flow})), "loop")
    assert line.startswith("dialogues/flows/main.yaml:8:3: error: these nodes go round in a loop")
    assert "main.one → main.two → main.one" in line


HELPER_FLOW = (
    "flow: helper\nstart: note\nnodes:\n"
    "  note:\n    say: main.bye\n    next: done\n  done:\n    return: true\n"
)


def test_a_loop_through_a_called_flow_that_never_waits(
    write: WriteProgram, problems: Problems
) -> None:
    flow = MAIN_HEAD.replace("next: bye", "next: one") + (
        "  one:\n    call: helper\n    next: two\n  two:\n    say: main.bye\n    next: one\n"
    )
    line = one(problems(write(flows={"main": flow, "helper": HELPER_FLOW})), "loop")
    assert "main.one → main.two → main.one" in line


def test_one_flow_called_twice_in_a_row_is_no_loop(write: WriteProgram, problems: Problems) -> None:
    """A shared question (the country) called before a handoff and again by the services
    list: each return goes back to its own caller, not round to the first call."""
    flow = MAIN_HEAD.replace("next: bye", "next: first") + (
        "  first:\n    call: helper\n    next: second\n  second:\n    call: helper\n    next: bye\n"
        "  bye:\n    say: main.bye\n    end: true\n"
    )
    assert not [
        p for p in problems(write(flows={"main": flow, "helper": HELPER_FLOW})) if "loop" in p
    ]


def test_a_loop_through_a_question_is_fine(write: WriteProgram, problems: Problems) -> None:
    flow = (
        MAIN_HEAD.replace("next: bye", "next: one") + "  one:\n    say: main.bye\n    next: ask\n"
    )
    assert not [line for line in problems(write(flows={"main": flow})) if "loop" in line]


def test_undeclared_slot_in_a_condition(write: WriteProgram, problems: Problems) -> None:
    flow = MAIN_HEAD.replace("next: bye", "next: check") + (
        '  check:\n    if:\n      - when: moood == "good"\n        next: bye\n    else:\n      next: bye\n'
        "  bye:\n    say: main.bye\n    end: true\n"
    )
    assert one(problems(write(flows={"main": flow})), "moood") == (
        "dialogues/flows/main.yaml:10:15: error: `moood` is not a declared slot (did you mean `mood`?)"
    )


def test_condition_value_must_be_a_value_of_the_slot(
    write: WriteProgram, problems: Problems
) -> None:
    flow = MAIN_HEAD.replace("next: bye", "next: check") + (
        '  check:\n    if:\n      - when: mood == "god"\n        next: bye\n    else:\n      next: bye\n'
        "  bye:\n    say: main.bye\n    end: true\n"
    )
    assert one(problems(write(flows={"main": flow})), "god") == (
        'dialogues/flows/main.yaml:10:23: error: "god" is not one of the values of `mood` (did you mean `good`?)'
    )


def test_condition_syntax_error_points_into_the_expression(
    write: WriteProgram, problems: Problems
) -> None:
    flow = MAIN_HEAD.replace("next: bye", "next: check") + (
        '  check:\n    if:\n      - when: mood = "good"\n        next: bye\n    else:\n      next: bye\n'
        "  bye:\n    say: main.bye\n    end: true\n"
    )
    assert one(problems(write(flows={"main": flow})), "unexpected character") == (
        "dialogues/flows/main.yaml:10:20: error: in this condition: unexpected character `=` (use == to compare)"
    )


def test_slot_never_set(write: WriteProgram, problems: Problems) -> None:
    program = MINIMAL_PROGRAM.replace("slots:\n", "slots:\n  ready:\n    type: boolean\n")
    flow = MAIN_HEAD.replace("next: bye", "next: check") + (
        "  check:\n    if:\n      - when: ready\n        next: bye\n    else:\n      next: bye\n"
        "  bye:\n    say: main.bye\n    end: true\n"
    )
    assert "`ready` is never set by any choice, input or action" in one(
        problems(write(program=program, flows={"main": flow})), "ready"
    )


def test_words_heard_set_a_boolean_slot_and_only_a_boolean_one(
    write: WriteProgram, problems: Problems
) -> None:
    program = MINIMAL_PROGRAM.replace(
        "slots:\n", "slots:\n  ready:\n    type: boolean\n    heard: main.bye\n"
    )
    flow = MAIN_HEAD.replace("next: bye", "next: check") + (
        "  check:\n    if:\n      - when: ready\n        next: bye\n    else:\n      next: bye\n"
        "  bye:\n    say: main.bye\n    end: true\n"
    )
    assert problems(write(program=program, flows={"main": flow})) == []
    typed = program.replace("type: boolean\n    heard", "type: text\n    heard")
    line = one(problems(write(program=typed, flows={"main": flow})), "`heard`")
    assert "`heard` is only for boolean slots" in line
    assert line.startswith("dialogues/program.yaml:")
    missing = program.replace("heard: main.bye", "heard: main.no_such_words")
    assert "main.no_such_words" in one(
        problems(write(program=missing, flows={"main": flow})), "no_such_words"
    )


def test_a_slot_the_runtime_sets_counts_as_set_and_must_have_the_type_it_sets(
    write: WriteProgram, problems: Problems
) -> None:
    flow = MAIN_HEAD.replace("next: bye", "next: check") + (
        "  check:\n    if:\n      - when: helpline_connected\n        next: bye\n"
        "    else:\n      next: bye\n  bye:\n    say: main.bye\n    end: true\n"
    )
    boolean = MINIMAL_PROGRAM.replace(
        "slots:\n", "slots:\n  helpline_connected:\n    type: boolean\n"
    )
    assert not [p for p in problems(write(program=boolean, flows={"main": flow})) if "error" in p]
    text = MINIMAL_PROGRAM.replace(
        "slots:\n", "slots:\n  helpline_connected:\n    type: text\n    max_length: 5\n"
    )
    assert "`helpline_connected` is set by the program itself and must be a boolean" in one(
        problems(write(program=text, flows={"main": flow})), "helpline_connected"
    )


def test_a_node_that_asks_nothing_may_set_slots_and_a_question_may_not(
    write: WriteProgram, problems: Problems
) -> None:
    setting = MAIN_HEAD.replace("next: bye", "next: check") + (
        "  check:\n    set: {mood: good}\n    say: main.bye\n    next: bye\n"
        "  bye:\n    say: main.bye\n    end: true\n"
    )
    assert not [p for p in problems(write(flows={"main": setting})) if "error" in p]
    asking = MAIN_HEAD.replace("    input: mood\n", "    input: mood\n    set: {mood: bad}\n") + (
        "  bye:\n    say: main.bye\n    end: true\n"
    )
    assert "asks something: set slots on its choices instead" in one(
        problems(write(flows={"main": asking})), "set slots"
    )


def test_undeclared_slot_in_a_text(write: WriteProgram, problems: Problems) -> None:
    locales = {
        "main.en.yml": 'en:\n  question: "Hi %{name}?"\n  mood_good: "Good"\n  mood_bad: "Bad"\n  bye: "Bye"\n'
    }
    assert one(problems(write(locales=locales)), "%{name}") == (
        "locales/main.en.yml:2:17: error: `%{name}` is not a declared slot; a text can only show slots"
    )


def test_slot_shown_before_it_may_be_set_is_a_warning(
    write: WriteProgram, problems: Problems
) -> None:
    locales = {
        "main.en.yml": 'en:\n  question: "Was it %{mood}?"\n  mood_good: "Good"\n  mood_bad: "Bad"\n  bye: "Bye"\n'
    }
    line = one(problems(write(locales=locales)), "may not be answered yet")
    assert line.startswith("dialogues/flows/main.yaml:5:10: warning:")


def test_unknown_custom_action(write: WriteProgram, problems: Problems) -> None:
    program = MINIMAL_PROGRAM + "actions:\n  action_make_tea:\n"
    flow = MAIN_HEAD.replace("next: bye", "next: tea") + (
        "  tea:\n    action: action_make_te\n    next: bye\n  bye:\n    say: main.bye\n    end: true\n"
    )
    found = problems(write(program=program, flows={"main": flow}))
    assert "there is no custom action called `action_make_tea`" in one(found, "no custom action")
    assert one(found, "action_make_te`") == (
        "dialogues/flows/main.yaml:9:13: error: the action `action_make_te` is not declared under `actions` "
        "in the program file (did you mean `action_make_tea`?)"
    )


def test_missing_text_in_a_locale(write: WriteProgram, problems: Problems) -> None:
    program = MINIMAL_PROGRAM.replace("locales: [en]", "locales: [en, fi]")
    locales = {
        name.replace(".en.", ".fi."): text.replace("en:", "fi:", 1)
        for name, text in MINIMAL_LOCALES.items()
    }
    locales["main.fi.yml"] = (
        'fi:\n  question: "Mitä kuuluu?"\n  mood_good: "Hyvää"\n  mood_bad: "Huonoa"\n'
    )
    line = one(problems(write(program=program, locales=locales)), "missing in `fi`")
    assert line == "dialogues/flows/main.yaml:9:10: error: the text `main.bye` is missing in `fi`"


def test_placeholders_that_differ_between_locales(write: WriteProgram, problems: Problems) -> None:
    program = MINIMAL_PROGRAM.replace("locales: [en]", "locales: [en, fi]")
    from redirection_bot.authoring.testing import MINIMAL_LOCALES

    locales = {
        name.replace(".en.", ".fi."): text.replace("en:", "fi:", 1)
        for name, text in MINIMAL_LOCALES.items()
    }
    locales["main.fi.yml"] = (
        'fi:\n  question: "Mitä kuuluu?"\n  mood_good: "Hyvää"\n  mood_bad: "Huonoa"\n  bye: "Hei hei!"\n'
    )
    assert one(problems(write(program=program, locales=locales)), "placeholders") == (
        "locales/main.fi.yml:5:9: error: the placeholders of `main.bye` differ from the `en` text: "
        "here none, in `en` %{mood}"
    )


def test_unused_text_is_a_warning(write: WriteProgram, problems: Problems) -> None:
    locales = {
        "helpdesk.en.yml": 'en:\n  offer: "A person will come."\n  old: "Not used any more"\n'
    }
    assert one(problems(write(locales=locales)), "never used") == (
        "locales/helpdesk.en.yml:3:9: warning: the text `helpdesk.old` is never used"
    )


def test_a_country_variant_is_used_where_its_text_is_and_must_write_the_numbers(
    write: WriteProgram, problems: Problems
) -> None:
    """``offer_here`` is said instead of ``offer`` where the person's country is known: not
    "never used", but an error without the country's numbers or with words of its own."""
    locales = {
        "helpdesk.en.yml": 'en:\n  offer: "A person will come. Call 112 or 911."\n'
        '  offer_here: "A person will come. Call %{numbers}."\n'
        '  gone_here: "Nothing varies this"\n'
        '  offer_elsewhere: "A person will come. Call your local emergency number."\n'
    }
    found = problems(write(locales=locales))
    assert [line for line in found if "helpdesk.offer" in line] == []
    assert one(found, "never used") == (
        "locales/helpdesk.en.yml:4:15: warning: the text `helpdesk.gone_here` is never used"
    )
    locales["helpdesk.en.yml"] = (
        'en:\n  offer: "A person will come."\n  offer_here: "Call %{mood} now."\n'
    )
    found = problems(write(locales=locales))
    assert one(found, "as `%{numbers}`") == (
        "locales/helpdesk.en.yml:3:16: error: `helpdesk.offer_here` is said where the person's "
        "country is known, instead of `helpdesk.offer`: write the country's emergency numbers "
        "in it as `%{numbers}`"
    )
    assert one(found, "can only add") == (
        "locales/helpdesk.en.yml:3:21: error: `%{mood}` is not in `helpdesk.offer`, which this "
        "text varies: a `_here` text can only add `%{numbers}`, an `_elsewhere` text nothing"
    )


def test_lone_percent_sign(write: WriteProgram, problems: Problems) -> None:
    locales = {"helpdesk.en.yml": 'en:\n  offer: "100% sure a person will come."\n'}
    assert one(problems(write(locales=locales)), "percent") == (
        "locales/helpdesk.en.yml:2:14: error: a percent sign must be written `%%`"
    )


def test_a_placeholder_without_its_percent_sign_is_a_warning(
    write: WriteProgram, problems: Problems
) -> None:
    locales = {
        "helpdesk.en.yml": 'en:\n  offer: "{name}, a person will come. {} and %{x} are fine"\n'
    }
    found = [line for line in problems(write(locales=locales)) if "as it is written" in line]
    assert found == [
        "locales/helpdesk.en.yml:2:11: warning: `{name}` is shown as it is written: "
        "write `%{name}` for a slot"
    ]


def test_reserved_slot_name(write: WriteProgram, problems: Problems) -> None:
    program = MINIMAL_PROGRAM.replace(
        "slots:\n", "slots:\n  count:\n    type: integer\n    min: 0\n    max: 3\n"
    )
    assert "`count` cannot be a slot name" in one(problems(write(program=program)), "count")


def test_yaml_11_booleans_stay_text_and_are_flagged(
    write: WriteProgram, problems: Problems
) -> None:
    program = MINIMAL_PROGRAM.replace(
        "      bad: main.mood_bad\n",
        "      bad: main.mood_bad\n  answer:\n    type: choice\n    values: [yes, no]\n",
    )
    flow = MAIN_HEAD.replace("next: bye", "next: ok") + (
        "  ok:\n    say: main.question\n    choices:\n      - id: yes\n        label: main.mood_good\n"
        "        set: {answer: yes}\n        next: bye\n  bye:\n    say: main.bye\n    end: true\n"
    )
    found = problems(write(program=program, flows={"main": flow}))
    warning = one(found, "dialogues/flows/main.yaml:11:13")
    assert (
        'is kept as the text "yes" here, but many YAML tools read it as a yes/no value' in warning
    )
    loaded = load(write(program=program, flows={"main": flow}))
    assert loaded.program.slots["answer"].values == ("yes", "no")
    assert loaded.program.node("main", "ok").choices[0].id == "yes"


def test_version_that_looks_like_a_number_is_kept_and_flagged(
    write: WriteProgram, problems: Problems
) -> None:
    program = MINIMAL_PROGRAM.replace('version: "1"', "version: 1.0")
    warning = one(problems(write(program=program)), "the version")
    assert warning.startswith("dialogues/program.yaml:2:10: warning:")
    assert load(write(program=program)).program.version == "1.0"


def test_boolean_field_written_as_yes(write: WriteProgram, problems: Problems) -> None:
    flow = MAIN_HEAD + "  bye:\n    say: main.bye\n    end: yes\n"
    assert "`yes` is read as true here; write `true`" in one(
        problems(write(flows={"main": flow})), "read as true"
    )


def test_load_refuses_an_invalid_program_with_every_problem(write: WriteProgram) -> None:
    sources = write(flows={"main": MAIN_HEAD.replace("next: bye", "next: nowhere")})
    with pytest.raises(AuthoringError) as caught:
        load(sources)
    assert len(caught.value.diagnostics) >= 2
    assert all(d.span.line >= 1 for d in caught.value.diagnostics)


def test_stale_service_is_a_warning(write: WriteProgram, problems: Problems) -> None:
    services = """\
services:
  - id: helpline
    name: "A helpline"
    countries: [GB]
    languages: [en]
    topics: [suicide]
    contacts:
      - phone: "123"
    source: "https://example.org/helpline"
    checked: 2024-01-01
"""
    locales = {"services.en.yml": 'en:\n  helpline:\n    description: "Listens."\n'}
    found = problems(write(extra_files={"dialogues/services.yaml": services}, locales=locales))
    assert one(found, "over a year ago") == (
        "dialogues/services.yaml:10:5: warning: `helpline` was last checked on 2024-01-01, over a year ago: "
        "check it again"
    )


def test_interface_texts_are_used_and_needed_in_every_locale(
    write: WriteProgram, problems: Problems
) -> None:
    from redirection_bot.authoring.testing import MINIMAL_LOCALES

    program = (
        MINIMAL_PROGRAM.replace("locales: [en]", "locales: [en, fi]") + "interface_texts: [page]\n"
    )
    locales = {
        name.replace(".en.", ".fi."): text.replace("en:", "fi:", 1)
        for name, text in MINIMAL_LOCALES.items()
    }
    locales["page.en.yml"] = 'en:\n  send: "Send"\n  leave: "Leave now"\n'
    locales["page.fi.yml"] = 'fi:\n  send: "Lähetä"\n'
    found = problems(write(program=program, locales=locales))
    assert (
        one(found, "page.leave")
        == "locales/page.en.yml:3:11: error: the text `page.leave` is missing in `fi`"
    )
    assert not [line for line in found if "never used" in line and "page." in line]


def test_offer_names_values_of_the_slot_and_belongs_to_an_input(
    write: WriteProgram, problems: Problems
) -> None:
    flow = MAIN_HEAD.replace("    input: mood\n", "    input: mood\n    offer: [good, god]\n") + (
        "  bye:\n    say: main.bye\n    offer: [good]\n    end: true\n"
    )
    found = problems(write(flows={"main": flow}))
    assert one(found, "god") == (
        "dialogues/flows/main.yaml:7:19: error: `god` is not a value of `mood` "
        "(did you mean `good`?)"
    )
    assert one(found, "belongs to an `input`").startswith("dialogues/flows/main.yaml:11:5: error")


def test_a_buttons_label_shows_only_slots_even_in_an_actions_texts(
    write: WriteProgram, problems: Problems
) -> None:
    # `hour` is a parameter the action fills in its own messages; a button is filled by the
    # engine, from slots, so there it would show nothing.
    program = MINIMAL_PROGRAM + "actions:\n  action_tell:\n    texts: main\n    params: [hour]\n"
    flow = (
        MAIN_HEAD
        + "    choices:\n      - {id: again, label: main.again, next: bye}\n"
        + ("  bye:\n    say: main.bye\n    end: true\n")
    )
    locales = {
        "main.en.yml": 'en:\n  question: "How are you?"\n  mood_good: "Good"\n  mood_bad: "Bad"\n'
        '  bye: "Bye"\n  again: "Ask me at %{hour}"\n'
    }
    assert one(
        problems(write(program=program, flows={"main": flow}, locales=locales)), "%{hour}"
    ) == (
        "locales/main.en.yml:6:21: error: `%{hour}` is not a declared slot; a button's label can only show slots"
    )
    locales["main.en.yml"] = locales["main.en.yml"].replace("%{hour}", "%{mood}")
    found = problems(write(program=program, flows={"main": flow}, locales=locales))
    assert not [line for line in found if "label" in line or "%{" in line]


def test_cycle_collection_runs_again_after_loading(write: WriteProgram, problems: Problems) -> None:
    """Loading pauses Python's cycle collector (it would walk every object made so far, again
    and again); a long-running studio or language server must get it back, also after a
    program with errors, or its memory would grow for as long as it runs."""
    import gc

    broken = write(flows={"main": MAIN_HEAD + "  bye:\n    say: [main.bye\n"})
    assert problems(broken)
    assert gc.isenabled()
    assert problems(write()) == []
    assert gc.isenabled()


@pytest.mark.parametrize(
    ("field", "wrong", "right", "said"),
    [
        ("check_in_answers", "own_trigers", "mood", "(those that do: `mood`)"),
        ("except_in_flows", "saftey_suicide", "main", "not a flow of the program"),
    ],
)
def test_a_rules_slot_or_flow_the_program_lacks_is_pointed_at(
    write: WriteProgram, problems: Problems, field: str, wrong: str, right: str, said: str
) -> None:
    rules = (
        f"locale: en\ncategories:\n  child_at_risk:\n    {field}:\n"
        f'      {wrong}: ["my daughter"]\n      {right}: ["my son"]\n'
    )
    found = problems(write(extra_files={"dialogues/safety/en.yaml": rules}))
    line = one(found, field)
    assert line.startswith("dialogues/safety/en.yaml:5:7: error:")
    assert f"`{wrong}`" in line and said in line
    assert len([f for f in found if field in f]) == 1  # `mood` is asked, `main` a flow


def test_the_about_command_needs_the_flow_it_runs(write: WriteProgram, problems: Problems) -> None:
    program = MINIMAL_PROGRAM.replace("  stop:\n", "  stop:\n  about:\n")
    line = one(problems(write(program=program)), "`about` command")
    assert line.startswith("dialogues/program.yaml:") and "needs `call: <flow>`" in line
    called = MINIMAL_PROGRAM.replace("  stop:\n", "  stop:\n  about:\n    call: nowhere\n")
    assert any("nowhere" in found for found in problems(write(program=called)))
