from __future__ import annotations

from redirection_bot.dialogue.graph import flows_reached, interrupting_flows
from redirection_bot.dialogue.model import CommandName
from redirection_bot.program.load import LoadedProgram


def test_the_flows_that_interrupt_are_safety_help_and_what_they_lead_to(
    shipped: LoadedProgram,
) -> None:
    program = shipped.program
    interrupting = interrupting_flows(program)
    help_flow = program.commands[CommandName.HELP].call
    assert {route.flow for route in program.safety} <= interrupting
    assert help_flow in interrupting
    # What the safety flows call is theirs too; the modules a person works through are not,
    # although a called flow returns to them.
    assert "safety_services" in interrupting and "find_service" in interrupting
    assert "welcome" not in interrupting


def test_a_flow_reaches_itself_and_what_it_calls_not_its_callers(shipped: LoadedProgram) -> None:
    program = shipped.program
    assert flows_reached(program, ["find_service"]) >= {"find_service"}
    assert "welcome" not in flows_reached(program, ["find_service"])
