"""A conversation the store lost is told to the person, never silently started over (issue 18).

The fault: after a Redis restart without persistence, the conversation silently started over
under the same token with an empty plan. Here the keys vanish from a real redis-server (as in
such a restart) between two turns, on each surface of the web chat; and again with a page cache
of one conversation, so that the lost one had already made room for another (its page was no
longer in the process: it looked new on REST and gone on the web page).
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
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
from redirection_bot_connectors.webchat import chat as webchat_chat
from redirection_bot_connectors.webchat.sessions import TokenIssuer, form_token
from tests.fixtures.redis import RedisServer

pytestmark = pytest.mark.redis
OPENING_SECONDS = 0.05


@pytest.fixture(autouse=True)
def quick_openings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A conversation is opened well within 50 ms of its token here (a second when served)."""
    monkeypatch.setattr(webchat_chat, "OPENING_SECONDS", OPENING_SECONDS)


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
        """What a Redis restart without persistence does to this deployment's keys, once every
        conversation here was opened (``OPENING_SECONDS``, shortened for these tests)."""
        await asyncio.sleep(2 * OPENING_SECONDS)
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
    address is gone (told once: not a new conversation at every reload)."""
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


REST = "/webhooks/rest/webhook"


async def said(served: Served, sender: str, message: str) -> list[dict[str, Any]]:
    """The REST channel's answer to ``message`` from ``sender``."""
    answer = await served.client.post(REST, json={"sender": sender, "message": message})
    assert answer.ok
    items: list[dict[str, Any]] = await answer.json()
    return items


async def lost_rest_conversation(served: Served) -> str:
    """A REST conversation answered twice, then lost by the store: its sender."""
    sender = f"lost-{uuid.uuid4().hex}"
    for message in ("hello", "/repeat"):
        await said(served, sender, message)
    await served.lose_everything()
    return sender


@pytest.mark.parametrize("leaving", ["/stop", "/erase", "leave now"])
async def test_leaving_a_lost_rest_conversation_ends_it_at_once(
    served: Served, leaving: str
) -> None:
    # The forty-first attack: "/stop" after a Redis restart got "could not be kept" and a new
    # conversation's greeting, no end; only a second "/stop" ended it.
    sender = await lost_rest_conversation(served)
    items = await said(served, sender, leaving)
    assert [item.get("custom", {}).get("type") for item in items] == ["end"]
    after = await said(served, sender, "hi")
    assert not any(LOST["en"] in item.get("text", "") for item in after)  # a new one, untold


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
    sender = await lost_rest_conversation(served)
    items = await said(served, sender, "/plan")
    assert len(items) == 1 and LOST["en"] in items[0]["text"]  # said; nothing started
    after = await said(served, sender, "hi")
    assert not any(LOST["en"] in item.get("text", "") for item in after)  # a new one, untold
    # a page: the download link (which saves whatever it answers as plan.txt: found by
    # Chromium, which saved the new conversation's page) gets the notice as the file, and the
    # page tells it at its next press
    address, token = await start_page(served.client, "en")
    await served.lose_everything()
    download = await served.client.get(f"{address}/plan.txt", allow_redirects=False)
    assert download.status == 200 and download.content_type == "text/plain"
    assert LOST["en"] in await download.text()
    pressed = await served.client.post(
        address, data={"command": "repeat", "csrf": form_token(token)}
    )
    await told_at_a_new_address(served.client, pressed, address, "en")
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
    old_address, old_token = await page_with_words(client)  # answered: it stays where it is
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
        await ws.send_json({"type": "resume", "session": old_token})  # told at once
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


# --- an instance that never had the conversation, and a deliberate erase -----------------------


@pytest.fixture
async def two(shipped: LoadedProgram, redis_server: RedisServer) -> AsyncIterator[list[Served]]:
    """Two instances on one Redis, as behind a round-robin balancer."""
    prefix, key = f"lost-{uuid.uuid4().hex[:8]}:", new_key_text()
    served, runtimes = [], []
    for _ in range(2):
        store = open_store(StoreSettings("redis", url=redis_server.url, prefix=prefix, keys=(key,)))
        runtimes.append(Runtime(shipped, store, RasaActionRunner(shipped)))
        app = create_app(runtimes[-1], WebChatOptions())
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        served.append(Served(client, prefix, redis_server))
    await served[0].client.post("/start", data={"locale": "en"})  # a deployment in use
    yield served
    for one, runtime in zip(served, runtimes, strict=True):
        await one.client.close()
        await runtime.close()


REST = "/webhooks/rest/webhook"


async def issued_sender(client: TestClient[Any, Any]) -> str:
    """A REST conversation opened without a sender: the server issues one."""
    first = await (await client.post(REST, json={"message": "hello"})).json()
    return str(first[0]["recipient_id"])


async def test_a_typed_message_at_an_instance_that_never_had_it_is_told(
    two: list[Served],
) -> None:
    # Found by an outside tester (left open last round): a lost conversation whose next
    # *typed* message reached an instance that never had it started over in silence, as
    # a new conversation's first message does. Its issued sender says when it was opened.
    first, second = two
    sender, asking = await issued_sender(first.client), await issued_sender(first.client)
    await first.lose_everything()
    plan = await (
        await second.client.post(REST, json={"sender": asking, "message": "/plan"})
    ).json()
    assert len(plan) == 1 and LOST["en"] in plan[0]["text"]  # not "no plan yet"
    items = await (
        await second.client.post(REST, json={"sender": sender, "message": "I am back"})
    ).json()
    assert LOST["en"] in items[0]["text"] and len(items) > 1
    again = await (await second.client.post(REST, json={"sender": sender, "message": "ok"})).json()
    assert not any(LOST["en"] in item.get("text", "") for item in again)  # told once


async def test_a_page_reloaded_at_an_instance_that_never_had_it_is_told(two: list[Served]) -> None:
    first, second = two
    address, _token = await start_page(first.client, "es")
    await first.lose_everything()
    reloaded = await second.client.get(address)  # not "this conversation has ended"
    assert reloaded.status == 200 and reloaded.url.path != address
    assert LOST["en"] in await reloaded.text()  # the token does not say the language


async def test_a_new_conversation_after_a_loss_is_not_told(two: list[Served]) -> None:
    first, second = two
    await issued_sender(first.client)
    await first.lose_everything()
    sender = await issued_sender(second.client)  # opened after the loss
    items = await (await first.client.post(REST, json={"sender": sender, "message": "hi"})).json()
    assert not any(LOST["en"] in item.get("text", "") for item in items)
    started = await second.client.post("/start", data={"locale": "en"})
    assert LOST["en"] not in await started.text()


async def test_a_conversation_erased_at_another_instance_is_not_told_lost(
    two: list[Served],
) -> None:
    # Left open last round: after a deliberate erase at one instance, the instance that had the
    # conversation said "could not be kept" at the next message. Redis lost nothing since it
    # last saw the conversation kept: erased (or ran out its time), so a new one starts, untold.
    first, second = two
    sender = await issued_sender(first.client)
    await first.client.post(REST, json={"sender": sender, "message": "/repeat"})
    erased = await (
        await second.client.post(REST, json={"sender": sender, "message": "/stop"})
    ).json()
    assert any(item.get("custom", {}).get("erase") for item in erased)
    for client in (first.client, second.client):  # the one that had it, and one that did not
        items = await (
            await client.post(REST, json={"sender": sender, "message": "/choice:go_on"})
        ).json()
        assert items and not any(LOST["en"] in item.get("text", "") for item in items)
        erased = await (await client.post(REST, json={"sender": sender, "message": "/stop"})).json()
    # a page: erased at one instance, drawn again at the other (which had it)
    address, token = await start_page(first.client, "en")
    await second.client.post(f"{address}/erase", data={"csrf": form_token(token)})
    again = await first.client.post(address, data={"command": "repeat", "csrf": form_token(token)})
    assert LOST["en"] not in await again.text()


# --- found by an outside tester of the above (two instances, docs only) ----------------------

WORDS = "my own words about this week"


async def page_with_words(client: TestClient[Any, Any]) -> tuple[str, str]:
    """A page whose transcript holds the person's own words: its address and token."""
    opened, token = await start_page(client, "en")
    answered = await client.post(opened, data={"command": "repeat", "csrf": form_token(token)})
    address = answered.url.path  # its own address once answered (``WebChat._forked``)
    token = address.rsplit("/", 1)[-1]
    await client.post(address, data={"text": WORDS, "csrf": form_token(token)})
    return address, token


async def test_a_page_erased_at_another_instance_is_gone_here_too(two: list[Served]) -> None:
    # The instance that drew the page kept showing the person's words (for the store's time
    # to live) after "Erase my conversation" at the other, until something was pressed.
    first, second = two
    address, token = await page_with_words(first.client)
    assert WORDS in await (await first.client.get(address)).text()
    await second.client.post(f"{address}/erase", data={"csrf": form_token(token)})
    shown = await first.client.get(address)
    assert shown.status == 404 and WORDS not in await shown.text()
    async with first.client.ws_connect("/ws") as ws:  # a live page coming back: gone too
        await ws.send_json({"type": "resume", "session": token})
        assert any(f["type"] == "gone" for f in await ws.receive_json(timeout=10))


async def test_an_address_given_out_and_drawn_at_another_instance_is_answered_in_a_copy(
    two: list[Served],
) -> None:
    # The fifteenth attack across instances (found in the forty-second's): drawing the given
    # address again at the second instance was a stored turn, so it was no longer only
    # opened: the person's words were answered in place, and whoever gave it out read them.
    # And after "erase" at the copy, the address first opened (in the history) still
    # answered 200 at both instances for half an hour.
    first, second = two
    given = (await first.client.post("/start", data={"locale": "en"})).url.path
    token = given.rsplit("/", 1)[1]
    assert (await second.client.get(given)).status == 200  # drawn there (a balancer)
    answered = await second.client.post(given, data={"text": WORDS, "csrf": form_token(token)})
    moved = answered.url.path.rsplit("/", 1)[1]
    assert moved != token and WORDS in await answered.text()
    for one in (first, second):
        assert WORDS not in await (await one.client.get(given)).text()
    await first.client.post(f"/c/{moved}/erase", data={"csrf": form_token(moved)})
    for one in (first, second):
        assert (await one.client.get(given)).status == 404
        assert (await one.client.get(f"{given}/plan.txt")).status == 404


async def test_a_page_reloaded_after_a_loss_where_it_was_drawn_is_told_at_once(
    two: list[Served],
) -> None:
    # It showed the old transcript, the person's words included, with no notice.
    first, _second = two
    address, _token = await page_with_words(first.client)
    await first.lose_everything()
    reloaded = await first.client.get(address)
    assert reloaded.url.path != address and LOST["en"] in await reloaded.text()
    assert WORDS not in await reloaded.text()
    assert (await first.client.get(address)).status == 404  # told once, not at every reload


async def test_an_erased_rest_conversation_is_not_told_lost_where_it_was_erased(
    two: list[Served],
) -> None:
    # A REST client's own sender pressing an old button after "/stop" was told "could not be
    # kept" even at the instance that erased it; and a told loss was told again at every
    # "/plan".
    first, _second = two
    sender = uuid.uuid4().hex
    for message in ("hello", "/choice:go_on", "/stop"):
        await first.client.post(REST, json={"sender": sender, "message": message})
    items = await (
        await first.client.post(REST, json={"sender": sender, "message": "/choice:go_on"})
    ).json()
    assert not any(LOST["en"] in item.get("text", "") for item in items)
    issued = await issued_sender(first.client)
    await first.lose_everything()
    told = [
        await (await first.client.post(REST, json={"sender": issued, "message": "/plan"})).json()
        for _ in range(2)
    ]
    assert LOST["en"] in told[0][0]["text"] and LOST["en"] not in told[1][0]["text"]


# --- found by a second outside tester -------------------------------------------------------


async def test_a_lost_address_reloaded_again_and_again_is_told_once(two: list[Served]) -> None:
    # Every second reload told it again, each time opening another conversation.
    first, _second = two
    address, _token = await start_page(first.client, "en")
    await first.lose_everything()
    told = await first.client.get(address)
    assert LOST["en"] in await told.text()
    for _ in range(3):
        assert (await first.client.get(address)).status == 404


async def test_a_live_page_resuming_a_lost_conversation_is_told_at_once(two: list[Served]) -> None:
    # It got the old question's choices and no notice until its next message.
    for at in two:  # the instance that had it, then one that never did
        async with two[0].client.ws_connect("/ws") as ws:
            await ws.send_json({"type": "start", "locale": "en"})
            old_token = (await ws.receive_json(timeout=10))[0]["session"]
        await two[0].lose_everything()
        async with at.client.ws_connect("/ws") as ws:
            await ws.send_json({"type": "resume", "session": old_token})
            frames = await ws.receive_json(timeout=10)
            assert frames[0]["type"] == "session" and frames[0]["session"] != old_token
            assert LOST["en"] in next(f["text"] for f in frames if f["type"] == "notice")


async def test_after_a_restart_of_the_memory_store_the_plan_and_the_page_tell_the_loss(
    shipped: LoadedProgram,
) -> None:
    # plan.txt said it, and the page drawn afterwards was empty, with no notice.
    address = ""
    for restart in range(2):
        runtime = Runtime(shipped, open_store(StoreSettings()), RasaActionRunner(shipped))
        client: TestClient[Any, Any] = TestClient(TestServer(create_app(runtime, WebChatOptions())))
        await client.start_server()
        try:
            if not restart:
                address, _token = await start_page(client, "en")
                await asyncio.sleep(2 * OPENING_SECONDS)
                continue
            plan = await client.get(f"{address}/plan.txt", allow_redirects=False)
            assert LOST["en"] in await plan.text()
            shown = await client.get(address)
            assert shown.url.path != address and LOST["en"] in await shown.text()
        finally:
            await client.close()
            await runtime.close()


async def test_a_token_tells_nobody_but_the_deployment_when_it_was_issued(
    two: list[Served],
) -> None:
    """An outside tester read when a conversation began, to the millisecond, from its address
    (and from a REST sender the server issued): the time is now sealed with a key both
    instances derive from the store's keys, and still read by either (the tests above)."""
    _address, token = await start_page(two[0].client, "en")
    sender = await issued_sender(two[1].client)
    for issued in (token, sender):
        raw = base64.urlsafe_b64decode(issued + "=")
        where_the_time_was = int.from_bytes(raw[24:30], "big") / 1000
        assert abs(where_the_time_was - time.time()) > 86_400
        assert TokenIssuer(()).issued_at(issued) is None  # nor is it the keyless store's mask


# --- found by an outside attacker (the thirty-seventh attack: two instances, one Redis) -------


def offered(page: str) -> list[str]:
    """The choices a page offers, by id."""
    return re.findall(r'name="choice" value="([^"]+)"', page)


async def test_a_page_that_moved_on_at_another_instance_is_drawn_as_it_is_now(
    two: list[Served],
) -> None:
    # A conversation answered at one instance, then at the other (a balancer spreading one
    # person's requests): reloading it, or resuming its live page, where it was first drawn
    # showed that instance's old question and buttons. Now: the question the store holds.
    first, second = two
    address, token = await page_with_words(first.client)
    before = offered(await (await first.client.get(address)).text())
    moved = await second.client.post(address, data={"choice": before[0], "csrf": form_token(token)})
    now = offered(await moved.text())
    assert now and now != before  # the next question
    assert offered(await (await first.client.get(address)).text()) == now
    async with first.client.ws_connect("/ws") as ws:
        await ws.send_json({"type": "resume", "session": token})
        frames = await ws.receive_json(timeout=10)
        states = [frame for frame in frames if frame["type"] == "state"]
        assert [choice["id"] for choice in states[-1]["choices"]] == now


@pytest.mark.parametrize(
    ("first_press", "second_press"),
    [(1, 0), (0, 1)],
    ids=["first-press-elsewhere", "resent-elsewhere"],
)
async def test_a_page_pressed_twice_across_two_instances_answers_one_question(
    two: list[Served], first_press: int, second_press: int
) -> None:
    # A page drawn at one instance and its form sent twice (a double tap, a resubmit), the
    # presses spread by a balancer: the second answered the next question. The forty-first
    # attack: the first press reached the other instance, the second the one that drew it.
    # The forty-second: pressed where it was drawn, resent at the other, which did not know
    # the page's mark (the mark now carries a tag of its question). Now the second press
    # changes nothing, wherever each goes.
    address, token = await page_with_words(two[0].client)
    page = await (await two[0].client.get(address)).text()
    before, drawn = offered(page), re.findall(r'name="drawn" value="([^"]+)"', page)[0]
    press = {"choice": before[0], "csrf": form_token(token), "drawn": drawn}
    now = offered(await (await two[first_press].client.post(address, data=press)).text())
    assert now and now != before  # the next question
    again = await (await two[second_press].client.post(address, data=press)).text()
    assert offered(again) == now  # still the next question, unanswered
    assert "This page was out of date, so nothing was sent" in again


@pytest.mark.parametrize("read_at_the_other", ["/plan.txt", ""])
async def test_reading_a_conversation_at_the_other_instance_never_makes_a_page_out_of_date(
    two: list[Served], read_at_the_other: str
) -> None:
    # The forty-third attack: a page drawn at one instance, then the same conversation read at
    # the other ("Download my plan", a second tab): the next press from the page drawn first
    # was refused, "This page was out of date, so nothing was sent". Reading it there drew it
    # as a stored turn; now drawing a page saves nothing.
    address, token = await page_with_words(two[0].client)
    page = await (await two[0].client.get(address)).text()
    before, drawn = offered(page), re.findall(r'name="drawn" value="([^"]+)"', page)[0]
    assert (await two[1].client.get(address + read_at_the_other)).status == 200
    press = {"choice": before[0], "csrf": form_token(token), "drawn": drawn}
    answered = await (await two[0].client.post(address, data=press)).text()
    assert "This page was out of date" not in answered
    assert offered(answered) != before  # the next question
