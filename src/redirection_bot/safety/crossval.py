"""How screening would do on words it never learnt, measured on the tuning split alone:
``python -m redirection_bot.safety.crossval`` (from a checkout).

Each line is screened by the rules and by a model trained on the other folds (``train``'s own
cross-validation), with thresholds chosen from out-of-fold scores as ``train`` chooses them,
and, with ``--scales``, with every category's neutral budget scaled. It prints, per locale,
the recall of each category, overall, and the share of neutral lines raising anything: the
figures used to choose the training's settings (docs/safety.md), never the frozen split or the
fresh sets, which are only measured.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from redirection_bot.safety.categories import RiskCategory
from redirection_bot.safety.evaluation import EvalItem, Evaluation, evaluate
from redirection_bot.safety.train import (
    Example,
    examples,
    folds_of,
    learnt_corpus,
    out_of_fold,
    rules_screener,
    thresholds_for,
)

SHOWN = (RiskCategory.SUICIDE, RiskCategory.CHILD_AT_RISK, RiskCategory.ILLEGAL_REQUEST)


@dataclass(frozen=True, slots=True)
class LocaleFigures:
    locale: str
    recall: dict[RiskCategory, float]
    overall: float
    neutral_raised: float


def figures(results: dict[str, Evaluation]) -> list[LocaleFigures]:
    shown = []
    for locale, result in sorted(results.items()):
        recall = {c: result.figures[c].recall or 0.0 for c in SHOWN}
        found = sum(f.true_positives for f in result.figures.values())
        total = sum(f.labelled for f in result.figures.values())
        raised = result.neutral_flagged / result.neutral_total if result.neutral_total else 0.0
        shown.append(LocaleFigures(locale, recall, found / total if total else 0.0, raised))
    return shown


def cross_validate(
    root: Path, dialogues: Path, scales: Sequence[float]
) -> dict[float, list[LocaleFigures]]:
    lines = learnt_corpus(root)
    rules = rules_screener(dialogues)
    data: list[Example] = examples([item for _locale, item in lines], rules)
    scores, models = out_of_fold(data)
    index_folds = folds_of(list(range(len(lines))))
    measured: dict[float, list[LocaleFigures]] = {}
    for scale in scales:
        thresholds = tuple(thresholds_for(data, scores, scale))
        results: dict[str, Evaluation] = {}
        for model, held in zip(models, index_folds, strict=True):
            model.thresholds = thresholds
            rules.model = model
            by_locale: dict[str, list[EvalItem]] = {}
            for position in held:
                locale, item = lines[position]
                by_locale.setdefault(locale, []).append(item)
            for locale, items in by_locale.items():
                add(results, locale, evaluate(rules, tuple(items), locale))
        measured[scale] = figures(results)
    return measured


def add(results: dict[str, Evaluation], locale: str, more: Evaluation) -> None:
    """Sum ``more`` into the figures held for ``locale``."""
    held = results.get(locale)
    if held is None:
        results[locale] = more
        return
    for category, counted in more.figures.items():
        into = held.figures[category]
        into.true_positives += counted.true_positives
        into.false_negatives += counted.false_negatives
        into.false_positives += counted.false_positives
    held.neutral_total += more.neutral_total
    held.neutral_flagged += more.neutral_flagged


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    repository = Path(__file__).resolve().parents[3]
    parser.add_argument("--corpus", type=Path, default=repository / "tests" / "safety")
    parser.add_argument("--dialogues", type=Path, default=repository / "dialogues")
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0])
    args = parser.parse_args(argv)
    for scale, rows in cross_validate(args.corpus, args.dialogues, args.scales).items():
        print(f"neutral budgets x{scale:g}")
        for row in rows:
            recalls = " ".join(f"{c.value} {row.recall[c]:.3f}" for c in SHOWN)
            print(
                f"  {row.locale}: overall {row.overall:.3f}  {recalls}  "
                f"neutral raised {row.neutral_raised:.1%}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
