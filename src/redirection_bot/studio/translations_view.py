"""The translations page: how far each locale is, and every text side by side, filtered by
status (for instance: only what needs an update in Finnish)."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from redirection_bot.studio.texts_view import TextsContext, status_of, texts_table
from redirection_bot.translation.status import TranslationStatus, count_statuses, translation_rows

_PHRASES = {
    TranslationStatus.MISSING: "with a missing translation",
    TranslationStatus.NEEDS_UPDATE: "with a translation that needs an update",
    TranslationStatus.UNTRACKED: "with an untracked translation",
    TranslationStatus.DONE: "with a translation that is done",
}


def translations_html(
    context: TextsContext, program_locales: tuple[str, ...], status: str | None
) -> str:
    source = context.source_locale
    summary = []
    for locale in context.locales:
        if locale == source:
            continue
        counts = count_statuses(translation_rows(context.catalog, context.records, locale, source))
        cells = "".join(
            f'<td><a href="/translations?{urlencode({"status": s.value})}">{counts[s]}</a></td>'
            for s in TranslationStatus
        )
        note = "" if locale in program_locales else " <small>(not yet in the program)</small>"
        summary.append(
            f'<tr data-locale="{escape(locale)}"><th scope="row">{escape(locale)}{note}</th>{cells}</tr>'
        )
    heads = "".join(f'<th scope="col">{escape(s.value)}</th>' for s in TranslationStatus)
    wanted = TranslationStatus(status) if status in {s.value for s in TranslationStatus} else None
    keys = [entry.key for entry in context.catalog.entries(source)]
    if wanted is not None:
        keys = [
            k for k in keys if any(status_of(context, k, loc) is wanted for loc in context.locales)
        ]
    filters = " ".join(
        f'<a href="/translations?{urlencode({"status": s.value})}"'
        f"{' aria-current=true' if s is wanted else ''}>{escape(s.value)}</a>"
        for s in TranslationStatus
    )
    shown = f"{len(keys)} text(s)" + (f" {_PHRASES[wanted]}" if wanted else "")
    return (
        '<main class="translations"><h2>Translations</h2>'
        f"<p>Texts are written in <strong>{escape(source)}</strong>. A translation is "
        "<em>done</em> when it was made from (or checked against) today's text, <em>needs update</em> "
        "when that text changed since, <em>untracked</em> when nobody recorded what it was made "
        "from. See docs/translating.md.</p>"
        f'<table class="summary"><thead><tr><th scope="col">locale</th>{heads}</tr></thead>'
        f"<tbody>{''.join(summary)}</tbody></table>"
        f'<p class="filters">show: <a href="/translations">all</a> {filters}</p>'
        f"<p>{escape(shown)}</p>"
        f"{texts_table(context, [('', key) for key in keys])}</main>"
    )
