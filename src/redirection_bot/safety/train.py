"""Building the second screening layer from the labelled corpus: ``python -m
redirection_bot.safety.train`` (from a checkout) writes ``safety/screening_model.bin``.

The corpus is every labelled set under ``tests/safety/`` **except** the sets kept to measure
(``MEASURED_ONLY``), and except any of its lines that is, word for word, a line of those
sets. Training is deterministic: the examples are taken in the order of their files,
shuffled by a fixed seed, and every number is written with four significant digits, so the
same corpus always gives the same file (a test checks it).

How, in short (docs/safety.md says why): one logistic regression per category against the
rest, by AdaGrad over binary features (``model.features``), features seen in fewer than
``MIN_COUNT`` examples dropped. The threshold of each category is chosen on out-of-fold scores
(``FOLDS``-fold cross-validation on the corpus itself): the lowest score that raises no more
than its ``NEUTRAL_BUDGET`` of the neutral lines, so recall is as high as the false-alarm budget
allows.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from redirection_bot.diagnostics import Diagnostics
from redirection_bot.language.textnorm import fold
from redirection_bot.safety.categories import RiskCategory
from redirection_bot.safety.evaluation import EvalItem, load_evaluation
from redirection_bot.safety.model import MODEL_FILE, SCORED, ScreeningModel, features
from redirection_bot.safety.rules import load_rules_folder
from redirection_bot.safety.screen import Screener

T = TypeVar("T")

SEED = 20261201
EPOCHS = 16
"""Passes over the corpus: 16 gained about a point and a half of out-of-fold recall over 8, 24
little more (docs/safety.md, "Wider fields and longer training")."""
LEARNING_RATE = 0.05
L2 = 1e-5
MIN_COUNT = 2
FOLDS = 4
NEUTRAL_BUDGET = {
    RiskCategory.SUICIDE: 0.06,
    RiskCategory.CHILD_AT_RISK: 0.03,
    RiskCategory.ILLEGAL_REQUEST: 0.03,
    RiskCategory.HUMAN: 0.005,
    RiskCategory.DISTRESS: 0.01,
    RiskCategory.MINOR: 0.01,
    RiskCategory.IDENTIFYING_INFO: 0.005,
}
"""Per category, the share of out-of-fold neutral lines its threshold may raise: most for the
categories where a miss costs most (a check question is a small price for a suicidal person
heard), least where the rules already do well and a false alarm interrupts for little."""
SETTLED = 1e-3
"""An example's gradient for a category smaller than this changes nothing worth the time: its
weights are left as they are (training takes about a third of the time it would)."""
FLOOR = 0.2
"""No threshold is set below this score, whatever the budget allows (0.3 until 2026-12-04,
when a child at risk sat at it: docs/safety.md, "The fifth round")."""
PRUNE = 0.03
"""Weights smaller than this are not written."""
MEASURED_ONLY = (
    "frozen",
    "fresh",
    "fresh2",
    "fresh3",
    "fresh4",
    "fresh5",
    "fresh6",
    "fresh7",
    "fresh8",
    "fresh_help",
)
"""Sets kept to measure the program, never to learn from: the frozen split (written before
any tuning) and the fresh sets (written after the model, tests/safety/fresh*/README.md)."""


@dataclass(frozen=True, slots=True)
class Example:
    features: tuple[str, ...]
    labels: frozenset[int]
    neutral: bool
    answer: bool = False
    """A neutral answer to the program's own questions (``*_answers.yaml``)."""


def corpus_files(root: Path) -> list[Path]:
    """The labelled sets to learn from, in a fixed order; never a set kept to measure."""
    found = sorted(root.rglob("*.yaml"))
    return [
        path
        for path in found
        if not any(name in path.relative_to(root).parts for name in MEASURED_ONLY)
    ]


def measured_files(root: Path) -> list[Path]:
    """The sets kept to measure, in a fixed order."""
    learnt = set(corpus_files(root))
    return [path for path in sorted(root.rglob("*.yaml")) if path not in learnt]


def measured_lines(root: Path) -> frozenset[str]:
    """The lines of the sets kept to measure, folded: a tuning line that is one of them word
    for word ("i want to die", "ok") is not learnt from, or the measure would be in part a
    test on what was learnt. Only their texts are read, never their labels."""
    diagnostics = Diagnostics()
    return frozenset(
        fold(item.text)
        for path in measured_files(root)
        for item in load_evaluation(path, str(path), diagnostics).items
    )


ANSWERS_SUFFIX = "_answers"
"""Files of ordinary answers to the program's questions: held to half the neutral budget."""


def read_corpus_by_locale(paths: Iterable[Path]) -> list[tuple[str, EvalItem]]:
    """The labelled lines of ``paths``, each with its file's locale."""
    items: list[tuple[str, EvalItem]] = []
    diagnostics = Diagnostics()
    for path in paths:
        read = load_evaluation(path, str(path), diagnostics)
        found = read.items
        if path.stem.endswith(ANSWERS_SUFFIX):
            found = tuple(replace(item, answer=True) for item in found)
        items.extend((read.locale or "en", item) for item in found)
    if diagnostics.has_errors():
        raise SystemExit("\n".join(d.format() for d in diagnostics.items))
    return items


def read_corpus(paths: Iterable[Path]) -> list[EvalItem]:
    return [item for _locale, item in read_corpus_by_locale(paths)]


def learnt_corpus(root: Path) -> list[tuple[str, EvalItem]]:
    """What training learns from, with each line's locale: the corpus files' lines, but for
    those that are word for word lines of the sets kept to measure."""
    measured = measured_lines(root)
    return [
        (locale, item)
        for locale, item in read_corpus_by_locale(corpus_files(root))
        if fold(item.text) not in measured
    ]


def examples(items: Sequence[EvalItem], screener: Screener) -> list[Example]:
    """Each item as the model reads it: its words and the word lists (``screener``'s rules)
    they belong to, the earlier messages of a context item with it."""
    index = {category: position for position, category in enumerate(SCORED)}
    found = []
    for item in items:
        text = "\n".join((*item.context, item.text))
        concepts = screener.concepts(text)
        labels = frozenset(index[c] for c in item.expected if c in index)
        found.append(
            Example(tuple(features(text, concepts)), labels, not item.expected, item.answer)
        )
    return found


def rules_screener(dialogues: Path) -> Screener:
    """The rules of every locale in ``dialogues/safety/``, without a model."""
    diagnostics = Diagnostics()
    folder = dialogues / "safety"
    locales = sorted(path.stem for path in folder.glob("*.yaml"))
    rules = load_rules_folder(folder, locales, [], diagnostics)
    if diagnostics.has_errors():
        raise SystemExit("\n".join(d.format() for d in diagnostics.items))
    return Screener(rules)


class _Trainer:
    """One-against-the-rest logistic regressions, sharing the feature rows."""

    def __init__(self, train: Sequence[Example]) -> None:
        counts = Counter(feature for example in train for feature in example.features)
        self.vocabulary = {feature for feature, count in counts.items() if count >= MIN_COUNT}
        self.size = len(SCORED)
        positives = [sum(i in e.labels for e in train) for i in range(self.size)]
        # Rare categories weigh more, so that a few dozen lines are not drowned by the rest.
        self.positive_weight = [
            min(4.0, math.sqrt((len(train) - p) / p)) if p else 1.0 for p in positives
        ]
        self.weights: dict[str, list[float]] = {}
        self.squares: dict[str, list[float]] = {}
        self.bias = [0.0] * self.size
        self.bias_squares = [1e-8] * self.size
        rows = [
            (
                [self.weights.setdefault(f, [0.0] * self.size) for f in kept],
                [self.squares.setdefault(f, [1e-8] * self.size) for f in kept],
                example.labels,
            )
            for example in train
            for kept in [[f for f in example.features if f in self.vocabulary]]
        ]
        shuffle = random.Random(SEED)
        for _epoch in range(EPOCHS):
            shuffle.shuffle(rows)
            for weights, squares, labels in rows:
                self._learn(weights, squares, labels)

    def _learn(
        self, rows: list[list[float]], squares: list[list[float]], labels: frozenset[int]
    ) -> None:
        """One AdaGrad step on one example: ``rows`` are its features' weights, ``squares``
        their summed squared steps."""
        sqrt = math.sqrt
        sums = [sum(column) for column in zip(*rows, strict=True)] if rows else [0.0] * self.size
        for index, total in enumerate(b + s for b, s in zip(self.bias, sums, strict=True)):
            probability = 1 / (1 + math.exp(-max(-30.0, min(30.0, total))))
            positive = index in labels
            gradient = (probability - 1) * self.positive_weight[index] if positive else probability
            if abs(gradient) < SETTLED:
                continue  # learnt already: most categories of most examples after an epoch
            self.bias_squares[index] += gradient * gradient
            self.bias[index] -= LEARNING_RATE * gradient / sqrt(self.bias_squares[index])
            for row, square in zip(rows, squares, strict=True):
                step = gradient + L2 * row[index]
                square[index] += step * step
                row[index] -= LEARNING_RATE * step / sqrt(square[index])

    def model(self, thresholds: Sequence[float]) -> ScreeningModel:
        kept = {
            feature: [round(w, 4) for w in row]
            for feature, row in self.weights.items()
            if any(abs(w) >= PRUNE for w in row)
        }
        return ScreeningModel(kept, [round(b, 4) for b in self.bias], thresholds)


def folds_of(items: Sequence[T]) -> list[list[T]]:
    """The cross-validation folds: every ``FOLDS``-th example, in corpus order."""
    return [list(items[start::FOLDS]) for start in range(FOLDS)]


def out_of_fold(items: Sequence[Example]) -> tuple[list[list[float]], list[ScreeningModel]]:
    """Each example's scores from the model trained on the other folds (in the order of
    ``folds_of``, fold after fold), and those ``FOLDS`` models (thresholds all 1.0)."""
    folds = folds_of(items)
    scores: list[list[float]] = []
    models = []
    for held in range(FOLDS):
        train = [e for fold, part in enumerate(folds) if fold != held for e in part]
        model = _Trainer(train).model([1.0] * len(SCORED))
        scores.extend(model.probabilities(example.features) for example in folds[held])
        models.append(model)
    return scores, models


def thresholds_for(
    items: Sequence[Example], scores: Sequence[list[float]], scale: float = 1.0
) -> list[float]:
    """Per category, the lowest score that keeps out-of-fold neutral lines within
    ``scale`` times its budget (``items`` and ``scores`` in the order of ``folds_of``)."""
    ordered = [example for part in folds_of(items) for example in part]
    lines = [s for e, s in zip(ordered, scores, strict=True) if e.neutral and not e.answer]
    answers = [s for e, s in zip(ordered, scores, strict=True) if e.answer]
    thresholds = []
    for index, category in enumerate(SCORED):
        budget = NEUTRAL_BUDGET[category] * scale
        above = max(_above(lines, index, budget), _above(answers, index, budget / 2))
        thresholds.append(round(max(FLOOR, above + 1e-4), 4))
    return thresholds


def choose_thresholds(items: Sequence[Example]) -> list[float]:
    """Per category, from out-of-fold scores: the lowest that keeps neutral lines in budget."""
    scores, _models = out_of_fold(items)
    return thresholds_for(items, scores)


def _above(neutral: Sequence[list[float]], index: int, budget: float) -> float:
    """The score that only ``budget`` of the ``neutral`` lines exceed."""
    ranked = sorted((scores[index] for scores in neutral), reverse=True)
    allowed = int(budget * len(ranked))
    return ranked[allowed] if allowed < len(ranked) else 0.0


def build(root: Path, dialogues: Path, out: Path) -> ScreeningModel:
    paths = corpus_files(root)
    items = [item for _locale, item in learnt_corpus(root)]
    data = examples(items, rules_screener(dialogues))
    thresholds = choose_thresholds(data)
    model = _Trainer(data).model(thresholds)
    names = ", ".join(str(path.relative_to(root)) for path in paths)
    model.dump(
        out,
        [
            "The second screening layer (src/redirection_bot/safety/model.py). Do not edit:",
            "rebuild with `python -m redirection_bot.safety.train` (docs/safety.md).",
            f"Corpus: {len(items)} lines from tests/safety/: {names}.",
        ],
    )
    return model


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    repository = Path(__file__).resolve().parents[3]
    parser.add_argument("--corpus", type=Path, default=repository / "tests" / "safety")
    parser.add_argument("--dialogues", type=Path, default=repository / "dialogues")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name(MODEL_FILE))
    args = parser.parse_args(argv)
    model = build(args.corpus, args.dialogues, args.out)
    print(f"wrote {args.out}: thresholds {dict(zip(SCORED, model.thresholds, strict=True))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
