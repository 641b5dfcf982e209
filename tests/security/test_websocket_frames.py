"""Attack: WebSocket frames sent without a mask (the forty-first and forty-second attacks).

RFC 6455 (5.1) has every frame a client sends masked, and a server close the connection on
one that is not: the mask keeps a page's script from writing bytes that a proxy on the way
would read as a request of its own. aiohttp's reader took unmasked frames as any other: a
script's ``{"type": "start"}`` without a mask was answered with a conversation. Now such a
frame ends the socket with 1002 (protocol error) and is never read; masked frames, which
every browser sends, go on as before (``tests/integration/webchat/test_websocket.py``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os

import pytest

from tests.integration.webchat.conftest import Serve

START = json.dumps({"type": "start", "locale": "en"}).encode()


def frame(payload: bytes, *, masked: bool) -> bytes:
    """One final text frame carrying ``payload`` (under 126 bytes), masked or not."""
    if not masked:
        return bytes([0x81, len(payload)]) + payload
    mask = os.urandom(4)
    hidden = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + hidden


def handshake(port: int) -> bytes:
    key = base64.b64encode(os.urandom(16))
    return (
        (
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
        ).encode()
        + key
        + b"\r\n\r\n"
    )


async def answer_after(port: int, first: bytes, then: bytes = b"") -> bytes:
    """Everything the server sends on a socket given ``first``, and ``then`` once the
    handshake's answer came, until it closes (or falls quiet for two seconds)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(first)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 101"), head
    if then:
        writer.write(then)
    received = b""
    try:
        while chunk := await asyncio.wait_for(reader.read(65536), 2):
            received += chunk
    except TimeoutError:
        pass
    writer.close()
    return received


@pytest.mark.parametrize("when", ["after the handshake", "in the handshake's packet"])
async def test_an_unmasked_frame_closes_the_socket_unread(serve: Serve, when: str) -> None:
    client = await serve()
    port = client.port
    assert port is not None
    unmasked = frame(START, masked=False)
    if when == "after the handshake":
        received = await answer_after(port, handshake(port), unmasked)
    else:
        received = await answer_after(port, handshake(port) + unmasked)
    assert b"session" not in received  # never answered as a conversation
    assert received[:2] == b"\x88\x02" and received[2:4] == (1002).to_bytes(2, "big"), received


async def test_masked_frames_on_the_same_kind_of_socket_are_answered(serve: Serve) -> None:
    client = await serve()
    port = client.port
    assert port is not None
    received = await answer_after(port, handshake(port), frame(START, masked=True))
    assert b'"session"' in received
