"""A conversation the store lost is told to the person, never silently started over (issue 18).

The fault: after a Redis restart without persistence, the conversation silently started over
under the same token with an empty plan. Here the keys vanish from a real redis-server (as in
such a restart) between two turns, on each surface of the web chat.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from redirection_bot.authoring.testing import RasaActionRunner
from redirection_bot.operations.config import StoreSettings
from redirection_bot.operations.crypto import new_key_text
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store.factory import open_store
from redirection_bot.turn.runtime import Runtime
from redirection_bot_connectors.webchat import WebChatOptions, create_app
from redirection_bot_connectors.webchat.sessions import form_token
from tests.fixtures.redis import RedisServer

pytestmark = pytest.mark.redis

LOST = {
    "en": "This conversation could not be kept",
    "es": "No se pudo conservar esta conversación",
    "fi": "Tätä keskustelua ei voitu säilyttää",
}


class Served:
    def __init__(self, client: TestClient[Any, Any], prefix: str, server: RedisServer) -> None:
        self.client = client
        self.prefix = prefix
        self.server = server

    async def lose_everything(self) -> None:
        """What a Redis restart without persistence does to this deployment's keys."""
        redis = Redis.from_url(self.server.url)
        try:
            names = [name async for name in redis.scan_iter(match=f"{self.prefix}*")]
            names = [n for n in names if not n.endswith(b"key")]  # the key fingerprint stays
            assert names
            await redis.delete(*names)
        finally:
            await redis.aclose()


@pytest.fixture
async def served(shipped: LoadedProgram, redis_server: RedisServer) -> AsyncIterator[Served]:
    prefix = f"lost-{uuid.uuid4().hex[:8]}:"
    store = open_store(
        StoreSettings("redis", url=redis_server.url, prefix=prefix, keys=(new_key_text(),))
    )
    runtime = Runtime(shipped, store, RasaActionRunner(shipped))
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(runtime, WebChatOptions())))
    await client.start_server()
    yield Served(client, prefix, redis_server)
    await client.close()
    await runtime.close()


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_a_page_is_told_and_moves_to_a_new_conversation(served: Served, locale: str) -> None:
    client = served.client
    started = await client.post("/start", data={"locale": locale})
    old_address = started.url.path
    old_token = old_address.rsplit("/", 1)[1]
    await client.post(old_address, data={"command": "repeat", "csrf": form_token(old_token)})
    await served.lose_everything()
    answer = await client.post(
        old_address, data={"command": "repeat", "csrf": form_token(old_token)}
    )
    assert answer.status == 200
    assert answer.url.path != old_address  # a new conversation, under a new token
    assert LOST[locale] in await answer.text()
    assert (await client.get(old_address)).status == 404


async def test_a_live_page_is_told_and_given_the_new_conversation(served: Served) -> None:
    async with served.client.ws_connect("/ws") as ws:
        await ws.send_json({"type": "start", "locale": "en"})
        first = await ws.receive_json(timeout=10)
        old_token = first[0]["session"]
        await served.lose_everything()
        await ws.send_json({"type": "command", "command": "repeat"})
        frames = await ws.receive_json(timeout=10)
        assert frames[0]["type"] == "session" and frames[0]["session"] != old_token
        notices = [f["text"] for f in frames if f["type"] == "notice"]
        assert notices and LOST["en"] in notices[0]
        assert any(f["type"] == "message" for f in frames)  # the new conversation's start
        await ws.send_json({"type": "command", "command": "repeat"})  # and it carries on
        again = await ws.receive_json(timeout=10)
        assert not any(f["type"] == "notice" for f in again)


async def test_a_rest_client_is_told_before_the_new_start(served: Served) -> None:
    sender = f"lost-{uuid.uuid4().hex}"
    url = "/webhooks/rest/webhook"
    first = await served.client.post(url, json={"sender": sender, "message": "hello"})
    assert first.status == 200
    await served.lose_everything()
    answer = await served.client.post(url, json={"sender": sender, "message": "/repeat"})
    items = await answer.json()
    assert LOST["en"] in items[0]["text"]
    assert len(items) > 1
