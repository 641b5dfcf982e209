"""Outcome measures over time: a short self-report at the start and at each return, counted as
change between a person's first answer and today's, never per person.

A person who agrees answers a few questions (``MEASURES``: days with viewing in the last 7
days, hours, urge strength, confidence, the WHO-5 wellbeing index). ``action_record_outcomes``
then reduces each answer to a band (``Measure.band``) and adds one to a plain counter per day
in the anonymous counts store (``operations/evaluation.py``), under ``OUTCOME_MODULE``:

- the first time a measure is answered: ``first:<band>``, and the band is kept in the
  conversation (``outcome_first_<measure>``), so that it is parked with the rest under resume
  words and nowhere else;
- at a return, when that first band came back inside the copy the words opened:
  ``<first band> -> <today's band>``.

The answers themselves are cleared at once. Nothing on the server links two visits: the only
link is the first band carried inside the sealed copy. ``outcome_rows`` sums the counters by
calendar quarter for a research partner, every cell under ``SUPPRESS_BELOW`` shown as ``<10``,
and a second cell hidden where one alone would be (docs/evaluation.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO

from redirection_bot.dialogue.model import SlotValue
from redirection_bot.operations.evaluation import OTHER_COUNTS, SUPPRESS_BELOW, CountRow

OUTCOMES_ACTION = "action_record_outcomes"
OUTCOME_MODULE = OTHER_COUNTS + "outcome"
"""The counts' module for outcome rows: kept out of the evaluation's export."""
CONSENT_SLOT = "outcome_consent"
"""Set (yes) by the consent choice, cleared by the action: one count per agreement, so that
going back through the questions after answering counts nothing twice."""
FIRST_PREFIX = "outcome_first_"
FIRST = "first"
CHANGE = "change"
HOURS_VALUES = ("none", "under_one", "one_to_five", "over_five")
"""The hours question's choices, least first (the slot ``outcome_hours``)."""
WHO5_VALUES = (
    "at_no_time",
    "some_of_the_time",
    "less_than_half",
    "more_than_half",
    "most_of_the_time",
    "all_of_the_time",
)
"""The WHO-5 answers, scored 0 to 5 in this order (the published scoring)."""
WHO5_SLOTS = ("who5_cheerful", "who5_calm", "who5_active", "who5_rested", "who5_interest")
CSV_COLUMNS = ("quarter", "measure", "kind", "first", "now", "count")


class Measure(enum.StrEnum):
    """What is measured; each is one column of bands in the export."""

    DAYS = "days"
    """Days with viewing in the last 7 days (0-7)."""
    HOURS = "hours"
    """Hours of viewing in the last 7 days (HOURS_VALUES)."""
    URGE = "urge"
    """How strong urges were in the last 7 days (0-10)."""
    CONFIDENCE = "confidence"
    """Confidence in not viewing in the next 7 days (0-10)."""
    WELLBEING = "wellbeing"
    """WHO-5 raw score (0-25) over the last two weeks."""

    @property
    def first_slot(self) -> str:
        """Where the first band is kept in the conversation (parked only under resume words)."""
        return FIRST_PREFIX + self.value

    def band(self, slots: Mapping[str, SlotValue]) -> int | None:
        """Today's answer as a band index, or None when it was not (fully) answered."""
        score = _score(self, slots)
        if score is None:
            return None
        return next(i for i, (low, high) in enumerate(BANDS[self]) if low <= score <= high)

    def band_name(self, index: int) -> str:
        low, high = BANDS[self][index]
        if self is Measure.HOURS:
            return HOURS_VALUES[low]
        return str(low) if low == high else f"{low}-{high}"


BANDS: Mapping[Measure, tuple[tuple[int, int], ...]] = {
    Measure.DAYS: ((0, 0), (1, 2), (3, 5), (6, 7)),
    Measure.HOURS: ((0, 0), (1, 1), (2, 2), (3, 3)),
    Measure.URGE: ((0, 3), (4, 6), (7, 10)),
    Measure.CONFIDENCE: ((0, 3), (4, 6), (7, 10)),
    # WHO-5: a raw score of 7 or less (28 of 100) suggests depression, below 13 (50) poor
    # wellbeing (Topp et al. 2015)
    Measure.WELLBEING: ((0, 7), (8, 12), (13, 25)),
}
ANSWER_SLOTS: Mapping[Measure, tuple[str, ...]] = {
    Measure.DAYS: ("outcome_days",),
    Measure.HOURS: ("outcome_hours",),
    Measure.URGE: ("outcome_urge",),
    Measure.CONFIDENCE: ("outcome_confidence",),
    Measure.WELLBEING: WHO5_SLOTS,
}


def _score(measure: Measure, slots: Mapping[str, SlotValue]) -> int | None:
    values = [slots.get(name) for name in ANSWER_SLOTS[measure]]
    if measure is Measure.HOURS:
        return HOURS_VALUES.index(values[0]) if values[0] in HOURS_VALUES else None
    if measure is Measure.WELLBEING:
        if not all(isinstance(v, str) and v in WHO5_VALUES for v in values):
            return None  # the index is scored only when all five are answered
        return sum(WHO5_VALUES.index(str(v)) for v in values)
    value = values[0]
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    low, high = BANDS[measure][0][0], BANDS[measure][-1][1]
    return value if low <= value <= high else None


@dataclass(frozen=True, slots=True)
class Recorded:
    """What one agreement adds to the counts, and what the conversation keeps or forgets."""

    counts: tuple[tuple[str, str], ...]
    """(question, answer) for the counts store: (measure, ``first:<band>`` or ``a->b``)."""
    slot_sets: tuple[tuple[str, SlotValue | None], ...]


def record(slots: Mapping[str, SlotValue]) -> Recorded:
    """The counts for today's answers: a first band, or the change from the first band.

    Without consent (``CONSENT_SLOT``) nothing is counted. Today's answers and the consent
    are always cleared; a first band is kept for the measures answered for the first time."""
    counts: list[tuple[str, str]] = []
    sets: list[tuple[str, SlotValue | None]] = []
    consented = slots.get(CONSENT_SLOT) is True
    for measure in Measure:
        today = measure.band(slots)
        first = slots.get(measure.first_slot)
        if consented and today is not None:
            if isinstance(first, int) and not isinstance(first, bool):
                if 0 <= first < len(BANDS[measure]):
                    pair = f"{measure.band_name(first)}->{measure.band_name(today)}"
                    counts.append((measure.value, pair))
            else:
                counts.append((measure.value, f"{FIRST}:{measure.band_name(today)}"))
                sets.append((measure.first_slot, today))
    cleared = [name for measure in Measure for name in ANSWER_SLOTS[measure]]
    sets.extend((name, None) for name in (*cleared, CONSENT_SLOT))
    return Recorded(tuple(counts), tuple(sets))


def recorded_slots() -> tuple[str, ...]:
    """Every slot the action may set: the program declares them under its ``sets``."""
    answers = [name for measure in Measure for name in ANSWER_SLOTS[measure]]
    return (*answers, CONSENT_SLOT, *(measure.first_slot for measure in Measure))


# --- the export ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class OutcomeCell:
    quarter: str
    measure: str
    kind: str
    """``first`` (a first answer's band) or ``change`` (first band -> band at a return)."""
    first: str
    now: str
    count: int


def quarter_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def outcome_cells(
    rows: Iterable[CountRow], today: dt.date, completed_only: bool = True
) -> list[OutcomeCell]:
    """The outcome counters summed by quarter, not yet suppressed. ``completed_only`` leaves
    out the quarter still running, so that two exports never differ by one person's visit."""
    sums: dict[tuple[str, str, str, str, str], int] = defaultdict(int)
    current = quarter_of(today)
    for row in rows:
        if row.module != OUTCOME_MODULE:
            continue
        quarter = quarter_of(dt.date.fromisoformat(row.day))
        if completed_only and quarter >= current:
            continue
        if row.answer.startswith(FIRST + ":"):
            key = (quarter, row.question, FIRST, row.answer[len(FIRST) + 1 :], "")
        else:
            first, _, now = row.answer.partition("->")
            key = (quarter, row.question, CHANGE, first, now)
        sums[key] += row.count
    return sorted(OutcomeCell(*key, count) for key, count in sums.items())


def hidden_cells(cells: list[OutcomeCell], below: int = SUPPRESS_BELOW) -> set[int]:
    """Which cells to hide: every count under ``below``, and where a table (quarter, measure,
    kind) would hide exactly one, its next smallest too. Every person answers every measure,
    so one table's total is another's: one hidden cell alone could be worked out."""
    hidden = {i for i, cell in enumerate(cells) if cell.count < below}
    tables: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for i, cell in enumerate(cells):
        tables[(cell.quarter, cell.measure, cell.kind)].append(i)
    for members in tables.values():
        small = [i for i in members if i in hidden]
        shown = sorted((i for i in members if i not in hidden), key=lambda i: cells[i].count)
        if len(small) == 1 and shown:
            hidden.add(shown[0])
    return hidden


def export_outcomes_csv(
    rows: Iterable[CountRow],
    out: IO[str],
    today: dt.date,
    completed_only: bool = True,
) -> int:
    """Write the outcome cells as CSV, small cells hidden; return how many rows were written."""
    cells = outcome_cells(rows, today, completed_only)
    hidden = hidden_cells(cells)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for i, cell in enumerate(cells):
        count = f"<{SUPPRESS_BELOW}" if i in hidden else str(cell.count)
        writer.writerow((cell.quarter, cell.measure, cell.kind, cell.first, cell.now, count))
    return len(cells)
