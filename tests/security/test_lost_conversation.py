"""A conversation the store lost is told to the person, never silently started over (issue 18).

The fault: after a Redis restart without persistence, the conversation silently started over
under the same token with an empty plan. Here the keys vanish from a real redis-server (as in
such a restart) between two turns, on each surface of the web chat; and again with a page cache
of one conversation, so that the lost one had already made room for another (its page was no
longer in the process: it looked new on REST and gone on the web page).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from redirection_bot.authoring.testing import RasaActionRunner
from redirection_bot.operations.config import LimitSettings, StoreSettings
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


async def serving(
    shipped: LoadedProgram, redis_server: RedisServer, options: WebChatOptions
) -> AsyncIterator[Served]:
    prefix = f"lost-{uuid.uuid4().hex[:8]}:"
    store = open_store(
        StoreSettings("redis", url=redis_server.url, prefix=prefix, keys=(new_key_text(),))
    )
    runtime = Runtime(shipped, store, RasaActionRunner(shipped))
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(runtime, options)))
    await client.start_server()
    yield Served(client, prefix, redis_server)
    await client.close()
    await runtime.close()


@pytest.fixture
async def served(shipped: LoadedProgram, redis_server: RedisServer) -> AsyncIterator[Served]:
    async for ready in serving(shipped, redis_server, WebChatOptions()):
        yield ready


@pytest.fixture
async def one_page(shipped: LoadedProgram, redis_server: RedisServer) -> AsyncIterator[Served]:
    """A web chat that keeps the page of one conversation only: a second one evicts the first."""
    options = WebChatOptions(limits=LimitSettings(max_sessions=1))
    async for ready in serving(shipped, redis_server, options):
        yield ready


async def start_page(client: TestClient[Any, Any], locale: str) -> tuple[str, str]:
    """A conversation started and answered once with forms: its address and token."""
    started = await client.post("/start", data={"locale": locale})
    address = started.url.path
    token = address.rsplit("/", 1)[1]
    await client.post(address, data={"command": "repeat", "csrf": form_token(token)})
    return address, token


async def told_at_a_new_address(
    client: TestClient[Any, Any], answer: ClientResponse, old_address: str, locale: str
) -> None:
    """The person is told, in their language, at the new conversation's own address; the old
    address is gone."""
    assert answer.status == 200
    assert answer.url.path != old_address  # a new conversation, under a new token
    assert LOST[locale] in await answer.text()
    assert (await client.get(old_address)).status == 404


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_a_page_is_told_and_moves_to_a_new_conversation(served: Served, locale: str) -> None:
    client = served.client
    old_address, old_token = await start_page(client, locale)
    await served.lose_everything()
    answer = await client.post(
        old_address, data={"command": "repeat", "csrf": form_token(old_token)}
    )
    await told_at_a_new_address(client, answer, old_address, locale)


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


async def test_a_button_pressed_on_an_instance_that_never_had_the_conversation_is_told(
    served: Served,
) -> None:
    # Found by an outside tester: behind a round-robin balancer, a conversation Redis lost
    # whose next message reached an instance that never had it was started over in silence.
    # What that instance sees: a sender it does not know, whose store record is gone, pressing
    # a button (which only an answer gives).
    sender = f"lost-{uuid.uuid4().hex}"
    url = "/webhooks/rest/webhook"
    items = await (
        await served.client.post(url, json={"sender": sender, "message": "/choice:go_on"})
    ).json()
    assert LOST["en"] in items[0]["text"] and len(items) > 1
    again = await (
        await served.client.post(url, json={"sender": sender, "message": "/choice:go_on"})
    ).json()
    assert not any(LOST["en"] in item.get("text", "") for item in again)  # told once
    # A new conversation's first message, typed, is a new conversation, as in Rasa.
    typed = await (
        await served.client.post(url, json={"sender": f"new-{uuid.uuid4().hex}", "message": "hi"})
    ).json()
    assert not any(LOST["en"] in item.get("text", "") for item in typed)


async def test_asking_for_the_plan_after_a_loss_tells_the_loss_not_no_plan_yet(
    served: Served,
) -> None:
    # REST: found by an outside tester ("There is no plan to download yet" after Redis lost it)
    sender = f"lost-{uuid.uuid4().hex}"
    url = "/webhooks/rest/webhook"
    for message in ("hello", "/repeat"):
        assert (await served.client.post(url, json={"sender": sender, "message": message})).ok
    await served.lose_everything()
    items = await (
        await served.client.post(url, json={"sender": sender, "message": "/plan"})
    ).json()
    assert len(items) == 1 and LOST["en"] in items[0]["text"]  # said; nothing started
    after = await (await served.client.post(url, json={"sender": sender, "message": "hi"})).json()
    assert not any(LOST["en"] in item.get("text", "") for item in after)  # a new one, untold
    # a page: the download link leads to the new conversation, which says so
    address, _token = await start_page(served.client, "en")
    await served.lose_everything()
    answer = await served.client.get(f"{address}/plan.txt")
    await told_at_a_new_address(served.client, answer, address, "en")
    # a live page: moved to the new conversation, the notice first
    async with served.client.ws_connect("/ws") as ws:
        await ws.send_json({"type": "start", "locale": "en"})
        old_token = (await ws.receive_json(timeout=10))[0]["session"]
        await served.lose_everything()
        await ws.send_json({"type": "plan"})
        frames = await ws.receive_json(timeout=10)
        assert frames[0]["type"] == "session" and frames[0]["session"] != old_token
        assert LOST["en"] in next(f["text"] for f in frames if f["type"] == "notice")


# --- the lost conversation had made room for another first --------------------------------


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_an_evicted_page_is_told_in_its_language_and_moves(
    one_page: Served, locale: str
) -> None:
    client = one_page.client
    old_address, old_token = await start_page(client, locale)
    await start_page(client, "en")  # the cache holds one: the first page makes room
    await one_page.lose_everything()
    answer = await client.post(
        old_address, data={"command": "repeat", "csrf": form_token(old_token)}
    )
    await told_at_a_new_address(client, answer, old_address, locale)


@pytest.mark.parametrize("locale", ["en", "es", "fi"])
async def test_an_evicted_page_drawn_again_is_told_at_once(one_page: Served, locale: str) -> None:
    client = one_page.client
    old_address, _old_token = await start_page(client, locale)
    await start_page(client, "en")  # the cache holds one: the first page makes room
    await one_page.lose_everything()
    reloaded = await client.get(old_address)  # a reload, before pressing anything
    await told_at_a_new_address(client, reloaded, old_address, locale)
    assert (await client.get(reloaded.url.path)).status == 200  # and it stays there


async def test_an_evicted_page_the_store_still_holds_carries_on_untold(one_page: Served) -> None:
    client = one_page.client
    old_address, old_token = await start_page(client, "en")
    await start_page(client, "en")
    answer = await client.post(
        old_address, data={"command": "repeat", "csrf": form_token(old_token)}
    )
    assert answer.status == 200 and answer.url.path == old_address
    assert LOST["en"] not in await answer.text()


async def test_an_evicted_live_page_is_told_when_it_comes_back(one_page: Served) -> None:
    client = one_page.client
    async with client.ws_connect("/ws") as ws:
        await ws.send_json({"type": "start", "locale": "en"})
        old_token = (await ws.receive_json(timeout=10))[0]["session"]
    await start_page(client, "en")  # the socket is closed: its conversation makes room
    await one_page.lose_everything()
    async with client.ws_connect("/ws") as ws:
        await ws.send_json({"type": "resume", "session": old_token})
        resumed = await ws.receive_json(timeout=10)
        assert not any(f["type"] == "gone" for f in resumed)
        await ws.send_json({"type": "command", "command": "repeat"})
        frames = await ws.receive_json(timeout=10)
        assert frames[0]["type"] == "session" and frames[0]["session"] != old_token
        notices = [f["text"] for f in frames if f["type"] == "notice"]
        assert notices and LOST["en"] in notices[0]
        assert any(f["type"] == "message" for f in frames)


async def test_an_evicted_rest_client_is_told_before_the_new_start(one_page: Served) -> None:
    url = "/webhooks/rest/webhook"
    sender, other = (f"lost-{uuid.uuid4().hex}" for _ in range(2))
    assert (await one_page.client.post(url, json={"sender": sender, "message": "hello"})).ok
    assert (await one_page.client.post(url, json={"sender": other, "message": "hello"})).ok
    await one_page.lose_everything()
    answer = await one_page.client.post(url, json={"sender": sender, "message": "/repeat"})
    items = await answer.json()
    assert LOST["en"] in items[0]["text"]
    assert len(items) > 1
    again = await one_page.client.post(url, json={"sender": sender, "message": "/repeat"})
    assert not any(LOST["en"] in item.get("text", "") for item in await again.json())
