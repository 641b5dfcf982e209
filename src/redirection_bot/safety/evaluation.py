"""Measuring the screening rules against a labelled set (``tests/safety/<locale>.yaml``).

Definitions (docs/safety.md repeats them):

- **recall** of a category: of the utterances labelled with it, the share where screening
  raises it (certain or "check first": both start the safety flow);
- **precision** of a category: of the utterances where screening raises it, the share
  labelled with it;
- **neutral precision**: of the utterances labelled `none` (no category), the share where
  screening raises nothing at all; 1 minus the false-alarm rate on everyday text;
- **check agreement**: of the utterances marked ``check: true``, the share raised as
  "check first" (the hedge handling works).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from redirection_bot.diagnostics import Diagnostics, Span
from redirection_bot.language.yaml_schema import SchemaReader
from redirection_bot.language.yaml_source import YNode, YScalar, read_yaml_file
from redirection_bot.safety.categories import RiskCategory, category_named, not_a_category
from redirection_bot.safety.screen import Screener, Screening

NONE = "none"
NONE_HARD = "none_hard"
"""Neutral lines written to look risky (idioms, one's own children, past use): label none."""
SEVERAL = "several"
WRITTEN = "written"
"""Who wrote a set and when: kept with the set, not an utterance."""
RECALL_TARGET = 0.95
NEUTRAL_PRECISION_TARGET = 0.9


@dataclass(frozen=True, slots=True)
class EvalItem:
    text: str
    expected: frozenset[RiskCategory]
    span: Span
    check: bool = False
    context: tuple[str, ...] = ()
    """Earlier messages of the same person, oldest first: a request that only makes sense
    after them ("send me links" after talking about material) is screened with them."""
    hard: bool = False
    """A neutral line written to look risky (``none_hard``)."""
    answer: bool = False
    """A neutral answer to the program's own questions (a training set of those alone)."""


@dataclass(frozen=True, slots=True)
class EvalSet:
    locale: str | None
    items: tuple[EvalItem, ...]


def load_evaluation(path: Path, shown: str, diagnostics: Diagnostics) -> EvalSet:
    """Read a labelled set; problems become located diagnostics."""
    reader = SchemaReader(diagnostics)
    top = reader.mapping(read_yaml_file(path, shown, diagnostics), "an evaluation file")
    if top is None:
        return EvalSet(None, ())
    allowed = ("locale", WRITTEN, NONE, NONE_HARD, SEVERAL, *RiskCategory)
    reader.fields(top, allowed, "an evaluation file")
    locale = reader.text(top.get("locale"), "the locale") if top.get("locale") else None
    items: list[EvalItem] = []
    for key, value in top:
        if key.text in ("locale", WRITTEN) or key.text not in allowed:
            continue
        neutral = key.text in (NONE, NONE_HARD, SEVERAL)
        label = frozenset() if neutral else frozenset({RiskCategory(key.text)})
        for node in reader.sequence(value, f"`{key.text}`") or ():
            item = _item(reader, node, label, several=key.text == SEVERAL)
            if item is not None:
                items.append(replace(item, hard=key.text == NONE_HARD))
    return EvalSet(locale, tuple(items))


def _item(
    reader: SchemaReader, node: YNode, label: frozenset[RiskCategory], several: bool
) -> EvalItem | None:
    if isinstance(node, YScalar) and not several:
        return EvalItem(node.text, label, node.span)
    mapping = reader.mapping(node, "an utterance")
    if mapping is None:
        return None
    fields = ("text", "categories", "context") if several else ("text", "check", "context")
    reader.fields(mapping, fields, "an utterance", required=fields[:2] if several else ("text",))
    text = reader.text(mapping.get("text"), "the text")
    if text is None:
        return None
    context = tuple(
        earlier.text for earlier in reader.one_or_many(mapping.get("context"), "an earlier message")
    )
    check = bool(mapping.get("check")) and reader.boolean(mapping.get("check"), "`check`") is True
    expected = set(label)
    for item in reader.one_or_many(mapping.get("categories"), "a category"):
        category = category_named(item.text)
        if category is None:
            reader.error(item.value_span, not_a_category(item.text))
        else:
            expected.add(category)
    return EvalItem(text, frozenset(expected), mapping.span, check, context)


@dataclass(slots=True)
class CategoryFigures:
    category: RiskCategory
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def labelled(self) -> int:
        return self.true_positives + self.false_negatives

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.labelled if self.labelled else None

    @property
    def precision(self) -> float | None:
        raised = self.true_positives + self.false_positives
        return self.true_positives / raised if raised else None


@dataclass(slots=True)
class Evaluation:
    """Figures for one labelled set."""

    figures: dict[RiskCategory, CategoryFigures]
    neutral_total: int = 0
    neutral_flagged: int = 0
    hard_total: int = 0
    """Of the neutral utterances, those written to look risky (``none_hard``)."""
    hard_flagged: int = 0
    check_expected: int = 0
    check_agreed: int = 0
    confusion: dict[str, Counter[str]] = field(default_factory=dict)
    misses: list[tuple[EvalItem, Screening]] = field(default_factory=list)
    not_checked: list[EvalItem] = field(default_factory=list)
    """Items marked ``check`` that were raised as certain."""

    @property
    def neutral_precision(self) -> float | None:
        if not self.neutral_total:
            return None
        return 1 - self.neutral_flagged / self.neutral_total

    def meets(self, min_recall: float, min_neutral_precision: float) -> bool:
        recalls = [f.recall for f in self.figures.values() if f.recall is not None]
        neutral = self.neutral_precision
        return all(r >= min_recall for r in recalls) and (
            neutral is None or neutral >= min_neutral_precision
        )

    def report(self) -> list[str]:
        lines = [
            f"{'category':<18}{'labelled':>9}{'recall':>8}{'95% interval':>16}{'precision':>11}"
        ]
        for figures in self.figures.values():
            interval = wilson(figures.true_positives, figures.labelled)
            lines.append(
                f"{figures.category.value:<18}{figures.labelled:>9}"
                f"{_figure(figures.recall):>8}{_interval(interval):>16}"
                f"{_figure(figures.precision):>11}"
            )
        found = sum(f.true_positives for f in self.figures.values())
        labelled = sum(f.labelled for f in self.figures.values())
        if labelled:
            lines.append(
                f"{'overall':<18}{labelled:>9}{found / labelled:>8.3f}"
                f"{_interval(wilson(found, labelled)):>16}"
            )
        lines.append(
            f"neutral precision: {_figure(self.neutral_precision)} "
            f"({self.neutral_total - self.neutral_flagged} of {self.neutral_total} neutral "
            "utterances raise nothing)"
        )
        if self.hard_total:
            lines.append(
                f"hard negatives raising something: {self.hard_flagged} of {self.hard_total}"
            )
        if self.neutral_total:
            shown = _interval(wilson(self.neutral_flagged, self.neutral_total))
            lines.append(f"neutral raising something: 95% interval {shown}")
        if self.check_expected:
            lines.append(
                f"check agreement: {self.check_agreed} of {self.check_expected} utterances "
                "marked `check` were raised as check-first"
            )
        lines.append("confusion (labelled -> raised):")
        for expected, raised in self.confusion.items():
            counts = ", ".join(f"{name} {count}" for name, count in raised.most_common())
            lines.append(f"  {expected:<18}{counts}")
        for item, screening in self.misses:
            raised_names = ", ".join(screening.categories) or NONE
            wanted = ", ".join(sorted(item.expected)) or NONE
            lines.append(
                f"MISS {item.span.format()}: wanted {wanted}, raised {raised_names}: {item.text!r}"
            )
        for item in self.not_checked:
            lines.append(f"NOT CHECK-FIRST {item.span.format()}: {item.text!r}")
        return lines


def wilson(successes: int, total: int, z: float = 1.96) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (95% by default): honest for small sets and
    for figures near 0 or 1, where the usual plus-or-minus is not."""
    if not total:
        return None
    share = successes / total
    centre = share + z * z / (2 * total)
    spread = z * math.sqrt(share * (1 - share) / total + z * z / (4 * total * total))
    scale = 1 + z * z / total
    return (max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale))


def _interval(interval: tuple[float, float] | None) -> str:
    return "-" if interval is None else f"[{interval[0]:.2f}, {interval[1]:.2f}]"


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def evaluate(
    screener: Screener, items: tuple[EvalItem, ...], locale: str, only_locale: bool = False
) -> Evaluation:
    """Screen every item and count."""
    result = Evaluation({category: CategoryFigures(category) for category in RiskCategory})
    for item in items:
        carried: tuple[float, ...] = ()
        for earlier in item.context:
            carried = screener.screen(earlier, locale, only_locale, carried).carry
        screening = screener.screen(item.text, locale, only_locale, carried)
        raised = set(screening.categories)
        for category in RiskCategory:
            figures = result.figures[category]
            if category in item.expected and category in raised:
                figures.true_positives += 1
            elif category in item.expected:
                figures.false_negatives += 1
            elif category in raised:
                figures.false_positives += 1
        if not item.expected:
            result.neutral_total += 1
            result.neutral_flagged += bool(raised)
            result.hard_total += item.hard
            result.hard_flagged += item.hard and bool(raised)
        if item.check:
            result.check_expected += 1
            agreed = any(not hit.certain for hit in screening.hits if hit.category in item.expected)
            result.check_agreed += agreed
            if not agreed:
                result.not_checked.append(item)
        for expected in [c.value for c in sorted(item.expected)] or [NONE]:
            row = result.confusion.setdefault(expected, Counter())
            row.update([c.value for c in sorted(raised)] or [NONE])
        if raised != set(item.expected):
            result.misses.append((item, screening))
    result.figures = {c: f for c, f in result.figures.items() if f.labelled or f.false_positives}
    return result
