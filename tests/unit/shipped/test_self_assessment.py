"""The self-assessment part: what My plan and plan.txt show of it, and what the logs never do."""

from __future__ import annotations

import logging

import pytest

from redirection_bot.authoring.testing import make_runtime
from redirection_bot.engine import ChoicePicked, Start, Text
from redirection_bot.program.load import LoadedProgram
from redirection_bot.turn.runtime import Runtime

ANSWERS = ("several", "more_time", "done", "8", "most", "alone_night", "done", "blocker", "done")


async def through_the_self_check(runtime: Runtime, session: str) -> None:
    """Welcome, menu, then every question answered: several times a week, urges at 8."""
    await runtime.handle(session, Start())
    for choice in ("go_on", "go_on", "curious", "no_thanks", "menu", "self_assessment", "begin"):
        await runtime.handle(session, ChoicePicked(choice))
    for answer in ANSWERS:
        event = Text(answer) if answer.isdigit() else ChoicePicked(answer)
        await runtime.handle(session, event)


async def test_the_plan_says_where_i_started_in_words_without_frequency_or_urges(
    shipped: LoadedProgram,
) -> None:
    runtime = make_runtime(shipped)
    await through_the_self_check(runtime, "s1")
    plan = await runtime.plan_text("s1")
    assert plan is not None
    assert "Where I started, changes I had noticed: I spend more time on it" in plan
    assert "Where I started, my free time online on a usual day: Most of my free time" in plan
    assert "Where I started, my hardest moments: Alone late at night" in plan
    assert "Where I started, what had already helped me: Blocking software or filters" in plan
    assert "Several times a week" not in plan
    assert "8" not in plan.split("If I ever think")[0]  # no urge number above the crisis lines


async def test_the_answers_never_reach_the_logs(
    shipped: LoadedProgram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    runtime = make_runtime(shipped)
    await through_the_self_check(runtime, "s1")
    await runtime.plan_text("s1")
    logged = caplog.text.casefold()
    assert "turn handled" in logged  # the turns were logged, as events
    for answer in ("several", "more_time", "alone_night", "blocker", "most of my free time"):
        assert answer not in logged
