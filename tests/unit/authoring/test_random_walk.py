"""Random walks through the program (``redirection-bot walk``): what they reach is what a
person pressing the offered choices would meet; what they never reach is listed where it is
written; the words they type never raise a risk."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from redirection_bot.authoring.random_walk import walk_locale
from redirection_bot.authoring.testing import load, make_runtime, write_program
from redirection_bot.cli import main
from tests.helpers import REPOSITORY


def test_a_small_program_is_walked_to_its_end_and_labels_are_not_counted_as_messages(
    tmp_path: Path,
) -> None:
    loaded = load(write_program(tmp_path), tmp_path)
    report = asyncio.run(walk_locale(make_runtime(loaded), "en", walks=10, seed=3))
    assert {"main.question", "main.bye"} <= report.reached
    # "Good" and "Bad" are labels of the choices, not messages the bot says
    assert "main.mood_good" not in report.reached | set(report.never_reached)
    assert report.walks == 10 and report.turns >= 10


def test_the_shipped_program_is_walked_in_english_without_raising_a_risk(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPOSITORY)
    code = main(["walk", "--walks", "3", "--locale", "en", "--seed", "7", "--missing"])
    out = capsys.readouterr().out
    assert code == 0
    first, *missing = out.splitlines()
    assert first.startswith("en: ") and "distinct messages reached of" in first
    assert "(3 walks," in first and "seed 7" in first
    # the walk types only neutral words, so no safety flow is started by screening
    for first_words in ("safety.suicide.acknowledge", "safety.child_at_risk.acknowledge"):
        flow = first_words.split(".")[1]
        assert any(
            line.startswith(f"  {first_words} (dialogues/flows/safety_{flow}.yaml:")
            for line in missing
        )
    assert not any(line.startswith("  welcome.hello ") for line in missing)


def test_a_locale_the_program_lacks_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPOSITORY)
    assert main(["walk", "--walks", "1", "--locale", "pt"]) == 2
    said = capsys.readouterr()
    assert "error: the program has no locale 'pt' (it has en, es, fi)" in said.err
    assert said.out == ""  # as chat and screen say it
