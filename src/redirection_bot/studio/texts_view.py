"""Texts side by side: one row per text, one column per locale, each translation marked
done, untracked, needs update (with what changed) or missing. Used for a node's texts and
for the whole translations page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from redirection_bot.language.i18n import Catalog
from redirection_bot.translation.records import LocaleRecords
from redirection_bot.translation.status import (
    TranslationStatus,
    own_entry,
    translation_row,
    usable_records,
)


@dataclass(frozen=True, slots=True)
class TextsContext:
    """What every text cell needs to know."""

    catalog: Catalog
    records: Mapping[str, LocaleRecords]
    source_locale: str
    locales: Sequence[str]
    """Every locale shown, the source first."""


def status_of(context: TextsContext, key: str, locale: str) -> TranslationStatus | None:
    """A translation's status (None for the source locale, or a key the source lacks)."""
    source = own_entry(context.catalog, key, context.source_locale)
    if locale == context.source_locale or source is None:
        return None
    records = usable_records(context.records, locale, context.source_locale)
    return translation_row(context.catalog, records, source, locale).status


def texts_table(context: TextsContext, rows: Sequence[tuple[str, str]]) -> str:
    """A table of texts; ``rows`` are (what the text is for, key)."""
    head = "".join(
        f'<th scope="col" lang="{escape(loc)}">{escape(loc)}</th>' for loc in context.locales
    )
    body = []
    for role, key in rows:
        cells = "".join(_cell(context, key, locale) for locale in context.locales)
        label = f"{escape(role)}<br>" if role else ""
        body.append(
            f'<tr data-key="{escape(key)}"><th scope="row">{label}<code>{escape(key)}</code></th>{cells}</tr>'
        )
    return (
        f'<table class="texts"><thead><tr><th scope="col">text</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _cell(context: TextsContext, key: str, locale: str) -> str:
    entry = own_entry(context.catalog, key, locale)
    shared = context.catalog.entry(key, locale)
    if entry is None and shared is not None:
        return (
            f'<td class="shared" data-locale="{escape(locale)}">{escape(shared.text)}'
            '<span class="status">same in every language</span></td>'
        )
    if entry is None:
        return (
            f'<td class="status-missing" data-locale="{escape(locale)}">'
            '<span class="status">missing</span></td>'
        )
    status = status_of(context, key, locale)
    lang = f' lang="{escape(locale)}"'
    if status is None:
        return f'<td class="source" data-locale="{escape(locale)}"{lang}>{escape(entry.text)}</td>'
    css = "status-" + status.value.replace(" ", "-")
    extra = ""
    if status is TranslationStatus.NEEDS_UPDATE:
        records = usable_records(context.records, locale, context.source_locale)
        record = records.records.get(key) if records is not None else None
        if record is not None:
            extra = (
                "<details><summary>what changed</summary>"
                f'<p>translated from: <q lang="{escape(context.source_locale)}">{escape(record.source_text)}</q></p>'
                "</details>"
            )
    return (
        f'<td class="{css}" data-locale="{escape(locale)}"{lang}>{escape(entry.text)}'
        f'<span class="status">{escape(status.value)}</span>{extra}</td>'
    )


def pending_count(context: TextsContext, keys: Sequence[str]) -> int:
    """How many translations of these keys are missing or need an update."""
    wanted = (TranslationStatus.MISSING, TranslationStatus.NEEDS_UPDATE)
    return sum(
        1 for key in keys for locale in context.locales if status_of(context, key, locale) in wanted
    )
