"""Cross-validation on the tuning split: the figures the training's settings are chosen by."""

from __future__ import annotations

import shutil
from pathlib import Path

from redirection_bot.safety.categories import RiskCategory
from redirection_bot.safety.crossval import cross_validate

REPOSITORY = Path(__file__).resolve().parents[3]


def test_a_larger_neutral_budget_raises_more_and_finds_no_less(tmp_path: Path) -> None:
    corpus = tmp_path / "safety"
    (corpus / "tuning").mkdir(parents=True)
    shutil.copy(REPOSITORY / "tests" / "safety" / "tuning" / "en.yaml", corpus / "tuning")
    measured = cross_validate(corpus, REPOSITORY / "dialogues", [1.0, 3.0])
    (narrow,), (wide,) = measured[1.0], measured[3.0]
    assert narrow.locale == wide.locale == "en"
    assert 0 < narrow.neutral_raised <= wide.neutral_raised < 0.5
    assert 0.5 < narrow.overall <= wide.overall
    assert narrow.recall[RiskCategory.SUICIDE] <= wide.recall[RiskCategory.SUICIDE]
