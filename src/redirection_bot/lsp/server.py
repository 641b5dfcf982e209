"""The language server: the validator's diagnostics as an author types, go to definition,
hover and completion for node ids, flow names and text keys.

It speaks the Language Server Protocol over stdio through pygls (the ``lsp`` extra), which
only ``redirection-bot lsp`` imports. A check runs in a worker thread, a short while after
the last keystroke, so the editor never waits on it; a check overtaken by a newer edit is
not published.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import PositionCodec

from redirection_bot import __version__
from redirection_bot.diagnostics import Diagnostic, Severity, Span
from redirection_bot.lsp.lookup import NameKind, Word, token_end, typing_at, word_at
from redirection_bot.lsp.snapshot import (
    CheckResult,
    ProgramIndex,
    TextInfo,
    check_documents,
)
from redirection_bot.program.load import ProgramSources

log = logging.getLogger(__name__)

TYPING_PAUSE = 0.3
"""Seconds without a keystroke before the program is checked again."""

_SOURCE = "redirection-bot"


class DialogueServer(LanguageServer):
    """A language server for one program's ``dialogues`` and ``locales`` folders."""

    def __init__(
        self,
        sources: ProgramSources,
        registered_actions: Collection[str] | None,
        typing_pause: float = TYPING_PAUSE,
    ) -> None:
        super().__init__("redirection-bot", __version__)
        self.sources = sources
        self.index = ProgramIndex()
        self._actions = registered_actions
        self._typing_pause = typing_pause
        self._checker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lsp-check")
        self._pending: asyncio.TimerHandle | None = None
        self._edits = 0
        self._published: set[Path] = set()

    def use_root(self, root: Path) -> None:
        """Read folders given as relative paths from the editor's workspace folder."""
        # An absolute folder stays as it is: `root / absolute` is `absolute`.
        self.sources = ProgramSources(root / self.sources.dialogues, root / self.sources.locales)

    def schedule_check(self, delay: float) -> None:
        """Check again after ``delay`` seconds, unless another edit comes first."""
        self._edits += 1
        if self._pending is not None:
            self._pending.cancel()
        loop = asyncio.get_running_loop()
        self._pending = loop.call_later(delay, lambda: loop.create_task(self._check()))

    async def _check(self) -> None:
        edits = self._edits
        documents = self._open_documents()
        loop = asyncio.get_running_loop()
        result: CheckResult = await loop.run_in_executor(
            self._checker,
            check_documents,
            self.sources,
            documents,
            self._actions,
            dt.date.today(),
            self.index,
        )
        if edits != self._edits:
            return  # a newer edit has its own check coming
        self.index = result.index
        self._publish(result, documents)

    def _open_documents(self) -> dict[Path, str]:
        found = {}
        for uri, document in self.workspace.text_documents.items():
            path = to_fs_path(uri)
            if path is not None:
                found[Path(path)] = document.source
        return found

    def _publish(self, result: CheckResult, documents: dict[Path, str]) -> None:
        for path in self._published - set(result.diagnostics):
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=_uri(path), diagnostics=[])
            )
        for path, items in result.diagnostics.items():
            lines = _lines(path, documents)
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=_uri(path), diagnostics=[_lsp_diagnostic(item, lines) for item in items]
                )
            )
        self._published = set(result.diagnostics)

    def stop_checking(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
        self._checker.shutdown(wait=False, cancel_futures=True)


def create_server(
    sources: ProgramSources,
    registered_actions: Collection[str] | None,
    typing_pause: float = TYPING_PAUSE,
) -> DialogueServer:
    """A server with every feature registered; ``start_io()`` runs it."""
    server = DialogueServer(sources, registered_actions, typing_pause)

    @server.feature(types.INITIALIZED)
    def initialized(ls: DialogueServer, params: types.InitializedParams) -> None:
        root = ls.workspace.root_path
        if root:
            ls.use_root(Path(root))
        ls.schedule_check(0)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DialogueServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule_check(0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: DialogueServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule_check(ls._typing_pause)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: DialogueServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.schedule_check(0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DialogueServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.schedule_check(0)  # the file on disk counts again

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: DialogueServer, params: None) -> None:
        ls.stop_checking()

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def definition(
        ls: DialogueServer, params: types.DefinitionParams
    ) -> list[types.Location] | None:
        path, _lines, word = _word(ls, params.text_document.uri, params.position)
        if word is None:
            return None
        span = _definition(ls.index, path, word)
        return [_location(span)] if span is not None else None

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: DialogueServer, params: types.HoverParams) -> types.Hover | None:
        _path, lines, word = _word(ls, params.text_document.uri, params.position)
        if word is None or word.text not in ls.index.texts:
            return None
        codec = PositionCodec()
        return types.Hover(
            contents=types.MarkupContent(
                kind=types.MarkupKind.Markdown, value=text_hover(ls.index.texts[word.text])
            ),
            range=codec.range_to_client_units(lines, _range(params.position.line, word)),
        )

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[".", " "]),
    )
    def completion(ls: DialogueServer, params: types.CompletionParams) -> types.CompletionList:
        document = ls.workspace.get_text_document(params.text_document.uri)
        lines = [line.rstrip("\r\n") for line in document.lines]
        position = document.position_codec.position_from_client_units(lines, params.position)
        typed = typing_at(lines, position.line, position.character)
        if typed is None:
            return types.CompletionList(is_incomplete=False, items=[])
        path = Path(to_fs_path(params.text_document.uri) or "")
        edit_range = PositionCodec().range_to_client_units(lines, _range(position.line, typed))
        items = [
            types.CompletionItem(
                label=label,
                kind=kind,
                detail=detail,
                text_edit=types.TextEdit(range=edit_range, new_text=label),
            )
            for label, kind, detail in completions(ls.index, path, typed.kind)
        ]
        return types.CompletionList(is_incomplete=False, items=items)

    return server


def _word(
    ls: DialogueServer, uri: str, position: types.Position
) -> tuple[Path, list[str], Word | None]:
    document = ls.workspace.get_text_document(uri)
    lines = [line.rstrip("\r\n") for line in document.lines]
    at = document.position_codec.position_from_client_units(lines, position)
    return Path(to_fs_path(uri) or ""), lines, word_at(lines, at.line, at.character)


def _definition(index: ProgramIndex, path: Path, word: Word) -> Span | None:
    """Where the name under the cursor is defined."""
    if word.kind is NameKind.NODE:
        flow = index.flow_in_file(path)
        return flow.nodes.get(word.text) if flow is not None else None
    if word.kind in (NameKind.PLACE, NameKind.FLOW):
        flow_id, _dot, node = word.text.partition(".")
        flow = index.flows.get(flow_id)
        if flow is None:
            return None
        return flow.nodes.get(node, flow.span) if node else flow.span
    text = index.texts.get(word.text)
    return text.source.span if text is not None else None


def completions(
    index: ProgramIndex, path: Path, kind: NameKind | None
) -> list[tuple[str, types.CompletionItemKind, str]]:
    """(label, kind, detail) for what fits where the author is typing."""
    if kind is NameKind.NODE:
        flow = index.flow_in_file(path)
        nodes = flow.nodes if flow is not None else {}
        return [(node, types.CompletionItemKind.Reference, "node") for node in nodes]
    flows = [(f, types.CompletionItemKind.Module, "flow") for f in sorted(index.flows)]
    if kind is NameKind.FLOW:
        return flows
    if kind is NameKind.PLACE:
        places = [
            (f"{flow.id}.{node}", types.CompletionItemKind.Reference, f"node of {flow.id}")
            for flow in index.flows.values()
            for node in flow.nodes
        ]
        return flows + places
    if kind is NameKind.TEXT:
        return [
            (key, types.CompletionItemKind.Text, _shorten(text.source.text))
            for key, text in sorted(index.texts.items())
        ]
    return []


def text_hover(text: TextInfo) -> str:
    """Markdown: the source text, then each translation with its status."""
    source = text.source
    lines = [
        f"**{text.key}** ({source.locale}, {_place(source.span)})",
        "",
        _quote(source.text),
    ]
    for translation in text.translations:
        where = f", {_place(translation.span)}" if translation.span else ""
        lines += ["", f"**{translation.locale}**: {translation.status.value}{where}"]
        if translation.text is not None:
            lines.append(_quote(translation.text))
        if translation.translated_from is not None:
            lines += [
                "",
                f"translated from the earlier {source.locale} text:",
                "",
                _quote(translation.translated_from),
            ]
    return "\n".join(lines)


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.splitlines() or [""])


def _place(span: Span) -> str:
    return f"{Path(span.path).name}:{span.line}"


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _lsp_diagnostic(item: Diagnostic, lines: Sequence[str]) -> types.Diagnostic:
    line = max(item.span.line - 1, 0)
    start = max(item.span.column - 1, 0)
    text = lines[line] if line < len(lines) else ""
    server_range = types.Range(
        start=types.Position(line=line, character=start),
        end=types.Position(line=line, character=token_end(text, start)),
    )
    return types.Diagnostic(
        range=PositionCodec().range_to_client_units(list(lines), server_range),
        message=item.message,
        severity=(
            types.DiagnosticSeverity.Error
            if item.severity is Severity.ERROR
            else types.DiagnosticSeverity.Warning
        ),
        source=_SOURCE,
    )


def _lines(path: Path, documents: dict[Path, str]) -> list[str]:
    text = documents.get(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
    return text.splitlines()


def _range(line: int, word: Word) -> types.Range:
    return types.Range(
        start=types.Position(line=line, character=word.start),
        end=types.Position(line=line, character=word.end),
    )


def _location(span: Span) -> types.Location:
    position = types.Position(line=span.line - 1, character=span.column - 1)
    return types.Location(
        uri=_uri(Path(span.path)), range=types.Range(start=position, end=position)
    )


def _uri(path: Path) -> str:
    return str(from_fs_path(str(path)))
