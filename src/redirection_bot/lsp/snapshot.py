"""Checking the program as the editor holds it, and an index of what its names point at.

The validator reads files from disk. An editor's unsaved text is not on disk, so a check
copies the ``dialogues`` and ``locales`` folders into a temporary folder, writes the open
documents over their copies, and runs the validator there (``check_program``, unchanged).
Every place it reports is then mapped back to the author's own file. The same copy is
read for the index (flows, their nodes, texts and their translations' status) that go to
definition, hover and completion use.

Nothing here knows about the Language Server Protocol; ``server.py`` does.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from redirection_bot.diagnostics import Diagnostic, Diagnostics, Span
from redirection_bot.language.i18n import Catalog, Entry, load_locale_files
from redirection_bot.language.yaml_source import YMapping, YScalar, YSequence, read_yaml_file
from redirection_bot.program.load import PROGRAM_FILE, ProgramSources, check_program
from redirection_bot.translation.records import LocaleRecords, load_translation_records
from redirection_bot.translation.status import TranslationStatus, translation_row, usable_records


@dataclass(frozen=True, slots=True)
class FlowInfo:
    """One flow file: its id, where the id is written, and where each node starts."""

    id: str
    span: Span
    nodes: Mapping[str, Span]


@dataclass(frozen=True, slots=True)
class Translation:
    """One locale's text for a key and its status (docs/translating.md)."""

    locale: str
    status: TranslationStatus
    text: str | None
    span: Span | None
    translated_from: str | None


@dataclass(frozen=True, slots=True)
class TextInfo:
    """A text key: its source text and every translation's status."""

    key: str
    source: Entry
    translations: tuple[Translation, ...]


@dataclass(frozen=True, slots=True)
class ProgramIndex:
    """Where every flow, node and text key is written; spans name the author's own files."""

    default_locale: str = "en"
    flows: Mapping[str, FlowInfo] = field(default_factory=dict)
    texts: Mapping[str, TextInfo] = field(default_factory=dict)

    def flow_in_file(self, path: Path) -> FlowInfo | None:
        wanted = str(path)
        return next((flow for flow in self.flows.values() if flow.span.path == wanted), None)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The validator's diagnostics by file (the author's paths), and the index."""

    diagnostics: Mapping[Path, tuple[Diagnostic, ...]]
    index: ProgramIndex


class _Copy:
    """A temporary copy of the program's folders, with the editor's texts written over it."""

    def __init__(self, sources: ProgramSources, root: Path) -> None:
        self.root = root
        self._real = {
            "dialogues": sources.dialogues.resolve(),
            "locales": sources.locales.resolve(),
        }
        self.sources = ProgramSources(root / "dialogues", root / "locales")

    def fill(self, documents: Mapping[Path, str]) -> None:
        for name, real in self._real.items():
            if real.is_dir():
                shutil.copytree(real, self.root / name, symlinks=True)
        for path, text in documents.items():
            copy = self.copy_of(path)
            if copy is not None:
                copy.parent.mkdir(parents=True, exist_ok=True)
                copy.write_text(text, encoding="utf-8")

    def copy_of(self, path: Path) -> Path | None:
        resolved = path.resolve()
        for name, real in self._real.items():
            if resolved.is_relative_to(real):
                return self.root / name / resolved.relative_to(real)
        return None

    def real_path(self, shown: str) -> Path:
        """The author's file for a path as the validator showed it (relative to the copy)."""
        path = Path(shown)
        if path.is_absolute():
            if not path.is_relative_to(self.root):
                return path
            path = path.relative_to(self.root)
        if path.parts and path.parts[0] in self._real:
            return self._real[path.parts[0]].joinpath(*path.parts[1:])
        return self._real["dialogues"] / PROGRAM_FILE

    def real_span(self, span: Span) -> Span:
        return Span(str(self.real_path(span.path)), span.line, span.column)


def check_documents(
    sources: ProgramSources,
    documents: Mapping[Path, str],
    registered_actions: Collection[str] | None,
    today: dt.date,
    previous: ProgramIndex | None = None,
) -> CheckResult:
    """Validate the program with ``documents`` (path -> the editor's text) in place of the files."""
    with tempfile.TemporaryDirectory(prefix="redirection-bot-lsp-") as folder:
        copy = _Copy(sources, Path(folder))
        copy.fill(documents)
        loaded, diagnostics = check_program(copy.sources, registered_actions, today, copy.root)
        if loaded is not None:
            loaded.catalog.close()  # python-i18n keeps every catalog's texts in one global
        by_file: dict[Path, list[Diagnostic]] = {}
        for item in diagnostics.items:
            span = copy.real_span(item.span)
            by_file.setdefault(Path(span.path), []).append(
                Diagnostic(span, item.severity, item.message)
            )
        index = _build_index(copy, previous or ProgramIndex())
    return CheckResult({path: tuple(items) for path, items in by_file.items()}, index)


def _build_index(copy: _Copy, previous: ProgramIndex) -> ProgramIndex:
    ignored = Diagnostics()
    header = read_yaml_file(copy.sources.dialogues / PROGRAM_FILE, PROGRAM_FILE, ignored)
    default_locale, locales = previous.default_locale, [previous.default_locale]
    if isinstance(header, YMapping):
        default_locale = _scalar(header.get("default_locale")) or default_locale
        listed = header.get("locales")
        if isinstance(listed, YSequence):
            locales = [item.text for item in listed if isinstance(item, YScalar)]
    flows = _index_flows(copy, previous)
    entries = load_locale_files(copy.sources.locales, ignored, copy.root)
    records = load_translation_records(copy.sources.locales, ignored, copy.root)
    texts = _index_texts(copy, entries, records, default_locale, locales)
    return ProgramIndex(default_locale, flows, texts)


def _index_flows(copy: _Copy, previous: ProgramIndex) -> dict[str, FlowInfo]:
    flows: dict[str, FlowInfo] = {}
    for path in copy.sources.flow_files():
        real = copy.real_path(str(path.relative_to(copy.root)))
        root = read_yaml_file(path, str(real), Diagnostics())
        info = _flow_info(root, real) if isinstance(root, YMapping) else None
        # While a file does not parse (mid-edit), keep what it held last time it did.
        info = info or previous.flow_in_file(real)
        if info is not None:
            flows.setdefault(info.id, info)
    return flows


def _flow_info(root: YMapping, path: Path) -> FlowInfo | None:
    flow_id = root.get("flow")
    if not isinstance(flow_id, YScalar):
        return None
    nodes = root.get("nodes")
    spans = {}
    if isinstance(nodes, YMapping):
        spans = {key.text: key.span for key, _node in nodes}
    return FlowInfo(flow_id.text, flow_id.span, spans)


def _index_texts(
    copy: _Copy,
    entries: Mapping[str, Mapping[str, Entry]],
    records: Mapping[str, LocaleRecords],
    default_locale: str,
    locales: list[str],
) -> dict[str, TextInfo]:
    catalog = Catalog(entries, default_locale)
    try:
        others = [locale for locale in locales if locale != default_locale]
        found: dict[str, TextInfo] = {}
        for source in catalog.entries(default_locale):
            translations = []
            for locale in others:
                row = translation_row(
                    catalog, usable_records(records, locale, default_locale), source, locale
                )
                entry = row.translation
                translations.append(
                    Translation(
                        locale,
                        row.status,
                        entry.text if entry else None,
                        copy.real_span(entry.span) if entry else None,
                        row.translated_from,
                    )
                )
            moved = Entry(source.key, source.locale, source.text, copy.real_span(source.span))
            found[source.key] = TextInfo(source.key, moved, tuple(translations))
        return found
    finally:
        catalog.close()


def _scalar(node: object) -> str | None:
    return node.text if isinstance(node, YScalar) else None
