"""The labelled evaluation sets: the shipped rules meet the targets on them in every locale,
the sets are as large as promised, and the figures mean what docs/safety.md says."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from redirection_bot.diagnostics import Diagnostics
from redirection_bot.safety.categories import RiskCategory
from redirection_bot.safety.evaluation import (
    NEUTRAL_PRECISION_TARGET,
    RECALL_TARGET,
    EvalSet,
    evaluate,
    load_evaluation,
)
from redirection_bot.safety.rules import load_rules_folder
from redirection_bot.safety.screen import Screener
from tests.helpers import REPOSITORY

SETS = REPOSITORY / "tests" / "safety"
MINIMUM_POSITIVES = {"en": 40, "es": 15, "fi": 15}


@pytest.fixture(scope="module")
def screener() -> Screener:
    diagnostics = Diagnostics()
    rules = load_rules_folder(
        REPOSITORY / "dialogues" / "safety", ["en", "es", "fi"], [], diagnostics
    )
    return Screener(rules)


def labelled(path: Path) -> EvalSet:
    diagnostics = Diagnostics()
    found = load_evaluation(path, path.name, diagnostics)
    assert [d.format() for d in diagnostics.items] == []
    return found


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
def test_the_rules_meet_the_targets_on_the_labelled_set(screener: Screener, locale: str) -> None:
    result = evaluate(screener, labelled(SETS / f"{locale}.yaml").items, locale)
    assert result.meets(RECALL_TARGET, NEUTRAL_PRECISION_TARGET), "\n".join(result.report())
    assert result.check_agreed == result.check_expected


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
def test_each_set_is_as_large_as_promised(locale: str) -> None:
    items = labelled(SETS / f"{locale}.yaml").items
    positives = Counter(category for item in items for category in item.expected)
    assert all(positives[category] >= MINIMUM_POSITIVES[locale] for category in RiskCategory)
    assert sum(1 for item in items if not item.expected) >= 90
    held_out = labelled(SETS / "held_out" / f"{locale}.yaml").items
    assert len(held_out) >= 60


def test_figures_are_counted_as_documented(screener: Screener, tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(
        "locale: en\n"
        'suicide: ["i want to die", "i feel fine today"]\n'
        'none: ["hello", "is this anonymous", "i want to kill myself"]\n'
        'several: [{text: "im 15 and i want to die", categories: [minor, suicide]}]\n',
        encoding="utf-8",
    )
    result = evaluate(screener, labelled(path).items, "en")
    suicide = result.figures[RiskCategory.SUICIDE]
    assert (suicide.true_positives, suicide.false_negatives, suicide.false_positives) == (2, 1, 1)
    assert suicide.recall == pytest.approx(2 / 3)
    assert suicide.precision == pytest.approx(2 / 3)
    assert result.neutral_precision == pytest.approx(2 / 3)
    assert not result.meets(RECALL_TARGET, NEUTRAL_PRECISION_TARGET)
    assert any("i feel fine today" in line for line in result.report())


def test_a_malformed_set_is_reported_where_it_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        'locale: en\nsucide: ["x"]\nseveral: [{text: "y", categories: [minr]}]\n',
        encoding="utf-8",
    )
    diagnostics = Diagnostics()
    load_evaluation(path, "bad.yaml", diagnostics)
    assert [d.format() for d in diagnostics.items] == [
        "bad.yaml:2:1: error: `sucide` is not a field of an evaluation file (did you mean"
        " `suicide`?)",
        "bad.yaml:3:36: error: `minr` is not a risk category (did you mean `minor`?)"
        " (categories: suicide, child_at_risk, illegal_request, human, distress, minor,"
        " identifying_info)",
    ]
