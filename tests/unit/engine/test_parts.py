"""Every part done: the program says so and offers a review, instead of "Next: <a done part>"."""

from __future__ import annotations

from redirection_bot.dialogue.model import Place
from redirection_bot.dialogue.parts import program_parts
from redirection_bot.engine import ChoicePicked, Message, SessionState, Waiting, step
from redirection_bot.program.load import LoadedProgram


def menu_targets(loaded: LoadedProgram) -> list[str]:
    menu = loaded.program.node(loaded.program.home.flow)
    home = loaded.program.home.flow
    return [c.then.goto.flow for c in menu.choices if c.then.goto and c.then.goto.flow != home]


def test_the_parts_are_what_the_menu_leads_to_except_the_plan(shipped: LoadedProgram) -> None:
    parts = program_parts(shipped.program)
    assert list(parts.order) == [flow for flow in menu_targets(shipped) if flow != "plan"]
    assert Place("thinking", "summary") in parts.ends
    assert Place("coping", "summary") in parts.ends  # goes straight on to the plan
    assert Place("thinking", "intro") not in parts.ends


def at(loaded: LoadedProgram, place: Place, done: tuple[str, ...]) -> SessionState:
    return SessionState(
        program_version=loaded.program.version,
        locale="en",
        waiting=Waiting.ANSWER,
        at=place,
        slots={"thinking_errors": ("hopeless",)},
        done=done,
    )


def last_message(loaded: LoadedProgram, state: SessionState) -> tuple[Message, SessionState]:
    turn = step(loaded.program, state, ChoicePicked("go_on"))
    messages = [o for o in turn.outputs if isinstance(o, Message)]
    return messages[-1], turn.state


def test_finishing_a_part_with_others_to_go_offers_the_next(shipped: LoadedProgram) -> None:
    state = at(shipped, Place("thinking", "answer_hopeless"), ())
    message, after = last_message(shipped, state)
    assert message.key == "thinking.summary"
    assert "next" in [choice.id for choice in message.choices]
    assert after.done == ("thinking",)


def test_finishing_the_last_part_says_so_and_offers_a_review(shipped: LoadedProgram) -> None:
    others = tuple(p for p in program_parts(shipped.program).order if p != "thinking")
    message, after = last_message(
        shipped, at(shipped, Place("thinking", "answer_hopeless"), others)
    )
    assert message.key == "engine.all_parts_done"
    assert [choice.id for choice in message.choices] == ["plan", "menu", "keep_my_place"]
    assert set(after.done) == set(program_parts(shipped.program).order)


def test_the_plan_offers_no_next_part_once_all_are_done(shipped: LoadedProgram) -> None:
    everything = program_parts(shipped.program).order
    state = at(shipped, Place("plan", "after"), everything)
    # A choice that is not offered: the question is asked again, without "Next: thinking traps".
    turn = step(shipped.program, state, ChoicePicked("next_part_that_is_not_offered"))
    message = [o for o in turn.outputs if isinstance(o, Message)][-1]
    assert message.key == "engine.all_parts_done"
    assert "thinking" not in [choice.id for choice in message.choices]
    assert "change" in [choice.id for choice in message.choices]


def test_done_parts_survive_the_state_round_trip(shipped: LoadedProgram) -> None:
    state = at(shipped, Place("thinking", "summary"), ("motivation", "thinking"))
    assert SessionState.from_json(state.to_json()).done == ("motivation", "thinking")
