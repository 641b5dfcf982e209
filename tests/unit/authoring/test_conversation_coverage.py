"""Coverage of conversation tests: the nodes they pass through and the choices they take,
whether a test presses a button or types the words of a choice; as text and as HTML."""

from __future__ import annotations

from pathlib import Path

import pytest

from redirection_bot.authoring.conversation_coverage import node_coverage
from redirection_bot.authoring.conversation_tests import load_scripts, run_script
from redirection_bot.authoring.coverage_report import coverage_html
from redirection_bot.authoring.testing import load, make_runtime, write_program
from redirection_bot.cli import main
from redirection_bot.diagnostics import Diagnostics

FLOW = """\
flow: main
start: ask
nodes:
  ask:
    say: main.question
    input: mood
    choices:
      - id: later
        label: main.later
        next: bye
    next: bye
  bye:
    say: main.bye
    end: true
"""
TEXTS = {
    "main.en.yml": """\
en:
  question: "How are you?"
  mood_good: "Good"
  mood_bad: "Bad"
  later: "Ask me later"
  bye: "Bye, you said %{mood}."
"""
}


def scripts(tmp_path: Path, steps: str) -> Path:
    path = tmp_path / "tests.yaml"
    path.write_text(f"tests:\n  - name: one\n    steps:\n{steps}", encoding="utf-8")
    return path


async def coverage_of(tmp_path: Path, steps: str) -> list[tuple[str, int, int, tuple[str, ...]]]:
    loaded = load(write_program(tmp_path, flows={"main": FLOW}, locales=TEXTS), tmp_path)
    found = load_scripts(scripts(tmp_path, steps), Diagnostics())
    results = [await run_script(make_runtime(loaded), script) for script in found]
    assert all(result.passed for result in results), results
    main_flow = next(f for f in node_coverage(loaded.program, results) if f.flow == "main")
    return [
        (
            main_flow.flow,
            main_flow.choices_picked,
            main_flow.choices_total,
            main_flow.missing_choices,
        )
    ]


async def test_a_pressed_button_covers_its_choice(tmp_path: Path) -> None:
    found = await coverage_of(tmp_path, "      - choose: good\n      - end: true\n")
    assert found == [("main", 1, 3, ("ask:bad", "ask:later"))]


async def test_typed_words_cover_the_choice_they_match(tmp_path: Path) -> None:
    found = await coverage_of(tmp_path, "      - say: ask me LATER\n      - end: true\n")
    assert found == [("main", 1, 3, ("ask:good", "ask:bad"))]


async def test_words_that_match_no_choice_cover_none(tmp_path: Path) -> None:
    found = await coverage_of(tmp_path, "      - say: purple\n      - at: main.ask\n")
    assert found == [("main", 0, 3, ("ask:good", "ask:bad", "ask:later"))]


def test_the_test_command_reports_choices_as_text_and_html(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_program(tmp_path, flows={"main": FLOW}, locales=TEXTS)
    monkeypatch.chdir(tmp_path)
    tests = scripts(tmp_path, "      - choose: bad\n      - end: true\n")

    code = main(["test", str(tests), "--coverage", "--coverage-html", "report"])

    out = capsys.readouterr().out
    assert code == 0
    assert "  main: 2/2 nodes, 100%; 1/3 choices, 33%" in out
    assert (
        "    choices not taken: ask:good (dialogues/flows/main.yaml:6), "
        "ask:later (dialogues/flows/main.yaml:8)" in out
    )
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert (
        "<code>ask:good (dialogues/flows/main.yaml:6)</code>" in page
        and "1 of 1 conversation tests pass" in page
    )


def test_the_html_report_escapes_what_it_shows(tmp_path: Path) -> None:
    page = coverage_html([], [], "<script>alert(1)</script>")
    assert "<script>alert" not in page and "&lt;script&gt;" in page
