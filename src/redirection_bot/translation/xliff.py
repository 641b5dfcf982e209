"""XLIFF 1.2 and 2.0 exchange files, the formats translation tools read.

One unit per text, its id the text's key. The status travels in the standard ``state``
attribute (1.2: ``needs-translation``, ``needs-review-translation``, ``final``; 2.0:
``initial`` or ``final``, with ``subState`` ``redirection-bot:<status>``); where the text is
used, its placeholders, the source text a stale translation was made from and the export's
fingerprint travel as notes. On import a unit counts as confirmed when its state is
``translated``, ``reviewed`` (2.0), ``final`` or ``signed-off`` (1.2), or it is
``approved="yes"`` (1.2).

Placeholders are inline ``<ph>`` elements, so that translation tools show them as tags that
cannot be mistyped: in 1.2 ``<ph id="1">%{name}</ph>``; in 2.0 ``<ph id="1" dataRef="d1"
disp="%{name}" equiv="%{name}"/>`` with the text in the unit's ``<originalData>``. A target's
``<ph>`` has the id of the source's ``<ph>`` for the same placeholder. Reading, a ``<ph>``
becomes its ``%{name}`` again; other inline markup is refused.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field

from redirection_bot.diagnostics import Diagnostics
from redirection_bot.language.i18n import PLACEHOLDER_PATTERN
from redirection_bot.translation.exchange import (
    ExportHeader,
    ExportRow,
    Fingerprint,
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
FINGERPRINT_NOTE = "fingerprint"
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


@dataclass(slots=True)
class _InlineTexts:
    """Texts to write with ``<ph>`` elements once the document is indented (indenting an
    element with children would change the whitespace of its text)."""

    pending: list[tuple[ET.Element, str, dict[str, str], str]] = field(default_factory=list)

    def later(self, element: ET.Element, text: str, ids: dict[str, str], version: str) -> None:
        self.pending.append((element, text, ids, version))

    def write(self) -> None:
        for element, text, ids, version in self.pending:
            _fill(element, text, ids, version)


def split_placeholders(text: str) -> list[str | tuple[str]]:
    """A text as plain parts and ``(name,)`` placeholders, in order (``%%`` stays text)."""
    parts: list[str | tuple[str]] = []
    at = 0
    for match in PLACEHOLDER_PATTERN.finditer(text):
        name = match.group("braced")
        if name:
            if match.start() > at:
                parts.append(text[at : match.start()])
            parts.append((name,))
            at = match.end()
    if at < len(text):
        parts.append(text[at:])
    return parts


def _placeholder_names(text: str) -> list[str]:
    return [part[0] for part in split_placeholders(text) if isinstance(part, tuple)]


def _data_ids(*texts: str) -> dict[str, str]:
    """One ``<data>`` id per placeholder name of a unit."""
    names = sorted({name for text in texts for name in _placeholder_names(text)})
    return {name: f"d{index}" for index, name in enumerate(names, start=1)}


def _fill(element: ET.Element, text: str, data_ids: dict[str, str], version: str) -> None:
    """Write ``text`` into ``element``, each placeholder as a ``<ph>``: its id is the data id's
    number and the occurrence (``1``, ``1-2`` for a second ``%{x}``), the same in source and
    target."""
    element.text = ""
    last: ET.Element | None = None
    seen: dict[str, int] = {}
    for part in split_placeholders(text):
        if isinstance(part, str):
            if last is None:
                element.text = (element.text or "") + part
            else:
                last.tail = (last.tail or "") + part
            continue
        name = part[0]
        seen[name] = seen.get(name, 0) + 1
        number = data_ids[name][1:]
        ph_id = number if seen[name] == 1 else f"{number}-{seen[name]}"
        raw = f"%{{{name}}}"
        if version == "1.2":
            last = ET.SubElement(element, "ph", {"id": ph_id})
            last.text = raw
        else:
            attributes = {"id": ph_id, "dataRef": data_ids[name], "disp": raw, "equiv": raw}
            last = ET.SubElement(element, "ph", attributes)


def write_xliff(header: ExportHeader, rows: Sequence[ExportRow], version: str) -> str:
    namespace = NAMESPACES[version]
    inline = _InlineTexts()
    root = _write_12(header, rows, inline) if version == "1.2" else _write_20(header, rows, inline)
    ET.indent(root)
    inline.write()
    root.set("xmlns", namespace)  # written as an attribute: ElementTree's namespace handling
    # cannot mix a default namespace with plain attribute names.
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _write_12(header: ExportHeader, rows: Sequence[ExportRow], inline: _InlineTexts) -> ET.Element:
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
        translation = row.translation.text if row.translation is not None else ""
        ids = _data_ids(row.source.text, translation)
        inline.later(ET.SubElement(unit, "source"), row.source.text, ids, "1.2")
        target = ET.SubElement(unit, "target", {"state": _STATE_12[row.status]})
        inline.later(target, translation, ids, "1.2")
        for category, text in _notes(exported):
            ET.SubElement(unit, "note", {"from": category}).text = text
    return root


def _write_20(header: ExportHeader, rows: Sequence[ExportRow], inline: _InlineTexts) -> ET.Element:
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
        translation = row.translation.text if row.translation is not None else None
        ids = _data_ids(row.source.text, translation or "")
        if ids:
            original = ET.SubElement(unit, "originalData")
            for name, data_id in ids.items():
                ET.SubElement(original, "data", {"id": data_id}).text = f"%{{{name}}}"
        done = row.status is TranslationStatus.DONE
        state = {"state": "final"} if done else {"state": "initial"}
        if not done:
            state["subState"] = SUBSTATE_PREFIX + row.status.value.replace(" ", "-")
        segment = ET.SubElement(unit, "segment", state)
        source = ET.SubElement(segment, "source", {f"{_XML}space": "preserve"})
        inline.later(source, row.source.text, ids, "2.0")
        if translation is not None:
            target = ET.SubElement(segment, "target", {f"{_XML}space": "preserve"})
            inline.later(target, translation, ids, "2.0")
    return root


def _notes(exported: ExportRow) -> list[tuple[str, str]]:
    notes = [("status", exported.row.status.value)]
    if exported.note():
        notes.append(("context", exported.note()))
    if exported.row.translated_from is not None:
        notes.append(("previous-source", exported.row.translated_from))
    notes.append((FINGERPRINT_NOTE, str(exported.fingerprint)))
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
        source_text = _plain(source, where, {}, diagnostics)
        target_text = _plain(target, where, {}, diagnostics) if target is not None else ""
        notes = [n for n in unit.find_all("note") if n.attributes.get("from") == FINGERPRINT_NOTE]
        ok, fingerprint = _fingerprint(notes, where, diagnostics)
        if source_text is None or target_text is None or not ok:
            continue
        state = target.attributes.get("state", "") if target is not None else ""
        confirmed = state in _CONFIRMED["1.2"] or unit.attributes.get("approved") == "yes"
        rows.append(
            ImportedRow(key, source_text, target_text, confirmed, unit.span, where, fingerprint)
        )
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
        data = {
            item.attributes.get("id", ""): item.text
            for original in unit.find_all("originalData")
            for item in original.find_all("data")
        }
        notes = [
            note
            for group in unit.find_all("notes")
            for note in group.find_all("note")
            if note.attributes.get("category") == FINGERPRINT_NOTE
        ]
        ok, fingerprint = _fingerprint(notes, where, diagnostics)
        sources, targets, confirmed = [], [], True
        for part in parts:
            source, target = part.find("source"), part.find("target")
            if source is None:
                diagnostics.error(part.span, f"{where}: a <{part.name}> has no <source>")
                break
            sources.append(_plain(source, where, data, diagnostics))
            targets.append(_plain(target, where, data, diagnostics) if target is not None else "")
            if part.name == "segment":
                confirmed = confirmed and part.attributes.get("state") in _CONFIRMED["2.0"]
        else:
            if any(text is None for text in sources + targets) or not ok:
                continue
            rows.append(
                ImportedRow(
                    key,
                    "".join(t or "" for t in sources),
                    "".join(t or "" for t in targets),
                    confirmed,
                    unit.span,
                    where,
                    fingerprint,
                )
            )
    return ImportedFile(root.attributes.get("srcLang"), root.attributes.get("trgLang"), rows)


def _one_value(files: list[XmlElement], attribute: str, diagnostics: Diagnostics) -> str | None:
    values = {file.attributes.get(attribute) for file in files} - {None}
    if len(values) > 1:
        diagnostics.error(files[0].span, f"the <file> elements disagree on `{attribute}`")
    return next(iter(sorted(v for v in values if v is not None)), None)


def _fingerprint(
    notes: list[XmlElement], where: str, diagnostics: Diagnostics
) -> tuple[bool, Fingerprint | None]:
    """The unit's fingerprint note, if any; (False, None) when it is not as exported."""
    if not notes:
        return True, None
    found = Fingerprint.parse(notes[0].text)
    if found is None:
        diagnostics.error(
            notes[0].span,
            f"{where}: the fingerprint note `{notes[0].text.strip()}` is not as exported; "
            "leave it as it is",
        )
        return False, None
    return True, found


def _plain(
    element: XmlElement, where: str, data: dict[str, str], diagnostics: Diagnostics
) -> str | None:
    """An element's text, each ``<ph>`` read back as its placeholder; other inline markup is
    refused. ``data`` is the unit's ``<originalData>`` (2.0)."""
    parts: list[str] = []
    for item in element.content:
        if isinstance(item, str):
            parts.append(item)
            continue
        text = _placeholder(item, data) if item.name == "ph" else None
        if text is None:
            what = (
                "this <ph> is not a placeholder of the text"
                if item.name == "ph"
                else (f"<{item.name}> inside <{element.name}> is not supported")
            )
            diagnostics.error(
                item.span,
                f"{where}: {what}; write the text plainly, with placeholders as %{{name}} or "
                "the <ph> elements of the source",
            )
            return None
        parts.append(text)
    return "".join(parts)


def _placeholder(ph: XmlElement, data: dict[str, str]) -> str | None:
    """What a ``<ph>`` stands for: its data (2.0), its content (1.2), or its ``equiv``/``disp``;
    None unless that is one ``%{name}``."""
    reference = ph.attributes.get("dataRef")
    candidates = [
        data.get(reference) if reference is not None else None,
        ph.text if not ph.children else None,
        ph.attributes.get("equiv"),
        ph.attributes.get("disp"),
    ]
    for candidate in candidates:
        if candidate:
            parts = split_placeholders(candidate.strip())
            return candidate.strip() if len(parts) == 1 and isinstance(parts[0], tuple) else None
    return None
