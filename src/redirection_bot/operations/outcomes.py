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
  ``<first band> -> <today's band>``, at most once a calendar quarter for one copy;
- the consent question's answer, yes or no, at a first visit or a return
  (``consent``, ``first:agreed``): how many were asked, and how many agreed.

Each is counted at most once a visit: going back to the questions counts nothing twice, and
the action run at the program's ``return_entry`` opens a new visit (``new_visit``).
The answers themselves are cleared at once. Nothing on the server links two visits: the only
link is the first band carried inside the sealed copy. ``outcome_cells`` sums the counters by
calendar quarter for a research partner, every cell under ``SUPPRESS_BELOW`` shown as ``<10``,
and a second cell hidden where one alone would be (docs/evaluation.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO

from redirection_bot.dialogue.model import SlotValue
from redirection_bot.operations.evaluation import (
    OTHER_COUNTS,
    SUPPRESS_BELOW,
    CountRow,
    EvaluationCounts,
)

OUTCOMES_ACTION = "action_record_outcomes"
OUTCOME_MODULE = OTHER_COUNTS + "outcome"
"""The counts' module for outcome rows: kept out of the evaluation's export."""
CONSENT_SLOT = "outcome_consent"
"""Set by the consent question's choices: yes (agree) or no (no thanks)."""
ASKED_SLOT = "outcome_asked"
"""This visit's consent answer has been counted (cleared at the return entry)."""
ANSWERED_SLOT = "outcome_answered"
"""This visit's answers have been counted (cleared at the return entry)."""
VISIT_SLOTS = (ASKED_SLOT, ANSWERED_SLOT)
CHANGE_QUARTER_SLOT = "outcome_change_quarter"
"""The quarter (``quarter_number``) a change was last counted in, kept in the copy: a copy
adds at most one set of change rows a quarter, however often it is opened."""
FIRST_PREFIX = "outcome_first_"
FIRST = "first"
CHANGE = "change"
RETURN = "return"
CONSENT = "consent"
"""The consent question's counts: ``first:agreed``, ``return:declined``, ..."""
AGREED = "agreed"
DECLINED = "declined"
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
    """What one run of the action adds to the counts, and what the conversation keeps or forgets."""

    counts: tuple[tuple[str, str], ...]
    """(question, answer) for the counts store: (measure, ``first:<band>`` or ``a->b``), or
    (``consent``, ``first:agreed``, ``return:declined`` ...)."""
    slot_sets: tuple[tuple[str, SlotValue | None], ...]


def quarter_number(day: dt.date) -> int:
    """The calendar quarter as one integer (year x 4 + quarter - 1), kept in a slot."""
    return day.year * 4 + (day.month - 1) // 3


def new_visit() -> Recorded:
    """At the program's ``return_entry``: a new visit, whose consent and answers may count
    again. The first bands and the quarter of the last change stay: they come with the copy."""
    return Recorded((), tuple((name, None) for name in (CONSENT_SLOT, *VISIT_SLOTS)))


def record(slots: Mapping[str, SlotValue], today: dt.date) -> Recorded:
    """The counts for this visit's consent answer and answers, each counted once a visit.

    The consent answer (``CONSENT_SLOT``, yes or no) is counted the first time the action
    runs after it in a visit (``ASKED_SLOT``), as asked at a first visit or at a return. With
    consent, the answers are counted the first time the action finds any in a visit
    (``ANSWERED_SLOT``): a first band, kept in the conversation, or the change from the first
    band the copy brought, at most once a calendar quarter (``CHANGE_QUARTER_SLOT``). Today's
    answers are always cleared, and the consent with them; going back to the questions counts
    nothing twice."""
    counts: list[tuple[str, str]] = []
    sets: list[tuple[str, SlotValue | None]] = []
    consent = slots.get(CONSENT_SLOT)
    firsts = {measure: _first_band(measure, slots) for measure in Measure}
    if isinstance(consent, bool) and slots.get(ASKED_SLOT) is not True:
        visit = RETURN if any(band is not None for band in firsts.values()) else FIRST
        counts.append((CONSENT, f"{visit}:{AGREED if consent else DECLINED}"))
        sets.append((ASKED_SLOT, True))
    today_bands = {measure: measure.band(slots) for measure in Measure}
    answered = any(band is not None for band in today_bands.values())
    if consent is True and answered and slots.get(ANSWERED_SLOT) is not True:
        sets.append((ANSWERED_SLOT, True))
        quarter = quarter_number(today)
        change_counted = slots.get(CHANGE_QUARTER_SLOT) == quarter
        changed = False
        for measure, band in today_bands.items():
            first = firsts[measure]
            if band is None:
                continue
            if first is None:
                counts.append((measure.value, f"{FIRST}:{measure.band_name(band)}"))
                sets.append((measure.first_slot, band))
            elif not change_counted:
                counts.append(
                    (measure.value, f"{measure.band_name(first)}->{measure.band_name(band)}")
                )
                changed = True
        if changed:
            sets.append((CHANGE_QUARTER_SLOT, quarter))
    cleared = [name for measure in Measure for name in ANSWER_SLOTS[measure]]
    if consent is False or answered:
        cleared.append(CONSENT_SLOT)  # kept only between the yes and the answers
    sets.extend((name, None) for name in cleared)
    return Recorded(tuple(counts), tuple(sets))


def _first_band(measure: Measure, slots: Mapping[str, SlotValue]) -> int | None:
    first = slots.get(measure.first_slot)
    if isinstance(first, bool) or not isinstance(first, int):
        return None
    return first if 0 <= first < len(BANDS[measure]) else None


def recorded_slots() -> tuple[str, ...]:
    """Every slot the action may set: the program declares them under its ``sets``."""
    answers = [name for measure in Measure for name in ANSWER_SLOTS[measure]]
    firsts = [measure.first_slot for measure in Measure]
    return (*answers, CONSENT_SLOT, *VISIT_SLOTS, *firsts, CHANGE_QUARTER_SLOT)


# --- the export ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class OutcomeCell:
    quarter: str
    measure: str
    kind: str
    """``first`` (a first answer's band) or ``change`` (first band -> band at a return); for
    ``consent``, ``first`` (asked at a first visit) or ``return`` (asked on coming back)."""
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
        if row.question == CONSENT:
            visit, _, answer = row.answer.partition(":")
            key = (quarter, CONSENT, visit, "", answer)
        elif row.answer.startswith(FIRST + ":"):
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


class OutcomeExport:
    """The export as a research partner receives it, read from the counts store: the same for
    ``redirection-bot outcomes`` and the admin listener's ``/outcomes.csv``."""

    def __init__(self, counts: EvaluationCounts) -> None:
        self._counts = counts

    async def csv(self, today: dt.date | None = None, completed_only: bool = True) -> str:
        out = io.StringIO()
        day = today or dt.datetime.now(dt.UTC).date()
        export_outcomes_csv(await self._counts.rows(), out, day, completed_only)
        return out.getvalue()
