"""Attack: lock every new visitor out by filling the process's conversations.

10,050 REST requests from new senders (2.4 s) filled ``limits.max_sessions`` (10,000); then
``POST /start`` answered 503 and WebSocket starts "busy" for up to a day. The conversations
a process keeps pages for are now a cache of the store: a full process makes room."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from redirection_bot.operations.config import LimitSettings
from tests.integration.webchat.conftest import Serve, chat_of, page_at, start
from tests.security.conftest import Client, rest

ATTACK_REQUESTS = 10_050
AT_ONCE = 50


@pytest.mark.slow
async def test_ten_thousand_new_rest_senders_lock_nobody_out(client: Client) -> None:
    page = await start(client)  # a person who was here before the attack

    async def newcomer() -> None:
        status, _answer = await rest(client, secrets.token_hex(16), "hello")
        assert status == 200

    for _ in range(ATTACK_REQUESTS // AT_ONCE + 1):
        await asyncio.gather(*(newcomer() for _ in range(AT_ONCE)))

    started = await client.post("/start", data={"locale": "en"})
    assert started.status == 200
    ws = await client.ws_connect("/ws")
    await ws.send_json({"type": "start", "locale": "en"})
    frames = await ws.receive_json(timeout=10)
    assert frames[0]["type"] == "session"
    assert all(frame["type"] != "notice" for frame in frames)
    await ws.close()
    # The person from before the attack carries on (drawn again from the store).
    again = await page_at(client, await client.get(f"/c/{page.token}"))
    assert again.choices() == page.choices()
    assert len(chat_of(client).book) <= chat_of(client).book.max_sessions


async def test_asking_for_a_plan_under_a_new_name_keeps_nothing(client: Client) -> None:
    for _ in range(200):
        status, _answer = await rest(client, secrets.token_hex(16), "/plan")
        assert status == 200
    assert len(chat_of(client).book) == 0


async def test_more_live_pages_than_the_cache_holds_push_none_of_them_out(serve: Serve) -> None:
    """The fifty-sixth attack: with more live sockets than ``max_sessions``, the least recently
    seen live pages were pushed out anyway: a person's next message answered `gone` and
    dropped (mid-handoff too), their page reloaded without its lines. A live page is never
    made room with; the cache holds more than ``max_sessions`` by as many live pages."""
    client = await serve(limits=LimitSettings(max_sessions=3))
    sockets = []
    for _ in range(6):  # the first three are people; then an attacker's three
        ws = await client.ws_connect("/ws")
        await ws.send_json({"type": "start", "locale": "en"})
        await ws.receive_json(timeout=10)
        sockets.append(ws)
    status, _answer = await rest(client, secrets.token_hex(16), "hello")  # and one more
    assert status == 200
    for ws in sockets:  # every person still on their page: their next press is answered
        await ws.send_json({"type": "choice", "id": "go_on"})
        frames = await ws.receive_json(timeout=10)
        assert "gone" not in [frame.get("type") for frame in frames], frames
        assert any(frame.get("type") == "message" for frame in frames), frames
    for ws in sockets:
        await ws.close()
