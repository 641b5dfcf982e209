"""The second screening layer: a small linear model over words and parts of words.

The clinicians' phrase lists (``rules``) find what their authors foresaw. People say the same
things in endless other ways ("i'm tired of being alive", "en serio ya no quiero seguir",
"en jaksa enää olla olemassa"), so beside the lists sits a model that has learnt, from the
labelled corpus in ``tests/safety/``, which words and parts of words go with each category.

- **What it reads** (``features``): the folded tokens of ``normalise.tokenise`` (case, accents,
  look-alike letters, leetspeak and repeated letters already read away), as words (``w:``),
  pairs of neighbouring words in one sentence (``b:``) and the 4- and 5-letter pieces of
  each word (``c:``), which carry Finnish and Spanish endings and typing mistakes
  ("itsemurhaa", "itsemurhasta" and "itsmurha" share most of their pieces); and the
  semantic fields of the rules files a word belongs to (``k:``), alone and in pairs ("a
  child" with "fear of oneself"), which have the same names in every language.
- **What it is**: one logistic regression per category (one against the rest), trained by
  ``python -m redirection_bot.safety.train`` with a fixed order and a fixed seed, so the same
  corpus always gives the same file. The weights ship in ``screening_model.bin`` beside this
  module, by feature bucket and in whole numbers of ``QUANTUM`` (``ScreeningModel``).
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
import json
import math
import zlib
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from redirection_bot.safety.categories import RiskCategory
from redirection_bot.safety.normalise import Letters, Token, cached_when_short, tokenise

MODEL_FILE = "screening_model.bin"
FORMAT_LINE = b"redirection-bot screening model, format 1\n"
BUCKETS = 2**18
"""Feature buckets per category (a power of two)."""
QUANTUM = 1 / 32
"""A weight is kept as a whole number of these, in a signed byte (-3.97 to +3.97)."""
CHAR_SIZES = (4, 5)
SCORED = tuple(RiskCategory)
"""The categories the model scores."""


def features(
    text: str, concepts: Iterable[str] = (), tokens: Sequence[Token] | None = None
) -> list[str]:
    """What the model reads of ``text``: words, word pairs and word pieces, each once, and
    the names of the rules' word lists (``concepts``) a word of the text belongs to.
    ``tokens``: the text already read with ``Letters.ONE``, if the caller has it."""
    if tokens is None:
        tokens = tokenise(text, Letters.ONE)
    seen: dict[str, None] = {}  # in order, each once (a long word repeats its pieces)
    previous, previous_sentence = "", -1
    for token in tokens:
        form = "#" if token.is_number and len(token.form) > 2 else token.form
        seen["w:" + form] = None
        if previous_sentence == token.sentence:
            seen[f"b:{previous}_{form}"] = None
        previous, previous_sentence = form, token.sentence
        if not token.is_number:
            for piece in _pieces(form):
                seen[piece] = None
    named = sorted(set(concepts))
    for position, concept in enumerate(named):
        seen[f"k:{concept}"] = None
        for other in named[position + 1 :]:
            seen[f"k:{concept}+{other}"] = None  # fields together: "a child" with "fear"
    return list(seen)


@cached_when_short(16384)
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
        if kind == "k" and "+" in value:
            shown = "words of the lists"
            value = value.replace("+", " and ")
        value = value.replace("_", " ").replace("<", "^").replace(">", "$")
        return f"{shown} {value!r} {self.weight:+.2f}"


class ScreeningModel:
    """Weights per feature and category, a bias and a threshold per category.

    Held small: a feature is not kept by name but by its bucket (``bucket``: CRC-32 of its
    name, modulo ``BUCKETS``), and each weight as a whole number of ``QUANTUM`` in one signed
    byte; one ``bytearray`` holds a bucket's weights for every category side by side (its row,
    about 1.8 MB for all buckets). Features that share a bucket share a weight (their sum, as
    trained), which costs nothing measurable. Scoring a message puts its features' rows end to
    end and sums each category's column in C (``evidence``)."""

    def __init__(
        self,
        weights: Mapping[str, Sequence[float]],
        bias: Sequence[float],
        thresholds: Sequence[float],
        categories: Sequence[RiskCategory] = SCORED,
    ) -> None:
        totals = [[0.0] * BUCKETS for _ in categories]
        for feature, row in weights.items():
            at = bucket(feature)
            for index, weight in enumerate(row):
                totals[index][at] += weight
        columns = [
            array("b", (max(-127, min(127, round(w / QUANTUM))) for w in column))
            for column in totals
        ]
        self._hold(columns, bias, thresholds, categories)

    def _hold(
        self,
        columns: Sequence[array[int]],
        bias: Sequence[float],
        thresholds: Sequence[float],
        categories: Sequence[RiskCategory],
    ) -> None:
        width = len(categories)
        table = bytearray(BUCKETS * width)  # made in place: no second copy held even briefly
        for index, column in enumerate(columns):
            table[index::width] = column
        self.categories = tuple(categories)
        self._table = table
        self._bias = tuple(bias)
        self.thresholds = tuple(thresholds)

    def _column(self, index: int) -> array[int]:
        """One category's weights, bucket by bucket."""
        return array("b", self._table[index :: len(self.categories)])

    @classmethod
    def _of_columns(
        cls,
        columns: Sequence[array[int]],
        bias: Sequence[float],
        thresholds: Sequence[float],
        categories: Sequence[RiskCategory],
    ) -> ScreeningModel:
        model = cls.__new__(cls)
        model._hold(columns, bias, thresholds, categories)
        return model

    def scores(self, text: str) -> dict[RiskCategory, float]:
        """The probability the model gives each category for ``text``."""
        found = self.probabilities(features(text))
        return dict(zip(self.categories, found, strict=True))

    def probabilities(self, found: Iterable[str], carried: Sequence[float] = ()) -> list[float]:
        """The probability of each category (in ``categories`` order) given its features, and
        what earlier messages carried (``evidence`` of them, see ``Screener``)."""
        return self.probabilities_of(self.evidence(found), carried)

    def probabilities_of(
        self, evidence: Sequence[float], carried: Sequence[float] = ()
    ) -> list[float]:
        """The probabilities, from a message's ``evidence`` and what earlier ones carried."""
        extra = carried or (0.0,) * len(evidence)
        return [
            _sigmoid(bias + total + more)
            for bias, total, more in zip(self._bias, evidence, extra, strict=True)
        ]

    def evidence(self, found: Iterable[str]) -> list[float]:
        """The summed weights of the features, per category (without the bias)."""
        return [sum(column) * QUANTUM for column in self._columns_of(found)]

    def evidence_and_reach(self, found: Iterable[str]) -> tuple[list[float], list[float]]:
        """The summed weights of the features, per category (without the bias), and the sum
        of their positive weights alone: the most any subset of them can weigh."""
        columns = self._columns_of(found)
        totals = [sum(column) for column in columns]
        reach = [
            (sum(map(abs, column)) + total) / 2
            for column, total in zip(columns, totals, strict=True)
        ]
        return [total * QUANTUM for total in totals], [most * QUANTUM for most in reach]

    def within_reach(
        self, evidence: Sequence[float], reach: Sequence[float], kept: float
    ) -> list[bool]:
        """Per category: whether a part of a message (some of its features), scored with
        ``kept`` of the whole message's ``evidence``, could reach the threshold at all (at
        best, the part holds every positive weight: ``reach``)."""
        return [
            _sigmoid(bias + (1 - kept) * most + kept * total) >= threshold
            for bias, total, most, threshold in zip(
                self._bias, evidence, reach, self.thresholds, strict=True
            )
        ]

    def _columns_of(self, found: Iterable[str]) -> list[array[int]]:
        """The features' weights, one array a category, in whole numbers of ``QUANTUM``."""
        table, width, crc32 = self._table, len(self.categories), zlib.crc32
        # ``_bucket_of``, written out: a call less for each of a long message's ~700 features
        starts = [(crc32(f.encode()) & (BUCKETS - 1)) * width for f in found]
        # The rows end to end, read as signed bytes: a category's weights are every width-th.
        rows = array("b", b"".join([table[start : start + width] for start in starts]))
        return [rows[index::width] for index in range(width)]

    def explain(
        self, found: Iterable[str], category: RiskCategory, top: int = 6
    ) -> list[Contribution]:
        """The features (``features``) that pushed ``category`` up most, strongest first."""
        column = self._column(self.categories.index(category))
        pushed = [
            Contribution(feature, column[bucket(feature)] * QUANTUM)
            for feature in found
            if column[bucket(feature)] > 0
        ]
        return sorted(pushed, key=lambda c: (-c.weight, c.feature))[:top]

    # The file: a first line naming the format, a JSON line (categories, bias, thresholds,
    # and who built it from what), then the columns' bytes, compressed.

    def dump(self, path: Path, comment: Iterable[str] = ()) -> None:
        header = {
            "comment": list(comment),
            "categories": [str(category) for category in self.categories],
            "bias": [round(b, 4) for b in self._bias],
            "thresholds": [round(t, 4) for t in self.thresholds],
            "buckets": BUCKETS,
            "quantum": QUANTUM,
        }
        columns = (self._column(index) for index in range(len(self.categories)))
        body = zlib.compress(b"".join(column.tobytes() for column in columns), 9)
        path.write_bytes(
            FORMAT_LINE + json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n" + body
        )

    @classmethod
    def load(cls, data: bytes) -> ScreeningModel:
        """A model as ``dump`` wrote it; ValueError when it is not one."""
        if not data.startswith(FORMAT_LINE):
            raise ValueError("not a screening model file (rebuild it: docs/safety.md)")
        header_line, _newline, body = data[len(FORMAT_LINE) :].partition(b"\n")
        header = json.loads(header_line)
        if header["buckets"] != BUCKETS or header["quantum"] != QUANTUM:
            raise ValueError("a screening model of another layout (rebuild it: docs/safety.md)")
        raw = zlib.decompress(body)
        columns = []
        for index in range(len(header["categories"])):
            column = array("b")
            column.frombytes(raw[index * BUCKETS : (index + 1) * BUCKETS])
            columns.append(column)
        return cls._of_columns(
            columns,
            header["bias"],
            header["thresholds"],
            [RiskCategory(name) for name in header["categories"]],
        )


def _bucket_of(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8")) & (BUCKETS - 1)


bucket = cached_when_short(16384)(_bucket_of)
"""Where a feature's weights are kept: CRC-32 of its name (stable across runs and machines,
unlike ``hash``), modulo ``BUCKETS``. Kept for the features seen most recently (training
reads each example's many times, ``explain`` some): about 2 MB at most. Scoring computes it
afresh (``evidence``): cheaper than a cache's miss."""


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
    return ScreeningModel.load(source.read_bytes())
