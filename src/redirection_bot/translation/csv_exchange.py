"""CSV exchange files, for translators who work in a spreadsheet.

Columns: ``key, source, translation, status, previous_source, note, fingerprint``. A
translator fills in ``translation`` and may set ``status`` to ``done`` to confirm a
translation they checked but did not change. ``previous_source`` (for texts that need an
update) is the source text the current translation was made from; ``note`` says where the
text is used; ``fingerprint`` is what the export held (see ``exchange.Fingerprint``). Only
``key``, ``source`` and ``translation`` are needed to import; other columns are ignored.

Files are written with commas; a file saved with semicolons or tabs (what a spreadsheet
saves where the comma is the decimal sign, as in Spanish and Finnish settings) is read too:
the delimiter is the one that makes the first row name the needed columns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from redirection_bot.diagnostics import Diagnostics, Span
from redirection_bot.translation.exchange import (
    ExportRow,
    Fingerprint,
    ImportedFile,
    ImportedRow,
)
from redirection_bot.translation.status import TranslationStatus

COLUMNS = ("key", "source", "translation", "status", "previous_source", "note", "fingerprint")
REQUIRED = ("key", "source", "translation")
DELIMITERS = (",", ";", "\t")


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
                str(exported.fingerprint),
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
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
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


def _delimiter(text: str) -> str:
    """The delimiter with which the first row names the needed columns (a comma if none does)."""
    for delimiter in DELIMITERS:
        try:
            header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
        except csv.Error:
            continue
        if set(REQUIRED) <= {name.strip().lower() for name in header}:
            return delimiter
    return ","


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
    written = column("fingerprint").strip()
    fingerprint = Fingerprint.parse(written) if written else None
    if written and fingerprint is None:
        diagnostics.error(
            span,
            f"{where}: the fingerprint `{written}` is not as exported; leave that column as it is",
        )
        return None
    return ImportedRow(
        column("key").strip(),
        column("source"),
        column("translation"),
        status == TranslationStatus.DONE.value,
        span,
        where,
        fingerprint,
    )
