"""XLIFF 1.2 and 2.0 exchange files, the formats translation tools read.

One unit per text, its id the text's key. The status travels in the standard ``state``
attribute (1.2: ``needs-translation``, ``needs-review-translation``, ``final``; 2.0:
``initial`` or ``final``, with ``subState`` ``redirection-bot:<status>``); where the text is
used, its placeholders and the source text a stale translation was made from travel as
notes. On import a unit counts as confirmed when its state is ``translated``, ``reviewed``
(2.0), ``final`` or ``signed-off`` (1.2), or it is ``approved="yes"`` (1.2).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from redirection_bot.diagnostics import Diagnostics
from redirection_bot.translation.exchange import (
    ExportHeader,
    ExportRow,
    ImportedFile,
    ImportedRow,
)
from redirection_bot.translation.status import TranslationStatus
from redirection_bot.translation.xml_reader import XmlElement, XmlError, parse_xml

NAMESPACES = {
    "1.2": "urn:oasis:names:tc:xliff:document:1.2",
    "2.0": "urn:oasis:names:tc:xliff:document:2.0",
}
_XML = "{http://www.w3.org/XML/1998/namespace}"
SUBSTATE_PREFIX = "redirection-bot:"
_STATE_12 = {
    TranslationStatus.MISSING: "needs-translation",
    TranslationStatus.NEEDS_UPDATE: "needs-review-translation",
    TranslationStatus.UNTRACKED: "needs-review-translation",
    TranslationStatus.DONE: "final",
}
_CONFIRMED = {
    "1.2": {"translated", "final", "signed-off"},
    "2.0": {"translated", "reviewed", "final"},
}


def write_xliff(header: ExportHeader, rows: Sequence[ExportRow], version: str) -> str:
    namespace = NAMESPACES[version]
    write = _write_12 if version == "1.2" else _write_20
    root = write(header, rows)
    ET.indent(root)
    root.set("xmlns", namespace)  # written as an attribute: ElementTree's namespace handling
    # cannot mix a default namespace with plain attribute names.
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _write_12(header: ExportHeader, rows: Sequence[ExportRow]) -> ET.Element:
    root = ET.Element("xliff", {"version": "1.2"})
    file = ET.SubElement(
        root,
        "file",
        {
            "original": header.program,
            "source-language": header.source_locale,
            "target-language": header.locale,
            "datatype": "plaintext",
        },
    )
    body = ET.SubElement(file, "body")
    for exported in rows:
        row = exported.row
        unit = ET.SubElement(
            body,
            "trans-unit",
            {"id": row.key, "resname": row.key, f"{_XML}space": "preserve"},
        )
        ET.SubElement(unit, "source").text = row.source.text
        target = ET.SubElement(unit, "target", {"state": _STATE_12[row.status]})
        target.text = row.translation.text if row.translation is not None else ""
        for category, text in _notes(exported):
            ET.SubElement(unit, "note", {"from": category}).text = text
    return root


def _write_20(header: ExportHeader, rows: Sequence[ExportRow]) -> ET.Element:
    root = ET.Element(
        "xliff",
        {"version": "2.0", "srcLang": header.source_locale, "trgLang": header.locale},
    )
    file = ET.SubElement(root, "file", {"id": header.program})
    for exported in rows:
        row = exported.row
        unit = ET.SubElement(file, "unit", {"id": row.key, "name": row.key})
        notes = ET.SubElement(unit, "notes")
        for category, text in _notes(exported):
            ET.SubElement(notes, "note", {"category": category}).text = text
        done = row.status is TranslationStatus.DONE
        state = {"state": "final"} if done else {"state": "initial"}
        if not done:
            state["subState"] = SUBSTATE_PREFIX + row.status.value.replace(" ", "-")
        segment = ET.SubElement(unit, "segment", state)
        source = ET.SubElement(segment, "source", {f"{_XML}space": "preserve"})
        source.text = row.source.text
        if row.translation is not None:
            target = ET.SubElement(segment, "target", {f"{_XML}space": "preserve"})
            target.text = row.translation.text
    return root


def _notes(exported: ExportRow) -> list[tuple[str, str]]:
    notes = [("status", exported.row.status.value)]
    if exported.note():
        notes.append(("context", exported.note()))
    if exported.row.translated_from is not None:
        notes.append(("previous-source", exported.row.translated_from))
    return notes


# --- reading -------------------------------------------------------------------------------------


def read_xliff(data: bytes, shown: str, diagnostics: Diagnostics) -> ImportedFile | None:
    try:
        root = parse_xml(data, shown)
    except XmlError as error:
        diagnostics.error(error.span, str(error))
        return None
    version = root.attributes.get("version", "")
    if root.name != "xliff" or version not in NAMESPACES:
        diagnostics.error(root.span, "this is not an XLIFF 1.2 or 2.0 file")
        return None
    if root.namespace != NAMESPACES[version]:
        diagnostics.error(
            root.span, f"an XLIFF {version} file uses the namespace `{NAMESPACES[version]}`"
        )
        return None
    if version == "1.2":
        return _read_12(root, diagnostics)
    return _read_20(root, diagnostics)


def _read_12(root: XmlElement, diagnostics: Diagnostics) -> ImportedFile:
    files = root.find_all("file")
    source_locale = _one_value(files, "source-language", diagnostics)
    locale = _one_value(files, "target-language", diagnostics)
    rows = []
    for unit in root.iter("trans-unit"):
        key = unit.attributes.get("resname") or unit.attributes.get("id", "")
        where = f"unit `{key}`"
        source = unit.find("source")
        target = unit.find("target")
        if source is None:
            diagnostics.error(unit.span, f"{where} has no <source>")
            continue
        source_text = _plain(source, where, diagnostics)
        target_text = _plain(target, where, diagnostics) if target is not None else ""
        if source_text is None or target_text is None:
            continue
        state = target.attributes.get("state", "") if target is not None else ""
        confirmed = state in _CONFIRMED["1.2"] or unit.attributes.get("approved") == "yes"
        rows.append(ImportedRow(key, source_text, target_text, confirmed, unit.span, where))
    return ImportedFile(source_locale, locale, rows)


def _read_20(root: XmlElement, diagnostics: Diagnostics) -> ImportedFile:
    rows = []
    for unit in root.iter("unit"):
        key = unit.attributes.get("id", "")
        where = f"unit `{key}`"
        parts = [c for c in unit.children if c.name in ("segment", "ignorable")]
        if not parts:
            diagnostics.error(unit.span, f"{where} has no <segment>")
            continue
        sources, targets, confirmed = [], [], True
        for part in parts:
            source, target = part.find("source"), part.find("target")
            if source is None:
                diagnostics.error(part.span, f"{where}: a <{part.name}> has no <source>")
                break
            sources.append(_plain(source, where, diagnostics))
            targets.append(_plain(target, where, diagnostics) if target is not None else "")
            if part.name == "segment":
                confirmed = confirmed and part.attributes.get("state") in _CONFIRMED["2.0"]
        else:
            if any(text is None for text in sources + targets):
                continue
            rows.append(
                ImportedRow(
                    key,
                    "".join(t or "" for t in sources),
                    "".join(t or "" for t in targets),
                    confirmed,
                    unit.span,
                    where,
                )
            )
    return ImportedFile(root.attributes.get("srcLang"), root.attributes.get("trgLang"), rows)


def _one_value(files: list[XmlElement], attribute: str, diagnostics: Diagnostics) -> str | None:
    values = {file.attributes.get(attribute) for file in files} - {None}
    if len(values) > 1:
        diagnostics.error(files[0].span, f"the <file> elements disagree on `{attribute}`")
    return next(iter(sorted(v for v in values if v is not None)), None)


def _plain(element: XmlElement, where: str, diagnostics: Diagnostics) -> str | None:
    """An element's text; inline markup is refused (placeholders are written ``%{name}``)."""
    if element.children:
        child = element.children[0]
        diagnostics.error(
            child.span,
            f"{where}: <{child.name}> inside <{element.name}> is not supported; "
            "write the text plainly, with placeholders as %{name}",
        )
        return None
    return element.text
