"""Translation records: for each translated text, the source text it was made from.

One file per locale, ``locales/.translation-records/<locale>.yml``::

    locale: es
    source_locale: en
    translated_from:
      welcome.intro: "Many people who come here have tried to stop before."

Keeping the source text itself (not only a hash of it) lets a translator see what changed
in a text marked "needs update". The files are written by ``redirection-bot i18n`` and read
by the validator and the studio; a person need never edit them.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from redirection_bot.diagnostics import Diagnostics, Span
from redirection_bot.language.i18n import display_path
from redirection_bot.language.yaml_schema import LOCALE_PATTERN, SchemaReader
from redirection_bot.language.yaml_source import YScalar, read_yaml_file

RECORDS_FOLDER = ".translation-records"
"""A hidden folder inside the locales folder: the locale loader skips it."""


@dataclass(frozen=True, slots=True)
class Record:
    """The source text one translation was made from."""

    key: str
    source_text: str
    span: Span


@dataclass(frozen=True, slots=True)
class LocaleRecords:
    """Every record of one locale, and where its file is."""

    locale: str
    source_locale: str
    path: Path
    span: Span
    records: Mapping[str, Record] = field(default_factory=dict)


def records_path(locales: Path, locale: str) -> Path:
    return locales / RECORDS_FOLDER / f"{locale}.yml"


def load_translation_records(
    locales: Path, diagnostics: Diagnostics, display_root: Path | None = None
) -> dict[str, LocaleRecords]:
    """Every locale's records (locale -> records); problems become diagnostics."""
    folder = locales / RECORDS_FOLDER
    found: dict[str, LocaleRecords] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        if path.suffix in (".yml", ".yaml") and path.is_file():
            read = read_records_file(path, display_path(path, display_root), diagnostics)
            if read is not None:
                found[read.locale] = read
    return found


def read_records_file(path: Path, shown: str, diagnostics: Diagnostics) -> LocaleRecords | None:
    reader = SchemaReader(diagnostics)
    top = reader.mapping(read_yaml_file(path, shown, diagnostics), "a translation records file")
    if top is None:
        return None
    reader.fields(
        top,
        ("locale", "source_locale", "translated_from"),
        "a translation records file",
        required=("locale", "source_locale"),
    )
    locale = reader.text(top.get("locale"), "`locale`")
    source_locale = reader.text(top.get("source_locale"), "`source_locale`")
    if locale is None or source_locale is None:
        return None
    if path.stem != locale or not LOCALE_PATTERN.match(locale):
        reader.error(top.span, f"this file records `{locale}` translations: name it `{locale}.yml`")
        return None
    records: dict[str, Record] = {}
    body = top.get("translated_from")
    mapping = reader.mapping(body, "`translated_from`") if body is not None else None
    for key, value in mapping or ():
        if not isinstance(value, YScalar) or value.kind == "null":
            reader.error(key.span, f"the record of `{key.text}` should be the source text")
            continue
        records[key.text] = Record(key.text, value.text, key.span)
    return LocaleRecords(locale, source_locale, path, top.span, records)


def write_records(
    locales: Path, locale: str, source_locale: str, translated_from: Mapping[str, str]
) -> Path:
    """Write one locale's records (sorted by key, so that changes are easy to review)."""
    path = records_path(locales, locale)
    lines = [
        f"# The `{source_locale}` text each `{locale}` translation was made from.",
        "# Written by `redirection-bot i18n`; see docs/translating.md. Do not edit by hand.",
        f"locale: {json.dumps(locale)}",
        f"source_locale: {json.dumps(source_locale)}",
    ]
    if translated_from:
        lines.append("translated_from:")
        lines += [
            f"  {json.dumps(key)}: {yaml_string(text)}"
            for key, text in sorted(translated_from.items())
        ]
    else:
        lines.append("translated_from: {}")
    write_atomically(path, "\n".join(lines) + "\n")
    return path


def yaml_string(text: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is a subset of it)."""
    return json.dumps(text, ensure_ascii=False)


def write_atomically(path: Path, text: str) -> None:
    """Replace a file in one step, so that a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
