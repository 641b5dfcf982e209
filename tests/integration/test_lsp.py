"""``redirection-bot lsp`` driven by a real LSP client (pygls's) over stdio, as an editor would."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

from tests.helpers import REPOSITORY, bot_command

DEADLINE = 30.0


class Editor:
    """An LSP client with the diagnostics the server last published per file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.client = LanguageClient("test-editor", "1")
        self.diagnostics: dict[str, list[types.Diagnostic]] = {}
        self._versions: dict[str, int] = {}

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = params.diagnostics

    def uri(self, relative: str) -> str:
        return str(from_fs_path(str(self.root / relative)))

    def open(self, relative: str, text: str) -> None:
        self._versions[relative] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=self.uri(relative), language_id="yaml", version=1, text=text
                )
            )
        )

    def change(self, relative: str, text: str) -> None:
        self._versions[relative] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=self.uri(relative), version=self._versions[relative]
                ),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    async def diagnostics_for(self, relative: str, holds: object) -> list[types.Diagnostic]:
        """The file's diagnostics once ``holds(diagnostics)`` is true (polling, with a deadline)."""
        uri = self.uri(relative)
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            found = self.diagnostics.get(uri)
            if found is not None and holds(found):  # type: ignore[operator]
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"no such diagnostics for {relative}: {self.diagnostics.get(uri)}")

    def at(self, relative: str, line: int, character: int) -> types.TextDocumentPositionParams:
        return types.TextDocumentPositionParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri(relative)),
            position=types.Position(line=line, character=character),
        )


@pytest.fixture
async def editor(tmp_path: Path) -> AsyncIterator[Editor]:
    shutil.copytree(REPOSITORY / "dialogues", tmp_path / "dialogues")
    shutil.copytree(REPOSITORY / "locales", tmp_path / "locales")
    opened = Editor(tmp_path)
    command = bot_command()
    # The server's working folder is elsewhere: it must find the program from the root it is given.
    await opened.client.start_io(*command, "lsp", cwd=str(REPOSITORY / "docs"))
    await opened.client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=str(from_fs_path(str(tmp_path)))
        )
    )
    opened.client.initialized(types.InitializedParams())
    yield opened
    await opened.client.shutdown_async(None)
    opened.client.exit(None)
    await opened.client.stop()


MENU = "dialogues/flows/menu.yaml"


async def test_a_typing_mistake_is_shown_at_its_place_before_the_file_is_saved(
    editor: Editor,
) -> None:
    saved = (editor.root / MENU).read_text()
    typed = saved.replace("next: goodbye", "next: goodby")
    editor.open(MENU, typed)

    found = await editor.diagnostics_for(
        MENU, lambda items: any("goodby`" in d.message for d in items)
    )

    mistake = next(d for d in found if "goodby`" in d.message)
    assert "did you mean `goodbye`?" in mistake.message
    assert mistake.severity == types.DiagnosticSeverity.Error
    line = typed.splitlines().index("        next: goodby")
    assert (mistake.range.start.line, mistake.range.start.character) == (line, 14)
    assert (mistake.range.end.line, mistake.range.end.character) == (line, 20)
    assert (editor.root / MENU).read_text() == saved  # only the editor's text had the mistake

    editor.change(MENU, saved)
    await editor.diagnostics_for(MENU, lambda items: len(items) == 0)


async def test_definition_of_a_node_a_flow_and_a_text_key(editor: Editor) -> None:
    text = (editor.root / MENU).read_text()
    editor.open(MENU, text)
    lines = text.splitlines()
    deadline = time.monotonic() + DEADLINE

    async def definition(line: int, word: str) -> types.Location:
        while time.monotonic() < deadline:
            result = await editor.client.text_document_definition_async(
                types.DefinitionParams(
                    **_fields(editor.at(MENU, line, lines[line].index(word) + 1))
                )
            )
            if result:
                assert isinstance(result, list)
                location = result[0]
                assert isinstance(location, types.Location)
                return location
            await asyncio.sleep(0.05)  # the first check after start-up has not finished
        raise AssertionError(f"no definition for {word}")

    node = await definition(lines.index("        next: choose"), "choose")
    assert node.uri == editor.uri(MENU)
    assert node.range.start.line == lines.index("  choose:")

    flow = await definition(lines.index("        goto: motivation"), "motivation")
    assert flow.uri == editor.uri("dialogues/flows/motivation.yaml")
    motivation = (editor.root / "dialogues/flows/motivation.yaml").read_text().splitlines()
    assert motivation[flow.range.start.line] == "flow: motivation"

    key = await definition(lines.index("    say: menu.question"), "menu.question")
    assert key.uri == editor.uri("locales/menu.en.yml")
    english = (editor.root / "locales/menu.en.yml").read_text().splitlines()
    assert english[key.range.start.line].startswith("  question: ")


async def test_hover_shows_the_english_text_and_each_translations_status(editor: Editor) -> None:
    menu = (editor.root / MENU).read_text()
    editor.open(MENU, menu)
    line = menu.splitlines().index("    say: menu.question")
    english = (editor.root / "locales/menu.en.yml").read_text()
    changed = english.replace("Where would you like to go?", "Where would you like to go next?")
    editor.open("locales/menu.en.yml", changed)  # edited, not saved: es and fi are now stale

    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        hover = await editor.client.text_document_hover_async(
            types.HoverParams(**_fields(editor.at(MENU, line, 14)))
        )
        if hover is not None and "go next?" in str(hover.contents):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the hover never showed the edited English text")
    assert isinstance(hover.contents, types.MarkupContent)
    shown = hover.contents.value
    assert "Where would you like to go next?" in shown
    assert "**es**: needs update" in shown
    assert "**fi**: needs update" in shown
    assert "¿A dónde quieres ir?" in shown
    assert "Where would you like to go? You can open" in shown  # what es was translated from

    editor.change("locales/menu.en.yml", english)
    while time.monotonic() < deadline:
        hover = await editor.client.text_document_hover_async(
            types.HoverParams(**_fields(editor.at(MENU, line, 14)))
        )
        assert hover is not None and isinstance(hover.contents, types.MarkupContent)
        if "**es**: done" in hover.contents.value:
            assert "**fi**: done" in hover.contents.value
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the statuses never went back to done")


async def test_completion_of_node_ids_flows_and_text_keys(editor: Editor) -> None:
    menu = (editor.root / MENU).read_text()
    typed = menu.replace(
        "        next: choose", "        next: \n        call: sup\n        say: menu.qu"
    )
    editor.open(MENU, typed)
    lines = typed.splitlines()
    target = lines.index("        next: ")
    await _until_indexed(editor)

    async def labels(line: int, character: int) -> dict[str, types.CompletionItem]:
        result = await editor.client.text_document_completion_async(
            types.CompletionParams(**_fields(editor.at(MENU, line, character)))
        )
        assert isinstance(result, types.CompletionList)
        return {item.label: item for item in result.items}

    nodes = await labels(target, 14)
    assert {"choose", "pause", "goodbye"} <= set(nodes)
    assert "motivation" not in nodes  # a flow is not a node of this flow

    flows = await labels(target + 1, 17)
    assert {"support", "motivation", "menu"} <= set(flows)

    texts = await labels(target + 2, 20)
    item = texts["menu.question"]
    assert item.detail is not None and item.detail.startswith("Where would you like to go?")
    assert isinstance(item.text_edit, types.TextEdit)
    # The whole typed key is replaced (not only the part after the dot).
    assert (item.text_edit.range.start.character, item.text_edit.range.end.character) == (13, 20)


async def _until_indexed(editor: Editor) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        hover = await editor.client.text_document_hover_async(
            types.HoverParams(**_fields(editor.at(MENU, 6, 14)))
        )
        if hover is not None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the server never indexed the program")


def _fields(position: types.TextDocumentPositionParams) -> dict[str, object]:
    return {"text_document": position.text_document, "position": position.position}


def test_the_server_ends_cleanly_when_the_editor_says_exit(tmp_path: Path) -> None:
    """`shutdown` then `exit`, as every editor ends a session: exit status 0, no traceback."""
    import json
    import subprocess

    def framed(message: dict[str, object]) -> bytes:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        return b"Content-Length: %d\r\n\r\n" % len(body) + body

    session = b"".join(
        [
            framed({"id": 1, "method": "initialize", "params": {"capabilities": {}}}),
            framed({"method": "initialized", "params": {}}),
            framed({"id": 2, "method": "shutdown"}),
            framed({"method": "exit"}),
        ]
    )
    ended = subprocess.run(
        [*bot_command(), "lsp"],
        check=False,
        input=session,
        capture_output=True,
        cwd=REPOSITORY,
        timeout=60,
    )
    assert b'"id": 2' in ended.stdout or b'"id":2' in ended.stdout
    assert b"Traceback" not in ended.stderr, ended.stderr.decode()
    assert ended.returncode == 0
