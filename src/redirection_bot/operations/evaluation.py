"""Anonymous programme evaluation: opt-in answers counted per day, never per person.

A module may end with a few questions (how helpful it was, the importance and confidence
rulers again), asked only of people who agree, each answer going into a slot. The node
``action: action_record_evaluation`` then adds one to the day's count for each answer
(module, question, answer) and clears those slots at once: what is kept is a set of
independent counters, with no session, time of day or link between one person's answers.
The slots it records are the ones the program lets it set (``sets:``); free-text slots are
never recorded.

``export_csv`` writes the counts for the clinical team, every count below
``SUPPRESS_BELOW`` replaced by ``<10``, so that no small group can be singled out.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from redirection_bot.dialogue.model import Program, SlotType, SlotValue

EVALUATION_ACTION = "action_record_evaluation"
SUPPRESS_BELOW = 10
CSV_COLUMNS = ("day", "module", "question", "answer", "count")
OTHER_COUNTS = "@"
"""A module starting with this is not a module: other anonymous counts kept in the same store
(a partner's funnel, operations/partners.py), left out of the evaluation's export."""


@dataclass(frozen=True, slots=True, order=True)
class CountRow:
    day: str
    module: str
    question: str
    answer: str
    count: int


class EvaluationCounts(Protocol):
    async def add(self, day: dt.date, module: str, question: str, answer: str) -> None: ...

    async def rows(self) -> list[CountRow]: ...

    async def close(self) -> None: ...


def answers_to_record(
    program: Program, action: str, slots: Mapping[str, SlotValue]
) -> list[tuple[str, str]]:
    """(question, answer) pairs for the slots the action records; a list slot counts each item."""
    declared = program.actions.get(action)
    answers: list[tuple[str, str]] = []
    for name in declared.sets if declared is not None else ():
        slot = program.slots.get(name)
        value = slots.get(name)
        if slot is None or value is None or slot.type is SlotType.TEXT:
            continue
        if isinstance(value, tuple):
            answers.extend((name, item) for item in value)
        elif isinstance(value, bool):
            answers.append((name, "yes" if value else "no"))
        else:
            answers.append((name, str(value)))
    return answers


class MemoryCounts:
    """Counts in this process (the default with the memory store)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, str, str], int] = {}

    async def add(self, day: dt.date, module: str, question: str, answer: str) -> None:
        key = (day.isoformat(), module, question, answer)
        self._counts[key] = self._counts.get(key, 0) + 1

    async def rows(self) -> list[CountRow]:
        return sorted(CountRow(*key, count) for key, count in self._counts.items())

    async def close(self) -> None:
        return None


class SqliteCounts:
    """Counts in a table of the SQLite store's file."""

    def __init__(self, path: Path | str) -> None:
        import sqlite3  # noqa: PLC0415 (a bot over the memory or Redis store never loads it)

        self._db = sqlite3.connect(str(path), isolation_level=None, timeout=10.0)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS evaluation (day TEXT, module TEXT, question TEXT,"
            " answer TEXT, count INTEGER NOT NULL, PRIMARY KEY (day, module, question, answer))"
        )

    async def add(self, day: dt.date, module: str, question: str, answer: str) -> None:
        self._db.execute(
            "INSERT INTO evaluation VALUES (?, ?, ?, ?, 1) ON CONFLICT (day, module, question,"
            " answer) DO UPDATE SET count = count + 1",
            (day.isoformat(), module, question, answer),
        )

    async def rows(self) -> list[CountRow]:
        found = self._db.execute("SELECT * FROM evaluation ORDER BY 1, 2, 3, 4").fetchall()
        return [CountRow(str(a), str(b), str(c), str(d), int(e)) for a, b, c, d, e in found]

    async def close(self) -> None:
        self._db.close()


def suppressed(count: int) -> str:
    return str(count) if count >= SUPPRESS_BELOW else f"<{SUPPRESS_BELOW}"


def export_csv(rows: Iterable[CountRow], out: IO[str]) -> int:
    """Write the counts as CSV, small counts suppressed; return how many rows were written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    written = 0
    for row in rows:
        if row.module.startswith(OTHER_COUNTS):
            continue
        writer.writerow((row.day, row.module, row.question, row.answer, suppressed(row.count)))
        written += 1
    return written
