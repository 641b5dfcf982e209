"""The runtime: turns in order, actions fulfilled, limits kept, sessions erased."""

from __future__ import annotations

import asyncio
import logging

import pytest

from redirection_bot.authoring.testing import make_runtime
from redirection_bot.dialogue.model import CommandName
from redirection_bot.engine import ChoicePicked, CommandGiven, Start, Text
from redirection_bot.program.load import LoadedProgram
from redirection_bot.program.render import ShownEnd, ShownHandoff
from redirection_bot.turn.runtime import Runtime, RuntimeSettings


async def to_stage_question(runtime: Runtime, session: str) -> None:
    """Start a conversation and read the welcome, up to "where are you right now?"."""
    await runtime.handle(session, Start())
    await runtime.handle(session, ChoicePicked("go_on"))
    await runtime.handle(session, ChoicePicked("go_on"))


async def test_a_whole_conversation_with_an_action(shipped: LoadedProgram) -> None:
    runtime = make_runtime(shipped)
    reply = await runtime.handle("s1", Start())
    assert reply.messages[0].key == "welcome.hello"
    await runtime.handle("s1", ChoicePicked("go_on"))
    await runtime.handle("s1", ChoicePicked("go_on"))
    await runtime.handle("s1", ChoicePicked("stop"))
    await runtime.handle("s1", ChoicePicked("no_thanks"))  # the outcome questions (outcomes.yaml)
    await runtime.handle("s1", Text("I want to be there for my family"))
    await runtime.handle("s1", Text("9"))
    await runtime.handle("s1", Text("6"))
    for choice in ("done", "done", "done", "done", "go_on", "go_on", "go_on"):
        await runtime.handle("s1", ChoicePicked(choice))
    reply = await runtime.handle("s1", ChoicePicked("plan"))
    assert [m.key for m in reply.messages][:5] == [
        "my_plan.intro",
        "plan.title",
        "plan.stage",
        "plan.part",
        "plan.reasons",
    ]
    assert reply.messages[2].text == "Where I started: I want to stop"
    assert reply.messages[3].text == "My reasons for change"  # a heading: the part's title


async def test_plan_text_is_built_on_demand(shipped: LoadedProgram) -> None:
    runtime = make_runtime(shipped)
    assert await runtime.plan_text("nobody") is None
    await to_stage_question(runtime, "s1")
    await runtime.handle("s1", ChoicePicked("stop"))
    plan = await runtime.plan_text("s1")
    assert plan is not None
    assert plan.startswith("My plan\n\nWhere I started: I want to stop\n\nIf I ever think")


async def test_too_long_messages_get_a_polite_reply_and_nothing_is_lost(
    shipped: LoadedProgram,
) -> None:
    runtime = make_runtime(shipped, RuntimeSettings(max_text_length=50))
    await to_stage_question(runtime, "s1")
    before = await runtime.state("s1")
    reply = await runtime.handle("s1", Text("x" * 51))
    assert [m.key for m in reply.messages] == ["engine.too_long", "welcome.stage.question"]
    after = await runtime.state("s1")
    assert after is not None and before is not None
    assert after.at == before.at and after.slots == before.slots


async def test_hostile_text_is_shown_cleaned(shipped: LoadedProgram) -> None:
    runtime = make_runtime(shipped)
    await to_stage_question(runtime, "s1")
    await runtime.handle("s1", ChoicePicked("stop"))
    await runtime.handle("s1", ChoicePicked("no_thanks"))
    reply = await runtime.handle("s1", Text("\x1b[31m<script>alert(1)</script>\u202e"))
    thanks = reply.messages[0]
    assert thanks.key == "motivation.reasons.thanks"
    assert "\x1b" not in thanks.text and "\u202e" not in thanks.text
    assert "[31m<script>alert(1)</script>" in thanks.text  # kept as text; channels escape it


async def test_stop_erases_the_session(shipped: LoadedProgram) -> None:
    runtime = make_runtime(shipped)
    await runtime.handle("s1", Start())
    reply = await runtime.handle("s1", CommandGiven(CommandName.STOP))
    assert reply.shown == (ShownEnd(erase=True),)
    assert await runtime.state("s1") is None


async def test_erase_removes_everything(shipped: LoadedProgram) -> None:
    runtime = make_runtime(shipped)
    await runtime.handle("s1", Start())
    await runtime.erase("s1")
    assert await runtime.state("s1") is None


async def test_handoff_is_rendered_for_the_connector(shipped: LoadedProgram) -> None:
    # Played as if a helpline were connected: without one, "help" offers no person.
    runtime = make_runtime(shipped, RuntimeSettings(assume_helpline=True))
    await runtime.handle("s1", Start())
    await runtime.handle("s1", CommandGiven(CommandName.HELP))
    reply = await runtime.handle("s1", ChoicePicked("person"))
    assert ShownHandoff("asked", "normal", "support") in reply.shown


async def test_turns_of_one_session_are_handled_in_order(shipped: LoadedProgram) -> None:
    runtime = make_runtime(shipped)
    await to_stage_question(runtime, "s1")
    replies = await asyncio.gather(
        runtime.handle("s1", ChoicePicked("stop")),
        runtime.handle("s1", ChoicePicked("no_thanks")),
        runtime.handle("s1", Text("for my family")),
        runtime.handle("s1", Text("8")),
    )
    assert [r.messages[-1].key for r in replies] == [
        "outcomes.what_is_kept",
        "motivation.reasons.question",
        "motivation.importance.question",
        "motivation.confidence.question",
    ]


async def test_reloaded_program_does_not_break_running_sessions(shipped: LoadedProgram) -> None:
    from dataclasses import replace

    runtime = make_runtime(shipped)
    await runtime.handle("old", Start())
    runtime.reload(replace(shipped, program=replace(shipped.program, version="0.2.0")))
    reply = await runtime.handle("old", ChoicePicked("go_on"))
    assert reply.messages[0].key == "welcome.anonymity"
    new = await runtime.handle("new", Start())
    assert new.state is not None and new.state.program_version == "0.2.0"


async def test_logs_carry_no_content(
    shipped: LoadedProgram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    runtime = make_runtime(shipped)
    await to_stage_question(runtime, "session-secret-id")
    await runtime.handle("session-secret-id", ChoicePicked("worried"))
    await runtime.handle("session-secret-id", Text("my neighbour Jane Doe 07700 900123"))
    text = caplog.text
    assert "turn handled" in text
    for secret in ("session-secret-id", "Jane", "07700", "worried", "neighbour"):
        assert secret not in text


async def test_what_the_person_picked_is_said_back_with_its_label(shipped: LoadedProgram) -> None:
    runtime = make_runtime(shipped)
    await to_stage_question(runtime, "s1")
    asked = (await runtime.handle("s1", CommandGiven(CommandName.REPEAT))).messages[-1]
    offered = {choice.id: choice.label for choice in asked.choices}
    reply = await runtime.handle("s1", ChoicePicked("stop"))
    assert reply.said == offered["stop"]
    # A choice not offered where the person is gets no label; a command's has its own.
    assert (await runtime.handle("s1", ChoicePicked("no_such_choice"))).said is None
    help_label = shipped.catalog.render(CommandName.HELP.label_key, "en")
    assert (await runtime.handle("s1", ChoicePicked("command:help"))).said == help_label


async def test_typed_words_taken_as_a_choice_are_shown_back_as_that_choice(
    shipped: LoadedProgram,
) -> None:
    """An outside tester's finding: the country typed with a town and a hospital stayed, word
    for word, in the transcript the page shows again, after "this isn't kept"."""
    runtime = make_runtime(shipped)
    await runtime.handle("s1", Start("en"))
    await runtime.handle("s1", Text("i want to die"))
    asked = await runtime.handle("s1", ChoicePicked("not_now"))
    assert asked.messages[-1].key == "safety.services.country"
    reply = await runtime.handle("s1", Text("im in the uk, in leeds near st james hospital"))
    assert reply.said == "United Kingdom"
    assert reply.state is not None and reply.state.slots.get("country") == "gb"


async def test_typed_words_taken_as_one_of_the_answers_are_shown_as_typed(
    shipped: LoadedProgram,
) -> None:
    """The twenty-second and twenty-third retests: "kinda" was shown back as "I'm not sure",
    and *no me dejes sola porfa* as "Yes, I'm in danger now": words the person never wrote.
    An answer typed in one's own words is shown as typed (as screened); only a value of the
    question's slot (a country, a number) is shown as that value."""
    runtime = make_runtime(shipped)
    await runtime.handle("s1", Start("en"))
    asked = await runtime.handle("s1", Text("sometimes i think theres no point anymore"))
    assert asked.messages[-1].key == "safety.suicide.check"
    kinda = await runtime.handle("s1", Text("kinda"))
    assert kinda.said == "kinda"
    assert kinda.messages[0].key == "safety.suicide.acknowledge"  # taken as the answer all the same
    await runtime.handle("s2", Start("es"))
    await runtime.handle("s2", Text("me quiero matar"))
    alone = await runtime.handle("s2", Text("no me dejes sola porfa"))
    assert alone.said == "no me dejes sola porfa"
