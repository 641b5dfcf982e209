"""The runtime: turns in order, actions fulfilled, limits kept, sessions erased."""

from __future__ import annotations

import asyncio
import logging

import pytest

from redirection_bot.dialogue.load import LoadedProgram
from redirection_bot.dialogue.model import CommandName
from redirection_bot.engine import ChoicePicked, CommandGiven, Start, Text
from redirection_bot.render import ShownEnd, ShownHandoff
from redirection_bot.runtime import RuntimeSettings
from redirection_bot.testing import make_runtime


async def test_a_whole_conversation_with_an_action(shipped: LoadedProgram) -> None:
    runtime = make_runtime(shipped)
    reply = await runtime.handle("s1", Start())
    assert reply.messages[0].key == "welcome.hello"
    await runtime.handle("s1", ChoicePicked("stop"))
    await runtime.handle("s1", Text("9"))
    await runtime.handle("s1", Text("I want to be there for my family"))
    reply = await runtime.handle("s1", ChoicePicked("plan"))
    assert [m.key for m in reply.messages][:4] == [
        "plan.title",
        "plan.stage",
        "plan.importance",
        "plan.reasons",
    ]
    assert reply.messages[1].text == "Where I am: I want to stop"


async def test_plan_text_is_built_on_demand(shipped: LoadedProgram) -> None:
    runtime = make_runtime(shipped)
    assert await runtime.plan_text("nobody") is None
    await runtime.handle("s1", Start())
    await runtime.handle("s1", ChoicePicked("stop"))
    plan = await runtime.plan_text("s1")
    assert plan == "My plan\n\nWhere I am: I want to stop\n"


async def test_too_long_messages_get_a_polite_reply_and_nothing_is_lost(
    shipped: LoadedProgram,
) -> None:
    runtime = make_runtime(shipped, RuntimeSettings(max_text_length=50))
    await runtime.handle("s1", Start())
    before = await runtime.state("s1")
    reply = await runtime.handle("s1", Text("x" * 51))
    assert [m.key for m in reply.messages] == ["engine.too_long", "welcome.stage.question"]
    after = await runtime.state("s1")
    assert after is not None and before is not None
    assert after.at == before.at and after.slots == before.slots


async def test_hostile_text_is_shown_cleaned(shipped: LoadedProgram) -> None:
    runtime = make_runtime(shipped)
    await runtime.handle("s1", Start())
    await runtime.handle("s1", ChoicePicked("stop"))
    await runtime.handle("s1", Text("7"))
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
    runtime = make_runtime(shipped)
    await runtime.handle("s1", Start())
    await runtime.handle("s1", CommandGiven(CommandName.HELP))
    reply = await runtime.handle("s1", ChoicePicked("person"))
    assert ShownHandoff("asked", "normal", "support") in reply.shown


async def test_turns_of_one_session_are_handled_in_order(shipped: LoadedProgram) -> None:
    runtime = make_runtime(shipped)
    await runtime.handle("s1", Start())
    replies = await asyncio.gather(
        runtime.handle("s1", ChoicePicked("stop")),
        runtime.handle("s1", Text("8")),
        runtime.handle("s1", Text("for my family")),
    )
    assert [r.messages[-1].key for r in replies] == [
        "motivation.importance.question",
        "motivation.reasons.question",
        "menu.question",
    ]


async def test_reloaded_program_does_not_break_running_sessions(shipped: LoadedProgram) -> None:
    from dataclasses import replace

    runtime = make_runtime(shipped)
    await runtime.handle("old", Start())
    runtime.reload(replace(shipped, program=replace(shipped.program, version="0.2.0")))
    reply = await runtime.handle("old", ChoicePicked("stop"))
    assert reply.messages[0].key == "welcome.to_motivation"
    new = await runtime.handle("new", Start())
    assert new.state is not None and new.state.program_version == "0.2.0"


async def test_logs_carry_no_content(
    shipped: LoadedProgram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    runtime = make_runtime(shipped)
    await runtime.handle("session-secret-id", Start())
    await runtime.handle("session-secret-id", ChoicePicked("worried"))
    await runtime.handle("session-secret-id", Text("my neighbour Jane Doe 07700 900123"))
    text = caplog.text
    assert "turn handled" in text
    for secret in ("session-secret-id", "Jane", "07700", "worried", "neighbour"):
        assert secret not in text
