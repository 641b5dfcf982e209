"""The security suite: attacks tried from the outside against the real web chat on loopback.

The fixtures are the web chat's and the helpline webhook's own (``serve``, ``client``,
``helpline``, ``platform``), and ``over`` for a web chat over a runtime built by the test
(a resume vault with a cheap scrypt, for attacks that need many phrases).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from redirection_bot.store.resume import PhraseCheck
from redirection_bot.turn.runtime import Runtime
from redirection_bot_connectors.webchat import WebChatOptions, create_app
from redirection_bot_connectors.webchat.app import CHAT
from tests.integration.handoff.conftest import loaded, platform  # noqa: F401 (fixtures)
from tests.integration.handoff.test_webhook import helpline  # noqa: F401 (a fixture)
from tests.integration.webchat.conftest import client, serve  # noqa: F401 (fixtures)

Client = TestClient[Any, Any]
Over = Callable[[Runtime], Awaitable[Client]]
WEBHOOK = "/webhooks/rest/webhook"
DEEP = 1_000
"""JSON nested this deep made Python's decoder raise RecursionError (a 500)."""


@pytest.fixture
async def over() -> AsyncIterator[Over]:
    """Start the web chat over a given runtime on a free port."""
    clients: list[Client] = []

    async def start(runtime: Runtime, **options: Any) -> Client:
        started: Client = TestClient(TestServer(create_app(runtime, WebChatOptions(**options))))
        await started.start_server()
        clients.append(started)
        return started

    yield start
    for started in clients:
        await started.close()


def nested(depth: int = DEEP) -> bytes:
    """A JSON object holding arrays nested ``depth`` deep."""
    return b'{"type": "text", "message": "hi", "text": ' + b"[" * depth + b"]" * depth + b"}"


async def rest(http: Client, sender: str | None, message: str) -> tuple[int, Any]:
    """POST one REST message; (status, the JSON answer)."""
    body: dict[str, Any] = {"message": message}
    if sender is not None:
        body["sender"] = sender
    response = await http.post(WEBHOOK, json=body)
    return response.status, await response.json()


async def phrase_check(http: Client) -> PhraseCheck:
    """How the service behind ``http`` checks its phrases (with its secret: what a guesser who
    somehow had the right check words would type)."""
    return await http.server.app[CHAT].runtime.phrase_check()


async def phrase_in(http: Client, answer: list[dict[str, Any]]) -> str:
    """The resume phrase a REST answer shows (six words of the list in a row)."""
    check = await phrase_check(http)
    for item in answer:
        words = re.findall(r"[^\W\d_]+", item.get("text", ""))  # accents too
        for start in range(len(words) - 5):
            found = check.read(" ".join(words[start : start + 6]))
            if found is not None and found.checked:
                return " ".join(found.words)
    raise AssertionError(f"no phrase in {answer}")
