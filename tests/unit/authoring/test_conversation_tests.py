"""Conversation tests that cannot pass without testing: a choice the bot does not offer, a
locale the program does not have and a mistyped step all fail, located; and what a clinician
reads in the coverage report (total, `if` arms, per locale, lines, a minimum for CI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from redirection_bot.authoring.testing import write_program
from redirection_bot.cli import main

FLOW = """\
flow: main
start: ask
nodes:
  ask:
    say: main.question
    input: mood
    next: check
  check:
    if:
      - when: mood == "good"
        next: glad
    else:
      next: bye
  glad:
    say: main.glad
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
  glad: "Glad to hear it."
  bye: "Bye, you said %{mood}."
"""
}


def run_tests(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tests: str,
    *options: str,
) -> tuple[int, str]:
    write_program(tmp_path, flows={"main": FLOW}, locales=TEXTS)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tests.yaml").write_text(tests, encoding="utf-8")
    code = main(["test", "tests.yaml", *options])
    return code, capsys.readouterr().out


GOOD = """\
  - name: a good day
    steps:
      - choose: good
      - bot: main.glad
      - end: true
"""


def test_choosing_what_the_bot_does_not_offer_fails_and_names_what_it_offers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tests = "tests:\n  - name: a typo\n    steps:\n      - choose: goood\n      - at: main.ask\n"
    code, out = run_tests(tmp_path, monkeypatch, capsys, tests)
    assert code == 1
    assert (
        "FAIL tests.yaml:4:9: a typo: cannot choose `goood`: the bot offers [good, bad] "
        "(did you mean `good`?)" in out
    )


@pytest.mark.parametrize(("locale", "hint"), [("EN", "(did you mean `en`?)"), ("pt", "")])
def test_a_locale_the_program_lacks_fails_at_its_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    locale: str,
    hint: str,
) -> None:
    tests = f"tests:\n  - name: other language\n    locale: {locale}\n    steps:\n      - choose: good\n"
    code, out = run_tests(tmp_path, monkeypatch, capsys, tests)
    assert code == 1
    assert (
        f"FAIL tests.yaml:3:13: other language: `{locale}` is not a locale of this program" in out
    )
    assert hint in out and "its locales are: en" in out


def test_a_mistyped_step_is_located_with_a_suggestion_and_the_other_tests_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tests = "tests:\n  - name: typo\n    steps:\n      - chose: good\n" + GOOD
    code, out = run_tests(tmp_path, monkeypatch, capsys, tests)
    assert code == 1
    assert "tests.yaml:4:9: error: `chose` is not a kind of step (did you mean `choose`?)" in out
    assert "PASS tests.yaml:5:5 a good day" in out
    assert "1 passed, 0 failed; 1 problem(s) in the test files" in out


def test_failing_tests_do_not_count_towards_coverage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    failing = GOOD.replace("- end: true", "- at: main.ask").replace("a good day", "wrong")
    code, out = run_tests(tmp_path, monkeypatch, capsys, "tests:\n" + failing, "--coverage")
    assert code == 1
    assert "  main: 0/4 nodes, 0%; 0/2 choices, 0%; 0/2 if-arms, 0%" in out


def test_coverage_has_if_arms_lines_a_total_and_locales(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_tests(
        tmp_path, monkeypatch, capsys, "tests:\n" + GOOD, "--coverage", "--coverage-html", "cov"
    )
    assert code == 0
    assert "  main: 4/4 nodes, 100%; 1/2 choices, 50%; 1/2 if-arms, 50%" in out
    assert "    choices not taken: ask:bad (dialogues/flows/main.yaml:6)" in out
    assert "    if-arms not taken: check: else (dialogues/flows/main.yaml:8)" in out
    # main: 4 nodes + 1 choice + 1 arm of 8; helpdesk: 0 of its 2 nodes
    assert "  overall: 6/10, 60.0%" in out
    assert "  in en: 6/10, 60.0%" in out
    page = (tmp_path / "cov" / "index.html").read_text(encoding="utf-8")
    assert '<strong id="coverage-total">60.0%</strong>' in page
    assert "<code>check: else (dialogues/flows/main.yaml:8)</code>" in page


def test_a_minimum_coverage_fails_the_run_below_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_tests(tmp_path, monkeypatch, capsys, "tests:\n" + GOOD, "--min-coverage", "80")
    assert code == 1
    assert "coverage 60.0% below the minimum of 80%" in out
    code, out = run_tests(tmp_path, monkeypatch, capsys, "tests:\n" + GOOD, "--min-coverage", "60")
    assert code == 0
    assert "coverage 60.0% meets the minimum of 60%" in out


def test_a_minimum_per_flow_names_the_flow_whose_choices_fall_below_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The overall figure (60%) meets 55%, but `main` alone has 1 of its 2 choices taken.
    options = ("--min-coverage", "55", "--min-choice-coverage", "55")
    code, out = run_tests(tmp_path, monkeypatch, capsys, "tests:\n" + GOOD, *options)
    assert code == 1
    assert "coverage 60.0% meets the minimum of 55%" in out
    assert (
        "choices: main 1/2, 50.0%, below the minimum of 55%; "
        "not taken: ask:bad (dialogues/flows/main.yaml:6)" in out
    )
    code, out = run_tests(
        tmp_path, monkeypatch, capsys, "tests:\n" + GOOD, "--min-choice-coverage", "50"
    )
    assert code == 0
    assert "choices: every flow meets the minimum of 50%" in out


def test_a_helpline_that_is_neither_connected_nor_none_is_located(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tests = "tests:\n  - name: alone\n    helpline: off\n    steps:\n      - choose: good\n"
    code, out = run_tests(tmp_path, monkeypatch, capsys, tests + GOOD)
    assert code == 1
    assert "tests.yaml:3:15: error: `helpline` is `connected` or `none`, not `off`" in out


def test_a_partner_id_that_no_link_could_carry_is_located(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tests = "tests:\n  - name: door\n    partner: Big Site!\n    steps:\n      - choose: good\n"
    code, out = run_tests(tmp_path, monkeypatch, capsys, tests + GOOD)
    assert code == 1
    assert "tests.yaml:3:14: error: a partner id is lower-case letters" in out
    assert "PASS" in out  # the file's other test still runs


def test_coming_back_without_resume_words_given_fails_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tests = "tests:\n  - name: no words\n    steps:\n      - come_back: with my words\n"
    code, out = run_tests(tmp_path, monkeypatch, capsys, tests)
    assert code == 1
    assert "no words: `come_back` needs resume words given earlier in the test" in out
