"""The clinicians' conversation tests keep taking most choices of every flow of the shipped
program: a new flow, or new choices, without tests of what the person then sees fail here."""

from __future__ import annotations

import pytest

from redirection_bot.cli import main
from tests.helpers import REPOSITORY

MIN_CHOICE_COVERAGE = 80
"""Percent of each flow's choices the tests must take (docs/authoring.md, "Conversation tests")."""


def test_the_conversation_tests_pass_and_take_most_choices_of_every_flow(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPOSITORY)
    code = main(["test", "--min-choice-coverage", str(MIN_CHOICE_COVERAGE)])
    out = capsys.readouterr().out
    below = [line for line in out.splitlines() if line.startswith(("FAIL", "choices:"))]
    assert code == 0, "\n".join(below)
    assert f"choices: every flow meets the minimum of {MIN_CHOICE_COVERAGE}%" in out
