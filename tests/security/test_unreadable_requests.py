"""Attack: requests aiohttp cannot read, sent to the web chat as it is served (issue 18).

The forty-first attack: a body labelled ``br`` or ``zstd`` (on any path, even ``GET /``), a
header or URL over 8,190 bytes, a header name with a space, an unknown method, ``Content-Length``
with ``Transfer-Encoding``, a duplicate ``Host``: each got aiohttp's own plain-text 400, whose
words named a package to install ("Please install `Brotli`") or quoted the request's bytes
back, and none of the headers every other answer carries. Each is now answered with its status
alone, with those headers (``operations/listening.py``), and writes no ERROR line; an encoding
it cannot read with the JSON error a program reads for a body its label does not fit (the
forty-second attack: a bare "400 Bad Request" where the REST channel answers JSON).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct
import zlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from redirection_bot.authoring.testing import make_runtime
from redirection_bot.operations.listening import GARBLED_BODY, UNKNOWN_ENCODING
from redirection_bot.program.load import LoadedProgram
from redirection_bot_connectors.webchat import WebChatOptions, create_app
from redirection_bot_connectors.webchat.guard import runner
from tests.helpers import free_port

SECRET = b"Kalle-Virtanen-ABC123"
"""Something a request carries that must never come back in the answer."""

UNREADABLE = {
    "a br Content-Encoding": b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Encoding: br\r\n"
    b"Content-Type: application/json\r\nContent-Length: 8\r\n\r\njunkjunk",
    "a zstd Content-Encoding on a page": b"GET / HTTP/1.1\r\nHost: x\r\nContent-Encoding: zstd\r\n\r\n",
    "long header": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: " + SECRET + b"a" * 9000 + b"\r\n\r\n",
    "long url": b"GET /" + SECRET + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "control character": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: " + SECRET + b"\x01b\r\n\r\n",
    "space in a name": b"GET / HTTP/1.1\r\nHost: x\r\nX A: " + SECRET + b"\r\n\r\n",
    "unknown method": b"FOO / HTTP/1.1\r\nHost: x\r\n\r\n",
    "both lengths": b"POST /start HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "two lengths": b"POST /start HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4"
    b"\r\n\r\nabcd",
}


@pytest.fixture
async def port(shipped: LoadedProgram) -> AsyncIterator[int]:
    options = WebChatOptions()
    app_runner = runner(create_app(make_runtime(shipped), options), options)
    await app_runner.setup()
    chosen = free_port()
    await web.TCPSite(app_runner, "127.0.0.1", chosen).start()
    yield chosen
    await app_runner.cleanup()


async def sent(port: int, request: bytes) -> tuple[bytes, dict[str, str], bytes]:
    """The status line, headers and body of the answer to ``request``, sent as it is."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(65536), 10)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    headers: dict[str, Any] = {}
    for line in lines:
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


@pytest.mark.parametrize("kind", sorted(UNREADABLE))
async def test_an_unreadable_request_gets_its_status_alone_with_every_safety_header(
    port: int, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    status, headers, body = await sent(port, UNREADABLE[kind])
    code = int(status.split()[1])
    assert 400 <= code < 500, status
    assert headers["connection"] == "close"  # a request sent behind it is to be sent again
    if "Content-Encoding" in kind:  # the JSON error a body its label does not fit gets too
        assert json.loads(body) == {"error": UNKNOWN_ENCODING}, body
    else:
        assert body.strip() == status.split(b" ", 1)[1], body  # "400 Bad Request", nothing more
    for word in (b"install", b"Brotli", b"aiohttp", SECRET, b"Got more than"):
        assert word not in body
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"].startswith("default-src 'none'")
    assert headers["cache-control"] == "no-store"
    assert headers["server"] == "web"
    await asyncio.sleep(0.05)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_the_web_chat_still_answers_after_them(port: int) -> None:
    for request in UNREADABLE.values():
        await sent(port, request)
    status, _headers, body = await sent(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 200") and b"<html" in body


@pytest.mark.parametrize("path", ["/start", "/webhooks/rest/webhook"])
async def test_a_body_its_gzip_label_does_not_fit_writes_no_error_line_and_ends_the_connection(
    port: int, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body = b"locale=en&junk=" + SECRET
    request = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    status, headers, answer = await sent(port, request)
    assert status.split()[1].startswith(b"4") and SECRET not in answer
    # aiohttp drops what followed such a body: the answer says the connection ends, so that a
    # client resends a request it pipelined behind it (the forty-second attack; RFC 9112 9.6)
    assert headers["connection"] == "close"
    await asyncio.sleep(0.05)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


@pytest.mark.parametrize("path", ["/start", "/webhooks/rest/webhook"])
async def test_a_client_resetting_its_own_socket_mid_request_writes_no_error_line(
    port: int, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Attack 43: a client that sent half a body and reset its socket was logged at ERROR
    ("request failed error=ConnectionError"): a script could write ERROR lines at will."""
    caplog.set_level(logging.INFO)
    for _ in range(3):
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 5000\r\n\r\n".encode()
            + b'{"message": "'
            + b"a" * 100
        )
        await writer.drain()
        await asyncio.sleep(0.05)
        raw = writer.get_extra_info("socket")
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # an RST, not a FIN
    await asyncio.sleep(0.2)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    status, _headers, _body = await sent(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 200")


async def test_a_deflate_body_cut_short_is_told_so_not_that_deflate_is_unread(
    port: int, caplog: pytest.LogCaptureFixture
) -> None:
    """The fifty-sixth attack: a zlib stream without its checksum was answered "the body's
    Content-Encoding is not one this service reads", though deflate is read."""
    caplog.set_level(logging.INFO)
    body = zlib.compress(b'{"message": "hello"}')[:-4]
    request = (
        b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Encoding: deflate\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    status, headers, answer = await sent(port, request + body)
    assert status.split()[1] == b"400" and headers["connection"] == "close"
    assert json.loads(answer) == {"error": GARBLED_BODY}
    await asyncio.sleep(0.05)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
