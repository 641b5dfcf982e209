"""The web chat on a real aiohttp server on loopback, over the shipped program."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from redirection_bot.authoring.testing import make_runtime
from redirection_bot.program.load import LoadedProgram
from redirection_bot.turn.runtime import Runtime, RuntimeSettings
from redirection_bot_connectors.webchat import CHAT, WebChatOptions, create_app
from redirection_bot_connectors.webchat.chat import WebChat

Serve = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def serve(shipped: LoadedProgram) -> AsyncIterator[Serve]:
    """Start the web chat with some options (and runtime settings) on a free port."""
    clients: list[TestClient[Any, Any]] = []

    async def start(
        settings: RuntimeSettings | None = None, **options: Any
    ) -> TestClient[Any, Any]:
        runtime = make_runtime(shipped, settings)
        app = create_app(runtime, WebChatOptions(**options))
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


@pytest.fixture
async def client(serve: Serve) -> TestClient[Any, Any]:
    return await serve()


def chat_of(client: TestClient[Any, Any]) -> WebChat:
    return client.app[CHAT]  # type: ignore[index]


def runtime_of(client: TestClient[Any, Any]) -> Runtime:
    return chat_of(client).runtime


def text_of(client: TestClient[Any, Any], key: str, locale: str = "en") -> str:
    """An authored text as the page shows it (so that rewording never breaks a test)."""
    return runtime_of(client).loaded.catalog.render(key, locale)


class Page:
    """A chat page as a no-JavaScript browser sees it: its forms and transcript."""

    def __init__(self, html: str, url: str) -> None:
        self.html = html
        self.url = url
        parser = _FormParser()
        parser.feed(html)
        self.forms = parser.forms
        self.lines = parser.lines
        self.tags = parser.tags

    @property
    def token(self) -> str:
        found = re.search(r"/c/([A-Za-z0-9_-]+)", self.url)
        assert found, self.url
        return found.group(1)

    def form(self, css_class_or_id: str) -> dict[str, Any]:
        for form in self.forms:
            if css_class_or_id in (form["id"], *form["class"].split()):
                return form
        raise AssertionError(f"no form {css_class_or_id!r} on the page")

    def choices(self) -> dict[str, str]:
        """Choice buttons: label -> id."""
        return {label: value for name, value, label in self.form("choices")["buttons"]}


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.lines: list[tuple[str, str]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._button: tuple[str, str] | None = None
        self._button_text = ""
        self._line: str | None = None
        self._line_text = ""
        self._in_transcript = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        if tag == "form":
            self.forms.append(
                {
                    "id": found.get("id") or "",
                    "class": found.get("class") or "",
                    "action": found.get("action"),
                    "hidden": {},
                    "buttons": [],
                }
            )
        elif tag == "input" and found.get("type") == "hidden" and self.forms:
            self.forms[-1]["hidden"][found["name"]] = found.get("value")
        elif tag == "button":
            self._button = (found.get("name") or "", found.get("value") or "")
            self._button_text = ""
        elif tag == "ol" and found.get("id") == "transcript":
            self._in_transcript = True
        elif tag == "li" and self._in_transcript:
            self._line = found.get("class") or ""
            self._line_text = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None and self.forms:
            self.forms[-1]["buttons"].append((*self._button, self._button_text.strip()))
            self._button = None
        elif tag == "li" and self._line is not None:
            self.lines.append((self._line, self._line_text.strip()))
            self._line = None
        elif tag == "ol":
            self._in_transcript = False

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button_text += data
        if self._line is not None:
            self._line_text += data


async def page_at(client: TestClient[Any, Any], response: ClientResponse) -> Page:
    assert response.status == 200, await response.text()
    return Page(await response.text(), str(response.url))


async def start(client: TestClient[Any, Any], locale: str = "en") -> Page:
    """Press "Start the conversation" on the landing page."""
    response = await client.post("/start", data={"locale": locale})
    return await page_at(client, response)


async def press(
    client: TestClient[Any, Any], page: Page, form: str, **fields: str
) -> ClientResponse:
    """Submit one of the page's forms (with its hidden fields) as a browser would."""
    chosen = page.form(form)
    data = {**chosen["hidden"], **fields}
    return await client.post(chosen["action"], data=data, allow_redirects=True)


async def choose(client: TestClient[Any, Any], page: Page, label: str) -> Page:
    choice_id = page.choices()[label]
    return await page_at(client, await press(client, page, "choices", choice=choice_id))


async def say(client: TestClient[Any, Any], page: Page, text: str) -> Page:
    return await page_at(client, await press(client, page, "compose", text=text))
