"""The live chat over ``/ws``: resume a page's conversation, turns without reloads, every
other open page kept in step, and whatever arrives handled politely."""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient
from tests.integration.webchat.conftest import (
    Serve,
    chat_of,
    page_at,
    runtime_of,
    start,
    text_of,
)

from redirection_bot.operations.config import LimitSettings
from redirection_bot_connectors.webchat.ws import read_frame_limit

Client = TestClient[Any, Any]
Socket = aiohttp.ClientWebSocketResponse


async def frames(ws: Socket) -> list[dict[str, Any]]:
    """The next server message: one turn's frames."""
    message = await ws.receive(timeout=10)
    assert message.type is WSMsgType.TEXT, message
    found = json.loads(message.data)
    assert isinstance(found, list)
    return found


async def resume(client: Client, token: str, **headers: str) -> Socket:
    ws = await client.ws_connect("/ws", headers=headers)
    await ws.send_json({"type": "resume", "session": token})
    ready = await frames(ws)
    assert [frame["type"] for frame in ready] == ["interface", "state"]
    return ws


def of_type(found: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [frame for frame in found if frame["type"] == kind]


async def test_a_page_goes_live_and_turns_need_no_reload(client: Client) -> None:
    page = await start(client)
    ws = await resume(client, page.token)
    choice_id = next(iter(page.choices().values()))
    await ws.send_json({"type": "choice", "id": choice_id})
    turn = await frames(ws)
    # The first answer: the page takes its conversation's own address (``address``), first.
    (address,) = of_type(turn, "address")
    assert turn[0] is address and address["session"] != page.token
    token = address["session"]
    assert address["csrf"] == chat_of(client).book.web(token).csrf  # type: ignore[union-attr]
    assert of_type(turn, "you") == []  # the sending page shows its own words at once
    assert of_type(turn, "message")
    state = of_type(turn, "state")[0]
    assert state["entries"] == len(chat_of(client).book.web(token).transcript)  # type: ignore[union-attr,arg-type]
    # A reload draws the same conversation: nothing is kept in the browser.
    again = await page_at(client, await client.get(f"/c/{token}"))
    assert len(again.lines) == state["entries"]
    # Later turns stay at that address.
    await ws.send_json({"type": "text", "text": "help"})
    assert of_type(await frames(ws), "address") == []
    await ws.close()


async def answered_once(client: Client) -> str:
    """A conversation answered once over a socket: the address it then has."""
    page = await start(client)
    ws = await resume(client, page.token)
    await ws.send_json({"type": "choice", "id": next(iter(page.choices().values()))})
    (address,) = of_type(await frames(ws), "address")
    await ws.close()
    return str(address["session"])


async def test_a_program_can_start_without_a_page(client: Client) -> None:
    ws = await client.ws_connect("/ws")
    await ws.send_json({"type": "start", "locale": "fi"})
    first = await frames(ws)
    assert first[0]["type"] == "session" and len(first[0]["session"]) >= 22
    assert of_type(first, "message")[0]["text"] == text_of(client, "welcome.hello", "fi")
    await ws.close()


async def test_every_open_page_of_a_conversation_sees_each_turn(client: Client) -> None:
    token = await answered_once(client)
    first, second = await resume(client, token), await resume(client, token)
    await first.send_json({"type": "text", "text": "help"})
    await frames(first)
    seen = await frames(second)
    assert of_type(seen, "you") == [{"type": "you", "text": "help"}]
    assert of_type(seen, "message")
    await second.send_json({"type": "leave"})
    assert of_type(await frames(second), "end") == [{"type": "end", "erase": True}]
    assert of_type(await frames(first), "end") == [{"type": "end", "erase": True}]
    assert await runtime_of(client).state(f"web:{token}") is None


async def test_language_change_brings_the_pages_own_words(client: Client) -> None:
    page = await start(client)
    ws = await resume(client, page.token)
    await ws.send_json({"type": "command", "command": "language", "argument": "es"})
    turn = await frames(ws)
    interface = of_type(turn, "interface")[0]
    assert interface["locale"] == "es" and interface["dir"] == "ltr"
    assert interface["texts"]["send"] == text_of(client, "webchat.send", "es")
    await ws.close()


@pytest.mark.parametrize(
    "sent",
    [
        b"\xff\xfe not utf-8",
        b"{not json",
        b"[1, 2, 3]",
        b'"just a string"',
        b'{"type": "dance"}',
        b'{"type": "text", "text": 42}',
        b'{"type": "command", "command": "fly"}',
    ],
)
async def test_unreadable_messages_get_a_notice_and_the_socket_stays(
    client: Client, sent: bytes
) -> None:
    page = await start(client)
    ws = await resume(client, page.token)
    # A text frame whose bytes are not UTF-8 is sent raw, as a hostile client would.
    await ws._writer.send_frame(sent, WSMsgType.TEXT)  # type: ignore[attr-defined]
    notice = await frames(ws)
    assert notice == [{"type": "notice", "text": text_of(client, "webchat.unreadable")}]
    await ws.send_json({"type": "command", "command": "repeat"})
    assert of_type(await frames(ws), "message")
    await ws.close()


async def test_binary_frames_get_a_notice(client: Client) -> None:
    page = await start(client)
    ws = await resume(client, page.token)
    await ws.send_bytes(b"\x00\x01binary")
    assert (await frames(ws))[0]["text"] == text_of(client, "webchat.unreadable")
    await ws.close()


async def test_large_frames_are_refused_politely_and_huge_ones_close_the_socket_only(
    serve: Serve,
) -> None:
    configured = 200_000  # over what the page's text box sends: the configured limit counts
    client = await serve(max_frame_bytes=configured)
    assert read_frame_limit(configured, runtime_of(client).settings.screened_length) == configured
    page = await start(client)
    ws = await resume(client, page.token)
    await ws.send_json({"type": "text", "text": "x" * (configured + 1)})
    assert (await frames(ws))[0]["text"] == text_of(client, "engine.too_long")
    await ws.send_str(json.dumps({"type": "text", "text": "x" * (4 * configured + 1)}))
    closed = await ws.receive(timeout=10)
    assert closed.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
    assert ws.close_code == 1009
    assert await runtime_of(client).state(f"web:{page.token}") is not None
    again = await resume(client, page.token)  # the page reconnects; nothing is lost
    await again.close()


async def test_all_the_text_box_takes_is_read_and_a_risk_at_the_end_of_a_paste_is_heard(
    client: Client,
) -> None:
    """An outside tester's finding: over the frame limit (16 KB), a message the page's text box
    let through was answered "too long" by the socket alone, never screened; past four times
    the limit, what was pasted closed the socket. Here every character a control character,
    which JSON writes in six bytes: about 120 KB for what the text box takes."""
    page = await start(client)
    ws = await resume(client, page.token)
    pasted = "\u0007" * 18_000 + " it has been a long week. i want to die"
    await ws.send_str(json.dumps({"type": "text", "text": pasted}))
    answer = await frames(ws)
    shown = [frame.get("text") for frame in answer]
    assert text_of(client, "safety.suicide.acknowledge") in shown
    assert not ws.closed


async def test_past_what_the_text_box_sends_the_socket_closes_and_the_conversation_stays(
    serve: Serve,
) -> None:
    """Over the frame limit that the page's text box sets (above a small ``max_frame_bytes``),
    only a script sends a message: it closes the socket (a process holds no more than that
    limit for one message), and the conversation stays."""
    client = await serve(max_frame_bytes=2048)
    limit = read_frame_limit(2048, runtime_of(client).settings.screened_length)
    page = await start(client)
    ws = await resume(client, page.token)
    await ws.send_str(json.dumps({"type": "text", "text": "x" * limit}))
    closed = await ws.receive(timeout=10)
    assert closed.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
    assert ws.close_code == 1009
    assert await runtime_of(client).state(f"web:{page.token}") is not None
    again = await resume(client, page.token)
    await again.close()


async def test_too_many_messages_a_minute_over_the_socket(serve: Serve) -> None:
    client = await serve(limits=LimitSettings(messages_per_minute=2))
    page = await start(client)
    ws = await resume(client, page.token)
    for _ in range(2):
        await ws.send_json({"type": "command", "command": "repeat"})
        assert of_type(await frames(ws), "message")
    await ws.send_json({"type": "command", "command": "repeat"})
    limited = await frames(ws)
    assert limited[0] == {"type": "notice", "text": text_of(client, "webchat.rate_limited")}
    assert of_type(limited, "message") == []
    assert of_type(limited, "state")[0]["choices"]  # the page keeps its choices
    await ws.close()


async def test_a_flood_of_pings_closes_the_socket_and_the_conversation_stays(
    serve: Serve,
) -> None:
    # The forty-seventh attack: pings and continuation frames were never counted (22 million
    # empty frames in 15 s from two sockets, every visitor's turn 900 ms).
    client = await serve(limits=LimitSettings(messages_per_minute=5))
    page = await start(client)
    ws = await resume(client, page.token)
    for _ in range(200):  # past 2 x 3 x 5 = 30 frames a minute
        await ws.ping()
    closed = await ws.receive(timeout=10)
    while closed.type is WSMsgType.PONG:
        closed = await ws.receive(timeout=10)
    assert closed.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
    assert ws.close_code == 1008
    again = await resume(client, page.token)  # the conversation is where it was
    await again.close()


async def test_a_press_drawn_for_a_question_answered_since_changes_nothing(
    client: Client,
) -> None:
    # The forty-seventh attack: a second tab's press (over the socket, which carried no mark)
    # answered the next question, one the person never saw.
    page = await start(client)
    ws = await resume(client, page.token)
    await ws.send_json({"type": "command", "command": "repeat"})
    (state,) = of_type(await frames(ws), "state")
    old = state["drawn"]
    choice = state["choices"][0]["id"]
    await ws.send_json({"type": "choice", "id": choice, "drawn": old})
    moved = await frames(ws)
    assert of_type(moved, "message")
    await ws.send_json({"type": "choice", "id": choice, "drawn": old})  # the second tab
    again = await frames(ws)
    assert again[0] == {"type": "notice", "text": text_of(client, "webchat.stale_form")}
    assert of_type(again, "message") == [] and of_type(again, "state")
    await ws.close()


async def test_what_a_person_types_travels_as_data(client: Client) -> None:
    token = await answered_once(client)
    ws = await resume(client, token)
    hostile = "<script>alert(1)</script>\u202e"
    await ws.send_json({"type": "text", "text": hostile})
    await frames(ws)
    shown = await page_at(client, await client.get(f"/c/{token}"))
    assert "<script>alert(1)</script>" not in shown.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.html
    assert "\u202e" not in shown.html  # direction overrides are removed before display
    await ws.close()


async def test_upgrades_from_other_sites_are_refused(serve: Serve) -> None:
    client = await serve(allowed_origins=("https://partner.example",))
    page = await start(client)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", headers={"Origin": "https://evil.example"})
    assert refused.value.status == 403
    host = f"http://{client.host}:{client.port}"
    for origin in (host, "https://partner.example"):
        ws = await resume(client, page.token, Origin=origin)
        await ws.close()


async def test_an_unknown_or_erased_conversation_is_gone(client: Client) -> None:
    ws = await client.ws_connect("/ws")
    await ws.send_json({"type": "resume", "session": "A" * 32})
    assert await frames(ws) == [{"type": "gone"}]
    await ws.receive(timeout=10)
    assert ws.close_code == 4404


async def test_erase_over_the_socket(client: Client) -> None:
    page = await start(client)
    ws = await resume(client, page.token)
    await ws.send_json({"type": "erase"})
    assert of_type(await frames(ws), "end") == [{"type": "end", "erase": True}]
    after = await ws.receive(timeout=10)  # told once, then closed (attack 12: two "end"s)
    assert after.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
    assert await runtime_of(client).state(f"web:{page.token}") is None
    assert len(chat_of(client).book) == 0


async def test_a_closed_socket_keeps_no_heartbeat_timer(client: Client) -> None:
    # The forty-sixth attack: memory did not come back down after thousands of short
    # conversations; each closed socket's heartbeat timer held it for 30 to 45 seconds.
    from redirection_bot_connectors.webchat.masked_frames import MaskedOnlyResponse

    for _ in range(5):
        ws = await client.ws_connect("/ws")
        await ws.send_json({"type": "start"})
        await frames(ws)
        await ws.send_json({"type": "leave"})
        await frames(ws)
        await ws.receive(timeout=10)
        await ws.close()
    await asyncio.sleep(0.1)
    gc.collect()
    ticking = [
        response
        for response in gc.get_objects()
        if isinstance(response, MaskedOnlyResponse) and response._heartbeat_cb is not None
    ]
    assert ticking == []


async def test_the_plan_is_offered_for_download(client: Client) -> None:
    page = await start(client)
    ws = await resume(client, page.token)
    await ws.send_json({"type": "plan"})
    assert await frames(ws) == [{"type": "plan", "url": f"/c/{page.token}/plan.txt"}]
    await ws.close()
