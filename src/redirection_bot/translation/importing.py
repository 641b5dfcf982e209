"""Importing a translator's file: check every row, then write texts and records, or nothing.

A row's translation is taken when it differs from the current one; the translation is then
recorded as made from the source text *in the file* (the one the translator saw), so that a
source text changed since the export shows as "needs update" at once. An unchanged
translation is recorded only when the translator marked it done; otherwise its record is
left as it was. An empty translation changes nothing (a text is never deleted by import).

An import never silently undoes a newer translation. Each exported row carries a fingerprint
of the translation it held; when the repository's translation has changed since, a row the
translator left as it was is skipped (the newer one is kept, and reported), and a row they
changed or marked done is refused, naming the key, unless ``force``. A row without a
fingerprint may fill in a missing translation but not replace one, unless ``force``. A
"translation" that is a copy of the source text is imported only when marked done (some
texts are the same in two languages; most copies are untranslated texts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from redirection_bot.diagnostics import Diagnostics, Span
from redirection_bot.language.i18n import Catalog, placeholders
from redirection_bot.language.suggest import did_you_mean
from redirection_bot.translation.exchange import ImportedFile, ImportedRow, text_digest
from redirection_bot.translation.locale_writer import write_locale_texts
from redirection_bot.translation.records import LocaleRecords, write_records
from redirection_bot.translation.status import own_entry


@dataclass(slots=True)
class ImportPlan:
    """What an import will change."""

    locale: str
    source_locale: str
    texts: dict[str, str] = field(default_factory=dict)
    """New or changed translations, by key."""
    records: dict[str, str] = field(default_factory=dict)
    """Keys to record, with the source text they were made from."""
    outdated: list[str] = field(default_factory=list)
    """Keys translated from a source text that has changed since the export."""
    unchanged: int = 0
    kept: list[str] = field(default_factory=list)
    """Keys left as they were in the file whose translation changed in the repository since
    the export: the newer translation is kept."""
    conflicts: list[str] = field(default_factory=list)
    """Keys whose translation changed in the repository since the export and that the file
    changes or confirms (refused without ``force``, replaced with it)."""
    copies: list[str] = field(default_factory=list)
    """Keys whose "translation" is the source text itself, not marked done: not imported."""


def plan_import(
    imported: ImportedFile,
    shown: str,
    catalog: Catalog,
    locale: str,
    source_locale: str,
    diagnostics: Diagnostics,
    force: bool = False,
) -> ImportPlan:
    """Check every row; every problem becomes a located diagnostic. ``force`` lets the file's
    translations replace ones changed in the repository since the export."""
    plan = ImportPlan(locale, source_locale)
    top = Span(shown, 1, 1)
    if imported.locale is not None and imported.locale != locale:
        diagnostics.error(top, f"this file translates into `{imported.locale}`, not `{locale}`")
    if imported.source_locale is not None and imported.source_locale != source_locale:
        diagnostics.error(
            top,
            f"this file translates from `{imported.source_locale}`, but the program's texts are "
            f"written in `{source_locale}`",
        )
    seen: dict[str, ImportedRow] = {}
    for row in imported.rows:
        if _check_row(row, seen, catalog, source_locale, diagnostics):
            _plan_row(row, plan, catalog, diagnostics, force)
    return plan


def _check_row(
    row: ImportedRow,
    seen: dict[str, ImportedRow],
    catalog: Catalog,
    source_locale: str,
    diagnostics: Diagnostics,
) -> bool:
    if not row.key:
        diagnostics.error(row.span, f"{row.where}: the key is empty")
        return False
    earlier = seen.get(row.key)
    if earlier is not None:
        diagnostics.error(row.span, f"{row.where}: `{row.key}` is already in {earlier.where}")
        return False
    seen[row.key] = row
    source = own_entry(catalog, row.key, source_locale)
    if source is None:
        hint = did_you_mean(row.key, catalog.keys(source_locale))
        diagnostics.error(
            row.span, f"{row.where}: there is no text `{row.key}` in `{source_locale}`{hint}"
        )
        return False
    translation = row.translation
    if not translation.strip():
        return False
    found, problems = placeholders(translation)
    for _offset, message in problems:
        diagnostics.error(row.span, f"{row.where}: {message}")
    expected = placeholders(source.text)[0]
    if found != expected:
        changed = " (the source text has changed since this file was made)"
        diagnostics.error(
            row.span,
            f"{row.where}: the translation has {_names(found)}, but the "
            f"`{source_locale}` text has {_names(expected)}"
            f"{changed if row.source != source.text else ''}",
        )
    if row.exported is not None and row.exported.source != text_digest(row.source):
        diagnostics.error(
            row.span,
            f"{row.where}: the source text of `{row.key}` is not the one exported; leave the "
            "source as it is (the import records which source text each translation was made from)",
        )
        return False
    return not problems and found == expected


def _plan_row(
    row: ImportedRow, plan: ImportPlan, catalog: Catalog, diagnostics: Diagnostics, force: bool
) -> None:
    source = own_entry(catalog, row.key, plan.source_locale)
    current = own_entry(catalog, row.key, plan.locale)
    assert source is not None
    now = current.text if current is not None else None
    if now == row.translation:
        plan.unchanged += 1
        if not row.confirmed:
            return
    elif not row.confirmed and row.translation.strip() in (row.source.strip(), source.text.strip()):
        plan.copies.append(row.key)
        return
    elif not _may_replace(row, now, plan, diagnostics, force):
        return
    else:
        plan.texts[row.key] = row.translation
    plan.records[row.key] = row.source
    if row.source != source.text:
        plan.outdated.append(row.key)


def _may_replace(
    row: ImportedRow, now: str | None, plan: ImportPlan, diagnostics: Diagnostics, force: bool
) -> bool:
    """Whether the file's translation may replace ``now``, the repository's (see the module
    docstring); a refusal becomes a diagnostic at the row."""
    exported = row.exported
    if exported is None:
        if now is None or force:
            return True
        plan.conflicts.append(row.key)
        diagnostics.error(
            row.span,
            f"{row.where}: this row does not say what `{row.key}` was when it was exported (an "
            "older export, or a file made by hand), so importing it could undo a newer "
            f"`{plan.locale}` translation; export again, or use --force to replace it",
        )
        return False
    if exported.matches_translation(now):
        return True
    if exported.matches_translation(row.translation) and not row.confirmed:
        plan.kept.append(row.key)
        return False
    plan.conflicts.append(row.key)
    if force:
        return True
    diagnostics.error(
        row.span,
        f"{row.where}: `{row.key}` was changed in the repository after this file was exported; "
        "importing this row would undo that change. Export again and redo it, or use --force "
        "to replace it",
    )
    return False


def _names(names: frozenset[str]) -> str:
    shown = ", ".join(f"%{{{n}}}" for n in sorted(names))
    if not names:
        return "no placeholders"
    return f"the placeholder{'s' if len(names) > 1 else ''} {shown}"


def apply_import(
    plan: ImportPlan,
    locales: Path,
    catalog: Catalog,
    records: Mapping[str, LocaleRecords],
) -> list[Path]:
    """Write the plan's texts and records; returns the files written."""
    written: list[Path] = []
    if plan.texts:
        source_keys = [entry.key for entry in catalog.entries(plan.source_locale)]
        texts = {entry.key: entry.text for entry in catalog.entries(plan.locale)}
        texts.update(plan.texts)
        written += write_locale_texts(
            locales, plan.locale, plan.source_locale, source_keys, texts, plan.texts
        )
    if plan.records:
        written.append(
            record_translations(
                locales, plan.locale, plan.source_locale, catalog, records, plan.records
            )
        )
    return written


def record_translations(
    locales: Path,
    locale: str,
    source_locale: str,
    catalog: Catalog,
    records: Mapping[str, LocaleRecords],
    new: Mapping[str, str],
) -> Path:
    """Merge ``new`` records into the locale's records file (records of texts that no longer
    exist in the source are dropped)."""
    existing = records.get(locale)
    merged = (
        {key: record.source_text for key, record in existing.records.items()}
        if existing is not None and existing.source_locale == source_locale
        else {}
    )
    merged.update(new)
    alive = catalog.keys(source_locale)
    return write_records(
        locales, locale, source_locale, {k: v for k, v in merged.items() if k in alive}
    )
