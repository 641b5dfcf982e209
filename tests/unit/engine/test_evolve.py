"""``evolve`` copies a frozen dataclass as ``dataclasses.replace`` does, faster."""

from __future__ import annotations

import dataclasses

import pytest

from redirection_bot.dialogue.model import Place
from redirection_bot.engine.evolve import evolve
from redirection_bot.engine.state import SessionState, Waiting


def test_evolve_gives_what_replace_gives_and_leaves_the_original() -> None:
    state = SessionState("v1", "en", slots={"mood": "good"}, turn=4, done=("motivation",))
    for changes in (
        {},
        {"turn": 5},
        {"waiting": Waiting.ANSWER, "at": Place("main", "ask"), "misses": 2},
        {"slots": {}, "done": (), "locale": "fi"},
    ):
        copy = evolve(state, **changes)
        assert copy == dataclasses.replace(state, **changes)
        assert copy is not state and type(copy) is SessionState
    assert state.turn == 4 and state.locale == "en"


def test_a_field_the_class_does_not_have_is_refused() -> None:
    with pytest.raises(TypeError, match="SessionState has no field mood"):
        evolve(SessionState("v1", "en"), mood="good")  # type: ignore[call-arg]


def test_a_class_that_checks_itself_after_init_still_checks() -> None:
    @dataclasses.dataclass(frozen=True)
    class Checked:
        count: int

        def __post_init__(self) -> None:
            if self.count < 0:
                raise ValueError("negative")

    with pytest.raises(ValueError, match="negative"):
        evolve(Checked(1), count=-1)
