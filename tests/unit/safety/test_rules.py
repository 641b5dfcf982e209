"""Loading the clinicians' screening rules: every mistake at its file, line and column, and
the shipped rules clean in every locale."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from redirection_bot.diagnostics import Diagnostics
from redirection_bot.safety.categories import RiskCategory
from redirection_bot.safety.normalise import Letters
from redirection_bot.safety.rules import load_rules_folder
from tests.helpers import REPOSITORY

EVERY = list(RiskCategory)
COMPLETE = "".join(f"  {c}:\n    phrases: [{c}]\n" for c in RiskCategory)


def problems(tmp_path: Path, text: str, required: list[RiskCategory] | None = None) -> list[str]:
    folder = tmp_path / "safety"
    folder.mkdir(exist_ok=True)
    (folder / "en.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    diagnostics = Diagnostics()
    load_rules_folder(
        folder, ["en"], EVERY if required is None else required, diagnostics, tmp_path
    )
    return [d.format() for d in diagnostics.items]


def test_the_shipped_rules_are_clean_in_every_locale() -> None:
    diagnostics = Diagnostics()
    rules = load_rules_folder(
        REPOSITORY / "dialogues" / "safety", ["en", "es", "fi"], EVERY, diagnostics, REPOSITORY
    )
    assert [d.format() for d in diagnostics.items] == []
    assert set(rules) == {"en", "es", "fi"}
    assert rules["fi"].letters is Letters.TWO
    assert all(rules[locale].phrase_count() > 100 for locale in rules)


def test_a_clean_file_has_no_problems(tmp_path: Path) -> None:
    assert problems(tmp_path, "locale: en\ncategories:\n" + COMPLETE) == []


def test_a_phrase_mistake_is_pointed_at_its_character(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        'locale: en\ncategories:\n  suicide:\n    phrases: ["(end|take my life"]\n'
        + COMPLETE.split("  child_at_risk:")[1].join(["  child_at_risk:", ""]),
        required=[],
    )
    assert found == ["safety/en.yaml:4:33: error: a phrase: a bracket is not closed: add `)`"]


def test_an_unknown_category_gets_a_did_you_mean(tmp_path: Path) -> None:
    found = problems(tmp_path, "locale: en\ncategories:\n  sucide:\n    phrases: [x]\n", [])
    assert found == [
        "safety/en.yaml:3:3: error: `sucide` is not a risk category (did you mean `suicide`?)"
        " (categories: suicide, child_at_risk, illegal_request, human, distress, minor,"
        " identifying_info)"
    ]


def test_an_unknown_word_list_is_pointed_at(tmp_path: Path) -> None:
    text = (
        "locale: en\nwords:\n  child: [kid]\ncategories:\n"
        '  child_at_risk:\n    phrases: ["hurt a {chlid}"]\n'
    )
    assert problems(tmp_path, text, []) == [
        "safety/en.yaml:3:3: warning: the word list `child` is never used",
        "safety/en.yaml:6:23: error: there is no word list `chlid` under `words`"
        " (did you mean `child`?)",
    ]


def test_a_word_list_cannot_use_another(tmp_path: Path) -> None:
    text = (
        'locale: en\nwords:\n  a: [x]\n  b: ["{a} y"]\ncategories:\n'
        '  suicide:\n    phrases: ["{a}", "{b}"]\n'
    )
    assert "safety/en.yaml:4:8: error: a word list cannot use another list" in "\n".join(
        problems(tmp_path, text, [])
    )


def test_hidden_details_belong_to_identifying_info_only(tmp_path: Path) -> None:
    text = 'locale: en\ncategories:\n  suicide:\n    phrases: ["my name is {words}"]\n'
    assert problems(tmp_path, text, []) == [
        "safety/en.yaml:4:16: error: `{words}` marks a personal detail to hide; it belongs in"
        " `identifying_info` only"
    ]


def test_every_required_category_needs_phrases(tmp_path: Path) -> None:
    found = problems(tmp_path, "locale: en\ncategories:\n  suicide:\n    phrases: [die]\n")
    assert "safety/en.yaml:3:3: error: `child_at_risk` has no phrases" in "\n".join(found)
    assert not any("`identifying_info` has no phrases" in line for line in found)


def test_the_locale_must_match_the_file_name(tmp_path: Path) -> None:
    text = "locale: es\nrepeated_letters: three\ncategories:\n" + COMPLETE
    assert problems(tmp_path, text) == [
        "safety/en.yaml:1:9: error: this file is named for `en` but says `locale: es`",
        "safety/en.yaml:2:19: error: `repeated_letters` is `one` (every run of a letter reads as"
        " one) or `two` (only runs of three or more are shortened, to two)",
    ]


def test_a_duplicate_phrase_is_a_warning(tmp_path: Path) -> None:
    text = 'locale: en\ncategories:\n  suicide:\n    phrases: ["die", "die"]\n'
    assert problems(tmp_path, text, []) == [
        "safety/en.yaml:4:22: warning: this phrase is written twice here (first at line 4)"
    ]


def test_a_locale_without_rules_is_an_error_when_the_program_screens(tmp_path: Path) -> None:
    (tmp_path / "safety").mkdir()
    diagnostics = Diagnostics()
    load_rules_folder(tmp_path / "safety", ["en"], EVERY, diagnostics, tmp_path)
    assert [d.format() for d in diagnostics.items] == [
        "safety/en.yaml:1:1: error: there are no screening rules for `en`: messages in it would"
        " not be screened for risk; write this file"
    ]


@pytest.mark.parametrize("field", ["hedges:\n  sometimes: [x]\n", "colour: blue\n"])
def test_unknown_fields_are_errors(tmp_path: Path, field: str) -> None:
    found = problems(tmp_path, "locale: en\n" + field + "categories:\n" + COMPLETE)
    assert len(found) == 1 and "is not a field of" in found[0]
