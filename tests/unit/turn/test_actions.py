"""Custom actions run in-process through rasa-sdk, and may say only authored texts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from redirection_bot.engine import Label, Message, new_state
from redirection_bot.errors import ActionError
from redirection_bot.program.load import LoadedProgram
from redirection_bot.turn.actions import (
    ActionCall,
    RasaActionRunner,
    action_call_payload,
    interpret_action_result,
    rasa_domain,
    registered_action_names,
)


def call(loaded: LoadedProgram, action: str = "action_plan_summary", **slots: Any) -> ActionCall:
    return ActionCall(action, replace(new_state(loaded.program), slots=slots), "abc123")


def test_shipped_actions_are_registered_by_entry_point() -> None:
    assert {"action_plan_summary", "action_services"} <= registered_action_names()


def test_payload_is_what_rasa_sends(shipped: LoadedProgram) -> None:
    payload = action_call_payload(
        shipped.program, call(shipped, importance=8), rasa_domain(shipped.program)
    )
    assert payload["next_action"] == "action_plan_summary"
    assert payload["tracker"]["slots"]["importance"] == 8
    assert payload["tracker"]["slots"]["reasons"] is None
    assert payload["tracker"]["latest_message"]["metadata"] == {"locale": "en"}
    assert payload["tracker"]["latest_message"]["text"] == ""
    assert payload["domain"]["slots"]["stage"]["type"] == "categorical"


async def test_plan_summary_runs_through_rasa_sdk(shipped: LoadedProgram) -> None:
    result = await RasaActionRunner(shipped).run(call(shipped, importance=8, reasons="my family"))
    keys = [m.key for m in result.messages]
    assert keys[:5] == [
        "plan.title",
        "plan.part",  # the heading of the part the answers were given in
        "plan.reasons",
        "plan.importance",
        "plan.closing",
    ]
    assert result.messages[1].params == {"part": Label("motivation.title")}
    assert result.messages[2].params == {"reasons": "my family"}
    # Then where to turn: services for one's own thoughts, and under their own heading the
    # emergency number and crisis lines only.
    crisis = keys.index("plan.crisis")
    assert keys.index("plan.own_behaviour") < crisis
    assert keys[crisis + 1] == "services.emergency_elsewhere"
    crisis_names = [m.params["name"] for m in result.messages[crisis + 2 :]]
    assert crisis_names and Label("services.troubled_desire.name") not in crisis_names


@pytest.mark.parametrize(
    "crisis", [{"harm_taken": True}, {"service_topics": ["suicide", "crisis"]}], ids=str
)
async def test_a_plan_read_in_a_crisis_says_where_to_turn_first(
    shipped: LoadedProgram, crisis: dict[str, Any]
) -> None:
    """The thirtieth retest: a person who had taken pills read a service about sexual thoughts
    above the crisis lines in their plan."""
    result = await RasaActionRunner(shipped).run(call(shipped, reasons="my family", **crisis))
    keys = [m.key for m in result.messages]
    assert keys.index("plan.crisis") < keys.index("plan.own_behaviour")


async def test_plan_gives_the_balanced_answer_to_each_chosen_thinking_trap(
    shipped: LoadedProgram,
) -> None:
    traps = ("just_once", "hopeless")
    result = await RasaActionRunner(shipped).run(call(shipped, thinking_errors=traps))
    keys = [m.key for m in result.messages]
    at = keys.index("plan.thinking_errors")
    assert keys[at - 1] == "plan.part" and keys[at + 1 : at + 3] == ["plan.balanced"] * 2
    answers = [m.params["answer"] for m in result.messages[at + 1 : at + 3]]
    assert answers == [Label("thinking.answer.just_once"), Label("thinking.answer.hopeless")]


async def test_plan_summary_of_nothing_says_so(shipped: LoadedProgram) -> None:
    result = await RasaActionRunner(shipped).run(call(shipped))
    keys = [m.key for m in result.messages]
    assert keys[:2] == ["plan.title", "plan.empty"] and "plan.crisis" in keys


async def test_services_for_a_country_and_language(shipped: LoadedProgram) -> None:
    result = await RasaActionRunner(shipped).run(call(shipped, "action_services", country="gb"))
    assert result.messages[0].key == "services.emergency_here"
    assert result.messages[0].params == {"numbers": Label("services.emergency_numbers.gb")}
    assert result.messages[1].key == "services.intro"
    names = [m.params["name"] for m in result.messages[2:]]
    assert Label("services.stop_it_now_uk.name") in names
    assert Label("services.samaritans.name") in names
    assert names[-1] == Label("services.troubled_desire.name")


async def test_unknown_action_fails_as_an_action_error(shipped: LoadedProgram) -> None:
    with pytest.raises(ActionError):
        await RasaActionRunner(shipped).run(call(shipped, "action_missing"))


def test_free_text_from_an_action_is_refused(shipped: LoadedProgram) -> None:
    with pytest.raises(ActionError, match="may only name texts"):
        interpret_action_result(shipped, call(shipped), [], [{"text": "You are doing great!"}])


def test_own_text_passed_as_a_parameter_is_refused(shipped: LoadedProgram) -> None:
    with pytest.raises(ActionError, match="its own text"):
        interpret_action_result(
            shipped, call(shipped), [], [{"response": "plan.reasons", "reasons": "made up"}]
        )


def test_unknown_text_is_refused(shipped: LoadedProgram) -> None:
    with pytest.raises(ActionError, match="does not exist"):
        interpret_action_result(shipped, call(shipped), [], [{"response": "plan.nonsense"}])


def test_slots_the_action_may_not_set_are_refused(shipped: LoadedProgram) -> None:
    with pytest.raises(ActionError, match="may not set"):
        interpret_action_result(
            shipped, call(shipped), [{"event": "slot", "name": "stage", "value": "stop"}], []
        )


def test_unsupported_events_are_refused(shipped: LoadedProgram) -> None:
    with pytest.raises(ActionError, match="does not use"):
        interpret_action_result(shipped, call(shipped), [{"event": "reminder"}], [])


def test_slot_and_key_parameters_are_accepted(shipped: LoadedProgram) -> None:
    result = interpret_action_result(
        shipped,
        call(shipped, reasons="my kids"),
        [],
        [
            {
                "response": "services.entry",
                "name": {"key": "services.samaritans.name"},
                "contact": {"key": "services.samaritans.contact"},
                "description": {"slot": "reasons"},
            }
        ],
    )
    assert result.messages == (
        Message(
            "services.entry",
            {
                "name": Label("services.samaritans.name"),
                "contact": Label("services.samaritans.contact"),
                "description": "my kids",
            },
        ),
    )


def test_services_in_another_language_come_after_those_in_the_persons(
    shipped: LoadedProgram,
) -> None:
    found = [s.id for s in shipped.services.find("es", "GB")]
    assert found, "a Spanish speaker in the UK is shown the UK's services"
    languages = [
        ("es" in next(x for x in shipped.services.services if x.id == s).languages) for s in found
    ]
    assert languages == sorted(languages, reverse=True), "services in Spanish first"
    assert "samaritans" in found


def test_no_country_means_services_open_to_every_country(shipped: LoadedProgram) -> None:
    found = shipped.services.find("en", None)
    assert found and all("INT" in s.countries for s in found)
