"""Exchange files for translators: what an export holds and what an import reads back.

Three formats (CSV for spreadsheets, XLIFF 1.2 and 2.0 for translation tools) share these
types; each format's module (``csv_exchange``, ``xliff``) only writes and reads them, and
``formats`` picks the module.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from redirection_bot.diagnostics import Span
from redirection_bot.translation.status import TranslationRow


class ExchangeFormat(enum.StrEnum):
    CSV = "csv"
    XLIFF12 = "xliff12"
    XLIFF20 = "xliff20"


@dataclass(frozen=True, slots=True)
class ExportHeader:
    """What an export is about."""

    program: str
    source_locale: str
    locale: str


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One text as exported: today's status and where the program uses it."""

    row: TranslationRow
    places: tuple[str, ...]

    def note(self) -> str:
        """A note for the translator: where the text is used and what it must keep."""
        parts = []
        if self.places:
            parts.append("used at " + ", ".join(self.places))
        if self.row.placeholders:
            names = ", ".join(f"%{{{name}}}" for name in self.row.placeholders)
            parts.append(f"keep the placeholders {names}")
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class ImportedRow:
    """One row of a file a translator sent back."""

    key: str
    source: str
    """The source text the translator worked from (as exported)."""
    translation: str
    confirmed: bool
    """The translator marked it done (or reviewed) in the file."""
    span: Span
    where: str
    """How the translator finds the row: ``row 7`` (as a spreadsheet numbers it), ``unit `key```."""


@dataclass(frozen=True, slots=True)
class ImportedFile:
    source_locale: str | None
    locale: str | None
    rows: Sequence[ImportedRow]
