"""`redirection-bot screen`, run as a real process, as a clinician tuning the rules would."""

from __future__ import annotations

import json

import pytest

from tests.integration.test_cli import run


def test_screen_prints_one_json_object_per_line() -> None:
    done = run(
        "screen", "--locale", "en", stdin="i want to die\nis this anonymous?\nim not suicidal\n"
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines == [
        {"text": "i want to die", "categories": ["suicide"], "check": []},
        {"text": "is this anonymous?", "categories": [], "check": []},
        {"text": "im not suicidal", "categories": ["suicide"], "check": ["suicide"]},
    ]


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
def test_the_shipped_rules_meet_the_targets_on_the_labelled_sets(locale: str) -> None:
    done = run("screen", "--locale", locale, "--eval", f"tests/safety/{locale}.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "targets met" in done.stdout
    assert "confusion (labelled -> raised):" in done.stdout


def test_a_target_not_met_exits_1_and_names_the_misses() -> None:
    done = run("screen", "--eval", "tests/safety/held_out/en.yaml", "--min-recall", "1.01")
    assert done.returncode == 1
    assert "targets NOT met" in done.stdout
    assert "locale en" in done.stdout


def test_a_locale_that_contradicts_the_set_is_an_error() -> None:
    done = run("screen", "--locale", "fi", "--eval", "tests/safety/en.yaml")
    assert done.returncode == 1
    assert "labelled `locale: en`" in done.stderr


def test_a_locale_the_program_does_not_have_is_refused() -> None:
    """A clinician who mistypes the locale must not read screening results as if for it."""
    done = run("screen", "--locale", "xx", stdin="I feel tired today\n")
    assert done.returncode == 2
    assert "no locale 'xx' (it has en, es, fi)" in done.stderr
    assert done.stdout == ""
