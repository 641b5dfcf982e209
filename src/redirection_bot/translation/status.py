"""The status of each translation: missing, needs update, untracked or done.

- **missing**: the locale has no text for the key.
- **needs update**: the record says which source text the translation was made from, and
  the source text has changed since.
- **untracked**: there is a translation but no record of what it was made from (written by
  hand, or before records existed). It may be right or stale: nobody can tell. It is listed
  by ``i18n status`` and in exports, never reported by the validator, so that a program
  translated before records existed validates clean; ``i18n mark-done`` records it once a
  translator has checked it.
- **done**: the translation was made from (or checked against) the current source text.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from redirection_bot.language.i18n import Catalog, Entry, placeholders
from redirection_bot.translation.records import LocaleRecords


class TranslationStatus(enum.StrEnum):
    MISSING = "missing"
    NEEDS_UPDATE = "needs update"
    UNTRACKED = "untracked"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class TranslationRow:
    """One source text and its translation into one locale."""

    key: str
    source: Entry
    translation: Entry | None
    status: TranslationStatus
    translated_from: str | None
    """The source text the translation was made from, when it differs from today's."""

    @property
    def placeholders(self) -> list[str]:
        return sorted(placeholders(self.source.text)[0])


def own_entry(catalog: Catalog, key: str, locale: str) -> Entry | None:
    """The text written for ``key`` in ``locale`` itself (no fallback, no shared texts)."""
    entry = catalog.entry(key, locale)
    return entry if entry is not None and entry.locale == locale else None


def translation_row(
    catalog: Catalog, records: LocaleRecords | None, source: Entry, locale: str
) -> TranslationRow:
    translation = own_entry(catalog, source.key, locale)
    record = records.records.get(source.key) if records is not None else None
    if translation is None:
        return TranslationRow(source.key, source, None, TranslationStatus.MISSING, None)
    if record is None:
        return TranslationRow(source.key, source, translation, TranslationStatus.UNTRACKED, None)
    if record.source_text != source.text:
        return TranslationRow(
            source.key, source, translation, TranslationStatus.NEEDS_UPDATE, record.source_text
        )
    return TranslationRow(source.key, source, translation, TranslationStatus.DONE, None)


def translation_rows(
    catalog: Catalog,
    records: Mapping[str, LocaleRecords],
    locale: str,
    source_locale: str,
) -> list[TranslationRow]:
    """Every source text with its translation into ``locale``, in the source files' order."""
    locale_records = usable_records(records, locale, source_locale)
    return [
        translation_row(catalog, locale_records, source, locale)
        for source in catalog.entries(source_locale)
    ]


def usable_records(
    records: Mapping[str, LocaleRecords], locale: str, source_locale: str
) -> LocaleRecords | None:
    """A locale's records, if they were made against this source locale."""
    found = records.get(locale)
    return found if found is not None and found.source_locale == source_locale else None


def count_statuses(rows: Iterable[TranslationRow]) -> Counter[TranslationStatus]:
    counts: Counter[TranslationStatus] = Counter(dict.fromkeys(TranslationStatus, 0))
    counts.update(row.status for row in rows)
    return counts


def target_locales(
    catalog: Catalog, records: Mapping[str, LocaleRecords], program_locales: Iterable[str]
) -> list[str]:
    """Every locale being translated: the program's, those with texts, those with records."""
    return sorted(set(program_locales) | set(catalog.locales_present()) | set(records))
