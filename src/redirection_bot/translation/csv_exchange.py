"""CSV exchange files, for translators who work in a spreadsheet.

Columns: ``key, source, translation, status, previous_source, note``. A translator fills in
``translation`` and may set ``status`` to ``done`` to confirm a translation they checked
but did not change. ``previous_source`` (for texts that need an update) is the source text
the current translation was made from; ``note`` says where the text is used. Only ``key``,
``source`` and ``translation`` are needed to import; other columns are ignored.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from redirection_bot.diagnostics import Diagnostics, Span
from redirection_bot.translation.exchange import ExportRow, ImportedFile, ImportedRow
from redirection_bot.translation.status import TranslationStatus

COLUMNS = ("key", "source", "translation", "status", "previous_source", "note")
REQUIRED = ("key", "source", "translation")


def write_csv(rows: Sequence[ExportRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for exported in rows:
        row = exported.row
        writer.writerow(
            (
                row.key,
                row.source.text,
                row.translation.text if row.translation is not None else "",
                row.status.value,
                row.translated_from or "",
                exported.note(),
            )
        )
    return out.getvalue()


def read_csv(data: bytes, shown: str, diagnostics: Diagnostics) -> ImportedFile | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        diagnostics.error(Span(shown, line, 1), "this file is not UTF-8 text; save it as CSV UTF-8")
        return None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            diagnostics.error(Span(shown, 1, 1), "this file is empty")
            return None
        names = [name.strip().lower() for name in header]
        missing = [name for name in REQUIRED if name not in names]
        if missing:
            diagnostics.error(
                Span(shown, 1, 1),
                f"the first row must name the columns; missing: {', '.join(missing)} "
                f"(expected {', '.join(COLUMNS)})",
            )
            return None
        index = {name: names.index(name) for name in COLUMNS if name in names}
        rows = []
        line = reader.line_num + 1
        for number, fields in enumerate(reader, start=2):
            span = Span(shown, line, 1)
            line = reader.line_num + 1
            if not any(field.strip() for field in fields):
                continue
            row = _row(fields, index, span, f"row {number}", diagnostics)
            if row is not None:
                rows.append(row)
    except csv.Error as error:
        diagnostics.error(Span(shown, reader.line_num, 1), f"this is not valid CSV: {error}")
        return None
    return ImportedFile(None, None, rows)


def _row(
    fields: list[str], index: dict[str, int], span: Span, where: str, diagnostics: Diagnostics
) -> ImportedRow | None:
    def column(name: str) -> str:
        at = index.get(name)
        return fields[at] if at is not None and at < len(fields) else ""

    status = column("status").strip().lower()
    known = [s.value for s in TranslationStatus]
    if status and status not in known:
        diagnostics.error(span, f"{where}: the status `{status}` is not one of: {', '.join(known)}")
        return None
    return ImportedRow(
        column("key").strip(),
        column("source"),
        column("translation"),
        status == TranslationStatus.DONE.value,
        span,
        where,
    )
