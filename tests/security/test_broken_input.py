"""Attack: break a conversation for good with input Python cannot take.

JSON nested 1,000 deep raised RecursionError (a 500) on REST, the WebSocket and the signed
operator webhook; a lone surrogate (half an emoji, as JavaScript's ``slice()`` leaves it)
gave 500s and then the person's page and plan.txt answered 500; any exception inside /ws
was written into the upgraded socket as an HTML error page. Each is now a polite answer
and the conversation carries on."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from aiohttp import WSMsgType

from redirection_bot.store import StoreUnavailable
from tests.integration.handoff.conftest import Setup
from tests.integration.handoff.platform import Platform
from tests.integration.handoff.test_webhook import ANNA
from tests.integration.webchat.conftest import chat_of, runtime_of, text_of
from tests.security.conftest import WEBHOOK, Client, nested, rest

HALF_AN_EMOJI = "thank you \ud83d"


async def still_works(client: Client, token: str) -> None:
    """The person's page and plan.txt answer as before."""
    page = await client.get(f"/c/{token}")
    assert page.status == 200
    plan = await client.get(f"/c/{token}/plan.txt")  # no plan yet: back to the page
    assert plan.status == 200


async def live_start(client: Client) -> tuple[Any, str]:
    ws = await client.ws_connect("/ws")
    await ws.send_json({"type": "start", "locale": "en"})
    frames = await ws.receive_json(timeout=10)
    return ws, frames[0]["session"]


async def told_unreadable_and_going_on(client: Client, ws: Any, times: int = 1) -> None:
    """The socket answers each frame sent with the ``unreadable`` notice, then goes on."""
    for _ in range(times):
        frames = await ws.receive_json(timeout=10)
        assert frames == [{"type": "notice", "text": text_of(client, "webchat.unreadable")}]
    await ws.send_json({"type": "command", "command": "repeat"})
    answer = await ws.receive_json(timeout=10)
    assert any(frame["type"] == "message" for frame in answer)


async def test_deep_json_over_rest_is_a_clear_400_and_the_conversation_goes_on(
    client: Client,
) -> None:
    sender = secrets.token_hex(16)
    await rest(client, sender, "hello")
    body = b'{"sender": "' + sender.encode() + b'", "message": "hi", "x": '
    body += b"[" * 1000 + b"]" * 1000 + b"}"
    response = await client.post(WEBHOOK, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400 and "JSON" in (await response.json())["error"]
    status, answer = await rest(client, sender, "/repeat")
    assert status == 200 and answer


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b'{"sender": "x", "message": "hi", "x": ' + b"[" * 40 + b"]" * 40 + b"}", "nested"),
        ("\ufeff{}".encode(), "the body is preceded by a byte order mark"),
        (b'{"message": "hi"} trailing', "not JSON"),
        (b'{"message": "\xff"}', "not UTF-8"),
    ],
)
async def test_a_rest_refusal_says_what_was_wrong(client: Client, body: bytes, said: str) -> None:
    """Attack 13: nesting, a byte order mark or trailing data were all answered "send JSON
    in UTF-8", though the body was UTF-8; and a body over the limit with a bare "HTTP 413"."""
    response = await client.post(WEBHOOK, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400 and said in (await response.json())["error"]


async def test_a_rest_body_over_the_limit_says_so(client: Client) -> None:
    body = ('{"message": "' + "\\u00e9" * 200_000 + '"}').encode()
    response = await client.post(WEBHOOK, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 413 and "too large" in (await response.json())["error"]


async def test_deep_json_over_the_websocket_is_a_notice_and_the_socket_stays(
    client: Client,
) -> None:
    ws, token = await live_start(client)
    await ws.send_bytes(nested())  # as text: the socket reads frames as bytes
    await ws.send_str(nested().decode())
    await told_unreadable_and_going_on(client, ws, times=2)
    await ws.close()
    await still_works(client, token)


async def test_deep_json_to_the_signed_operator_webhook_is_a_clear_400(
    helpline: Setup, platform: Platform
) -> None:
    body = b'{"id": "x", "type": "duty", "on_duty": true, "operator": ' + b"[" * 1000
    body += b"]" * 1000 + b"}"
    status, answer = await platform.post_signed(body)
    assert status == 400 and "JSON" in answer["error"]
    status, _answer = await platform.send({"type": "duty", "operator": ANNA, "on_duty": True})
    assert status == 200


async def test_any_failure_inside_the_socket_is_a_localised_notice_and_the_chat_goes_on(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, token = await live_start(client)
    runtime = runtime_of(client)
    handle = runtime.handle
    for failure in (StoreUnavailable("redis restarting"), RuntimeError("a fault of ours")):

        async def failing(*_args: Any, error: Exception = failure) -> Any:
            raise error

        monkeypatch.setattr(runtime, "handle", failing)
        await ws.send_json({"type": "text", "text": "hello"})
        message = await ws.receive(timeout=10)
        assert message.type is WSMsgType.TEXT  # JSON, never an HTML page in the socket
        assert message.json() == [{"type": "notice", "text": text_of(client, "webchat.error")}]
        monkeypatch.setattr(runtime, "handle", handle)
        await ws.send_json({"type": "command", "command": "repeat"})
        answer = await ws.receive_json(timeout=10)
        assert any(frame["type"] == "message" for frame in answer)
    await ws.close()
    await still_works(client, token)


async def test_a_page_reconnecting_while_the_store_is_away_is_told_and_tries_again(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The forty-sixth attack: the resume got the notice but the socket stayed open with
    # nothing attached, and every press was "I could not read that message" for ten seconds.
    ws, token = await live_start(client)
    await ws.close()
    chat = chat_of(client)
    find = chat.find

    async def away(*_args: Any, **_kwargs: Any) -> Any:
        raise StoreUnavailable("redis restarting")

    monkeypatch.setattr(chat, "find", away)
    page = await client.ws_connect("/ws")
    await page.send_json({"type": "resume", "session": token})
    assert (await page.receive_json(timeout=10)) == [
        {"type": "notice", "text": text_of(client, "webchat.error")}
    ]
    closed = await page.receive(timeout=10)
    assert closed.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
    assert page.close_code == 1013  # try again later: the page's script does
    monkeypatch.setattr(chat, "find", find)
    again = await client.ws_connect("/ws")
    await again.send_json({"type": "resume", "session": token})
    assert [frame["type"] for frame in await again.receive_json(timeout=10)] == [
        "interface",
        "state",
    ]
    await again.close()


async def test_half_a_character_over_rest_is_answered_and_the_conversation_goes_on(
    client: Client,
) -> None:
    sender = secrets.token_hex(16)
    await rest(client, sender, "hello")
    status, answer = await rest(client, sender, HALF_AN_EMOJI)
    assert status == 200
    assert answer[0]["text"] == text_of(client, "engine.unreadable")
    assert (await rest(client, sender, "/plan"))[0] == 200
    assert (await rest(client, sender, "/repeat"))[0] == 200


async def test_half_a_character_as_first_words_over_rest_gets_the_greeting_once(
    client: Client,
) -> None:
    """The fifteenth attack: the greeting, "Part of that message could not be read", and
    the greeting again, in one answer."""
    status, answer = await rest(client, secrets.token_hex(16), HALF_AN_EMOJI)
    texts = [item["text"] for item in answer]
    assert status == 200 and text_of(client, "engine.unreadable") in texts
    assert len(texts) == len(set(texts))


async def test_half_a_character_over_the_websocket_keeps_the_page_and_plan(
    client: Client,
) -> None:
    ws, token = await live_start(client)
    await ws.send_json({"type": "text", "text": HALF_AN_EMOJI})
    answer = await ws.receive_json(timeout=10)
    assert any(f.get("text") == text_of(client, "engine.unreadable") for f in answer)
    await ws.close()
    await still_works(client, token)


async def test_half_a_character_from_an_operator_keeps_the_persons_page_and_plan(
    helpline: Setup, platform: Platform
) -> None:
    page, token = await helpline.page()
    await platform.send({"type": "duty", "operator": ANNA, "on_duty": True})
    await page.ask_for_a_person()
    (ticket,) = await platform.wait_for("ticket")
    await platform.send({"type": "claim", "ticket": ticket["ticket"], "operator": ANNA})
    status, answer = await platform.send(
        {"type": "message", "ticket": ticket["ticket"], "operator": ANNA, "text": HALF_AN_EMOJI}
    )
    assert status == 200, answer
    said = await page.until(lambda f: f.get("type") == "operator")
    assert said["text"].startswith("thank you")
    await still_works(helpline.client, token)


BROKEN_MULTIPART = {"Content-Type": "multipart/form-data; boundary=x"}


async def test_a_broken_multipart_form_is_read_as_unreadable_never_a_500(client: Client) -> None:
    """An outside tester's finding: a multipart body whose part headers cannot be parsed
    (``--x`` then garbage) answered 500 "Something went wrong on our side" on /start and on a
    conversation's page. A new conversation starts as without a form; an existing one is told
    it could not be read, and carries on."""
    started = await client.post(
        "/start", data=b"--x\r\nbroken", headers=BROKEN_MULTIPART, allow_redirects=False
    )
    assert started.status == 303 and started.headers["Location"].startswith("/c/")
    token = started.headers["Location"].removeprefix("/c/").split("#")[0]
    sent = await client.post(
        f"/c/{token}", data=b"--x\r\nbroken", headers=BROKEN_MULTIPART, allow_redirects=False
    )
    assert sent.status == 303
    page = await client.get(f"/c/{token}")
    assert text_of(client, "webchat.unreadable") in await page.text()
    await still_works(client, token)
