"""Choosing the exchange format: by the ``--format`` option on export, by the file's content on import."""

from __future__ import annotations

from collections.abc import Sequence

from redirection_bot.diagnostics import Diagnostics
from redirection_bot.translation import csv_exchange, xliff
from redirection_bot.translation.exchange import (
    ExchangeFormat,
    ExportHeader,
    ExportRow,
    ImportedFile,
)


def export_file(header: ExportHeader, rows: Sequence[ExportRow], fmt: ExchangeFormat) -> str:
    """The exchange file's text in ``fmt``."""
    if fmt is ExchangeFormat.CSV:
        return csv_exchange.write_csv(rows)
    return xliff.write_xliff(header, rows, "1.2" if fmt is ExchangeFormat.XLIFF12 else "2.0")


def read_file(data: bytes, shown: str, diagnostics: Diagnostics) -> ImportedFile | None:
    """Read an exchange file: XLIFF (either version, as the file says) if it is XML, else CSV.
    Problems become diagnostics; None when nothing could be read."""
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return xliff.read_xliff(data, shown, diagnostics)
    return csv_exchange.read_csv(data, shown, diagnostics)
