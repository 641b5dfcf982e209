"""The second screening layer: a small linear model over words and parts of words.

The clinicians' phrase lists (``rules``) find what their authors foresaw. People say the same
things in endless other ways ("i'm tired of being alive", "en serio ya no quiero seguir",
"en jaksa enää olla olemassa"), so beside the lists sits a model that has learnt, from the
labelled corpus in ``tests/safety/``, which words and parts of words go with each category.

- **What it reads** (``features``): the folded tokens of ``normalise.tokenise`` (case, accents,
  look-alike letters, leetspeak and repeated letters already read away), as words (``w:``),
  pairs of neighbouring words in one sentence (``b:``) and the 4- and 5-letter pieces of
  each word (``c:``), which carry Finnish and Spanish endings and typing mistakes
  ("itsemurhaa", "itsemurhasta" and "itsmurha" share most of their pieces).
- **What it is**: one logistic regression per category (one against the rest), trained by
  ``python -m redirection_bot.safety.train`` with a fixed order and no randomness, so the same
  corpus always gives the same file. The weights ship in ``screening_model.tsv`` beside this
  module: a feature, then one weight per category.
- **What its hits mean**: never certain. A category whose score reaches its threshold, and
  that the rules did not raise, is raised as *uncertain*: the safety flow starts with its
  gentle check question (for suicide, asking directly).
- **Why it flagged a message** (``explain``): the features that pushed the score up most,
  which ``redirection-bot screen --explain`` prints for a clinician.

Identifying details found by the model alone have no span to hide: the whole message is
hidden instead (``Screener``), as the identifying-details flow tells the person.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from redirection_bot.safety.categories import RiskCategory
from redirection_bot.safety.normalise import Letters, tokenise

MODEL_FILE = "screening_model.tsv"
CHAR_SIZES = (4, 5)
SCORED = tuple(RiskCategory)
"""The categories the model scores."""


def features(text: str, concepts: Iterable[str] = ()) -> list[str]:
    """What the model reads of ``text``: words, word pairs and word pieces, each once, and
    the names of the rules' word lists (``concepts``) a word of the text belongs to."""
    tokens = tokenise(text, Letters.ONE)
    seen: dict[str, None] = {}
    previous: tuple[str, int] | None = None
    for token in tokens:
        form = "#" if token.is_number and len(token.form) > 2 else token.form
        seen[f"w:{form}"] = None
        if previous is not None and previous[1] == token.sentence:
            seen[f"b:{previous[0]}_{form}"] = None
        previous = (form, token.sentence)
        if not token.is_number:
            for piece in _pieces(form):
                seen[piece] = None
    for concept in concepts:
        seen[f"k:{concept}"] = None
    return list(seen)


@functools.lru_cache(maxsize=16384)
def _pieces(form: str) -> tuple[str, ...]:
    padded = f"<{form}>"
    return tuple(
        f"c:{padded[i : i + size]}" for size in CHAR_SIZES for i in range(len(padded) - size + 1)
    )


@dataclass(frozen=True, slots=True)
class Contribution:
    """One feature's push towards a category, for ``explain``."""

    feature: str
    weight: float

    def describe(self) -> str:
        kind, _colon, value = self.feature.partition(":")
        shown = {"w": "word", "b": "words", "c": "piece", "k": "a word of the list"}[kind]
        value = value.replace("_", " ").replace("<", "^").replace(">", "$")
        return f"{shown} {value!r} {self.weight:+.2f}"


class ScreeningModel:
    """Weights per feature and category, a bias and a threshold per category."""

    def __init__(
        self,
        weights: Mapping[str, Sequence[float]],
        bias: Sequence[float],
        thresholds: Sequence[float],
        categories: Sequence[RiskCategory] = SCORED,
    ) -> None:
        self.categories = tuple(categories)
        self._weights = {feature: tuple(row) for feature, row in weights.items()}
        self._bias = tuple(bias)
        self.thresholds = tuple(thresholds)

    def scores(self, text: str) -> dict[RiskCategory, float]:
        """The probability the model gives each category for ``text``."""
        found = self.probabilities(features(text))
        return dict(zip(self.categories, found, strict=True))

    def probabilities(self, found: Iterable[str], carried: Sequence[float] = ()) -> list[float]:
        """The probability of each category (in ``categories`` order) given its features, and
        what earlier messages carried (``evidence`` of them, see ``Screener``)."""
        totals = self.evidence(found)
        extra = carried or (0.0,) * len(totals)
        return [
            _sigmoid(bias + total + more)
            for bias, total, more in zip(self._bias, totals, extra, strict=True)
        ]

    def evidence(self, found: Iterable[str]) -> list[float]:
        """The summed weights of the features, per category (without the bias)."""
        totals = [0.0] * len(self.categories)
        for feature in found:
            row = self._weights.get(feature)
            if row is not None:
                for index, weight in enumerate(row):
                    totals[index] += weight
        return totals

    def raised(self, text: str) -> tuple[RiskCategory, ...]:
        """The categories whose score reaches their threshold."""
        scores = self.scores(text)
        return tuple(
            category
            for category, threshold in zip(self.categories, self.thresholds, strict=True)
            if scores[category] >= threshold
        )

    def explain(
        self, found: Iterable[str], category: RiskCategory, top: int = 6
    ) -> list[Contribution]:
        """The features (``features``) that pushed ``category`` up most, strongest first."""
        index = self.categories.index(category)
        pushed = [
            Contribution(feature, row[index])
            for feature in found
            if (row := self._weights.get(feature)) and row[index] > 0
        ]
        return sorted(pushed, key=lambda c: (-c.weight, c.feature))[:top]

    def threshold(self, category: RiskCategory) -> float:
        return self.thresholds[self.categories.index(category)]

    # The file: a header of `#` lines (categories, bias, thresholds), then a feature per line.

    def dump(self, path: Path, comment: Iterable[str] = ()) -> None:
        lines = [f"# {line}" for line in comment]
        lines.append("#categories\t" + "\t".join(self.categories))
        lines.append("#bias\t" + "\t".join(_number(b) for b in self._bias))
        lines.append("#thresholds\t" + "\t".join(_number(t) for t in self.thresholds))
        for feature in sorted(self._weights):
            lines.append(feature + "\t" + "\t".join(_number(w) for w in self._weights[feature]))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    @classmethod
    def parse(cls, text: str) -> ScreeningModel:
        header: dict[str, list[str]] = {}
        weights: dict[str, tuple[float, ...]] = {}
        for line in text.splitlines():
            if line.startswith("# ") or not line:
                continue
            name, *values = line.split("\t")
            if name.startswith("#"):
                header[name[1:]] = values
            else:
                weights[name] = tuple(float(value) for value in values)
        categories = [RiskCategory(name) for name in header["categories"]]
        return cls(
            weights,
            [float(b) for b in header["bias"]],
            [float(t) for t in header["thresholds"]],
            categories,
        )


def _number(value: float) -> str:
    return f"{value:.4g}"


def _sigmoid(total: float) -> float:
    if total < -30:
        return 0.0
    return 1 / (1 + math.exp(-total))


@functools.cache
def shipped_model() -> ScreeningModel | None:
    """The model built from the corpus and shipped with the package (None when absent)."""
    source = resources.files("redirection_bot.safety").joinpath(MODEL_FILE)
    if not source.is_file():
        return None
    return ScreeningModel.parse(source.read_text(encoding="utf-8"))
