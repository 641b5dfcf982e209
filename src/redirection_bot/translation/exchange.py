"""Exchange files for translators: what an export holds and what an import reads back.

Three formats (CSV for spreadsheets, XLIFF 1.2 and 2.0 for translation tools) share these
types; each format's module (``csv_exchange``, ``xliff``) only writes and reads them, and
``formats`` picks the module.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from redirection_bot.diagnostics import Span
from redirection_bot.translation.status import TranslationRow


class ExchangeFormat(enum.StrEnum):
    CSV = "csv"
    XLIFF12 = "xliff12"
    XLIFF20 = "xliff20"


_FINGERPRINT = re.compile(r"src:(?P<source>[0-9a-f]{12}) tr:(?P<translation>[0-9a-f]{12}|none)\Z")


def text_digest(text: str) -> str:
    """A short digest of a text: enough to tell whether it changed, not to recover it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What an export held for one key: digests of the source text and of the translation
    (``None``: there was none). An import compares them with the repository, so that a file
    exported before someone else's change never silently undoes it."""

    source: str
    translation: str | None

    @classmethod
    def of(cls, source: str, translation: str | None) -> Fingerprint:
        return cls(text_digest(source), None if translation is None else text_digest(translation))

    @classmethod
    def parse(cls, text: str) -> Fingerprint | None:
        """Read ``src:<digest> tr:<digest or none>``; None when it is not that."""
        match = _FINGERPRINT.match(text.strip())
        if match is None:
            return None
        translation = match.group("translation")
        return cls(match.group("source"), None if translation == "none" else translation)

    def __str__(self) -> str:
        return f"src:{self.source} tr:{self.translation or 'none'}"

    def matches_translation(self, text: str | None) -> bool:
        return self.translation == (None if text is None else text_digest(text))


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

    @property
    def fingerprint(self) -> Fingerprint:
        translation = self.row.translation
        return Fingerprint.of(
            self.row.source.text, None if translation is None else translation.text
        )

    def note(self) -> str:
        """A note for the translator: where the text is used and what it must keep."""
        parts = []
        if self.places:
            parts.append("used at " + ", ".join(self.places))
        if self.row.placeholders:
            names = ", ".join(f"%{{{name}}}" for name in self.row.placeholders)
            many = len(self.row.placeholders) > 1
            parts.append(f"keep the placeholder{'s' if many else ''} {names}")
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
    exported: Fingerprint | None = None
    """What the export held (None: a file from an older export, or written by hand)."""


@dataclass(frozen=True, slots=True)
class ImportedFile:
    source_locale: str | None
    locale: str | None
    rows: Sequence[ImportedRow]
