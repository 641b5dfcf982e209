"""Attack: one script sending small frames as fast as it can.

The seventeenth attack: one WebSocket sent ``{"type": "text", "text": "hello there"}`` 30,000
times in a second. Every message over the conversation's rate limit was still screened for
risk (so that a person in crisis typing fast is heard), about 1.3 ms each, and the socket was
read to its end: every conversation of the instance, and every new visitor, waited 40 s (50 s
and more for 117,598 frames in 5 s; bad JSON and binary frames cost too). Now a socket that
sends more than a few frames for each message its conversation may send is closed (1008),
and only so many messages over the limit are screened a minute; the conversation stays.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from aiohttp import WSMsgType

from redirection_bot.operations.config import LimitSettings
from redirection_bot_connectors.webchat.sessions import OVER_LIMIT_READS_PER_MINUTE
from redirection_bot_connectors.webchat.ws import FRAMES_PER_MESSAGE_ALLOWED
from tests.integration.webchat.conftest import Serve, runtime_of, text_of
from tests.security.conftest import rest

PER_MINUTE = 5
BURST = 2_000


async def test_a_socket_flooding_frames_is_closed_and_the_conversation_stays(
    serve: Serve,
) -> None:
    client = await serve(limits=LimitSettings(messages_per_minute=PER_MINUTE))
    ws = await client.ws_connect("/ws")
    await ws.send_json({"type": "start", "locale": "en"})
    token = (await ws.receive_json(timeout=10))[0]["session"]
    hello = json.dumps({"type": "text", "text": "hello there"})
    for index in range(BURST):
        kind = index % 3
        if kind == 0:
            await ws.send_str(hello)
        elif kind == 1:
            await ws.send_str("{not json")
        else:
            await ws.send_bytes(b"\x00\x01")
    answered = 0
    while True:
        message = await ws.receive(timeout=20)
        if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
            break
        answered += 1
    assert ws.close_code == 1008  # policy violation: never read to its end
    assert answered <= FRAMES_PER_MESSAGE_ALLOWED * PER_MINUTE  # what it sent before
    assert await runtime_of(client).state(f"web:{token}") is not None  # the conversation stays
    again = await client.ws_connect("/ws")  # and the page's script takes it up again
    await again.send_json({"type": "resume", "session": token})
    frames: list[dict[str, Any]] = await again.receive_json(timeout=10)
    assert any(frame["type"] == "state" for frame in frames)
    await again.close()


async def test_only_so_many_messages_over_the_limit_are_screened(serve: Serve) -> None:
    client = await serve(limits=LimitSettings(messages_per_minute=1))
    runtime = runtime_of(client)
    screened: list[str] = []
    raises_risk = runtime.raises_risk

    async def counted(text: str, locale: str) -> bool:
        screened.append(text)
        return await raises_risk(text, locale)

    runtime.raises_risk = counted  # type: ignore[method-assign]
    sender = secrets.token_hex(16)
    await rest(client, sender, "hello")
    # a person in crisis typing fast is heard over the limit ...
    _status, answer = await rest(client, sender, "i want to kill myself")
    assert text_of(client, "safety.suicide.acknowledge") in [item.get("text") for item in answer]
    for _ in range(OVER_LIMIT_READS_PER_MINUTE - 1):
        _status, answer = await rest(client, sender, "hello there")
        assert answer[-1]["text"] == text_of(client, "webchat.rate_limited")
    assert len(screened) == OVER_LIMIT_READS_PER_MINUTE
    for _ in range(50):
        await rest(client, sender, "hello there")
    # ... and a script's hundreds over it are refused unread
    assert len(screened) == OVER_LIMIT_READS_PER_MINUTE
    _status, answer = await rest(client, sender, "/stop")  # the way out still works
    assert any(item.get("custom", {}).get("type") == "end" for item in answer)
