"""The program's own actions go through the same seam as rasa-sdk's."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from redirection_bot.engine import ActionResult, new_state
from redirection_bot.operations.evaluation import MemoryCounts
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store.memory import MemoryStore
from redirection_bot.store.resume import RESUME_ACTION, ResumeKeys, ResumeVault
from redirection_bot.turn.actions import ActionCall, AfterTurn
from redirection_bot.turn.builtin_actions import BuiltInActions
from redirection_bot.work_lane import LaneFull, WorkLane

_T = TypeVar("_T")


class Recording:
    """A stand-in for the rasa-sdk runner: records what reaches it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def run(self, call: ActionCall) -> ActionResult:
        self.calls.append(call.action)
        return ActionResult(call.action)


async def test_the_resume_phrase_is_given_here_and_parks_after_the_turn(
    shipped: LoadedProgram,
) -> None:
    others = Recording()
    actions = BuiltInActions(others, ResumeVault(MemoryStore(), cost=2**4), MemoryCounts())
    after = AfterTurn()
    state = new_state(shipped.program)
    call = ActionCall(RESUME_ACTION, state, "tag", shipped.program, after)
    result = await actions.run(call)
    assert [message.key for message in result.messages] == [ResumeKeys.PHRASE]
    assert after.park_under is not None  # the runtime parks the saved turn under it
    assert others.calls == []
    await actions.run(ActionCall("action_services", state, "tag", shipped.program))
    assert others.calls == ["action_services"]


class FullLane(WorkLane):
    """A lane with every place taken and its queue full."""

    async def run(self, work: Callable[[], _T], rank: int = 0) -> _T:
        raise LaneFull


async def test_no_phrase_is_given_or_parked_while_too_many_phrases_are_waiting(
    shipped: LoadedProgram,
) -> None:
    vault = ResumeVault(MemoryStore(), cost=2**4, lane=FullLane())
    actions = BuiltInActions(Recording(), vault, MemoryCounts())
    after = AfterTurn()
    call = ActionCall(RESUME_ACTION, new_state(shipped.program), "tag", shipped.program, after)
    result = await actions.run(call)
    assert result.failed and not result.messages  # "something went wrong, let's carry on"
    assert after.park_under is None
