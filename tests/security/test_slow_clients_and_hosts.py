"""Slow clients are cut off and requests for other hosts refused (issue 18).

The faults: partial headers and bodies were never timed out (500 slow connections held for
100 s; only the open-file limit protected the process), and a request with Host (and Origin)
``evil.example`` was served.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from redirection_bot.authoring.testing import make_runtime
from redirection_bot.program.load import LoadedProgram
from redirection_bot_connectors.webchat import WebChatOptions, create_app
from redirection_bot_connectors.webchat.guard import LINGER_SECONDS, runner
from redirection_bot_connectors.webchat.sessions import MAX_LISTENERS
from redirection_bot_connectors.webchat.ws import CLOSE_DISPLACED, socket_limit
from tests.helpers import free_port
from tests.integration.handoff.conftest import Setup
from tests.integration.handoff.platform import Platform

TIMEOUT = 1


@pytest.fixture
async def served(shipped: LoadedProgram) -> AsyncIterator[Any]:
    started: list[web.AppRunner] = []

    async def serve(**options: Any) -> int:
        chosen = WebChatOptions(**options)
        app_runner = runner(create_app(make_runtime(shipped), chosen), chosen)
        await app_runner.setup()
        port = free_port()
        await web.TCPSite(app_runner, "127.0.0.1", port).start()
        started.append(app_runner)
        return port

    yield serve
    for app_runner in started:
        await app_runner.cleanup()


async def closed_after(reader: asyncio.StreamReader, seconds: float, started: float) -> float:
    """Seconds from ``started`` (taken before connecting: the server's clock starts when it
    accepts) until the server closes the connection (reading what it sends meanwhile)."""
    async with asyncio.timeout(seconds):
        while await reader.read(1024):
            pass
    return time.monotonic() - started


async def test_a_client_sending_its_headers_byte_by_byte_is_cut_off(served: Any) -> None:
    port = await served(header_timeout_seconds=TIMEOUT)
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\nX-Padding: " + b"a" * 200
    # Timed from before connecting: the server's clock starts when it accepts, and a busy
    # machine can delay this side's return from connecting by some tenths of a second.
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    cut_off = False
    try:
        for byte in request:
            writer.write(bytes([byte]))
            try:
                await writer.drain()
            except ConnectionError:
                cut_off = True
                break
            if reader.at_eof():
                cut_off = True
                break
            try:
                async with asyncio.timeout(0.05):
                    if not await reader.read(1024):
                        cut_off = True
                        break
            except TimeoutError:
                pass
            assert time.monotonic() - started < TIMEOUT + 3, "the slow client was never cut off"
    finally:
        writer.close()
    assert cut_off
    assert TIMEOUT - 0.2 <= time.monotonic() - started < TIMEOUT + 3


async def test_a_connection_that_sends_half_its_headers_and_waits_is_closed(served: Any) -> None:
    port = await served(header_timeout_seconds=TIMEOUT)
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    await writer.drain()
    assert await closed_after(reader, TIMEOUT + 3, started) >= TIMEOUT - 0.2
    writer.close()


async def test_a_body_that_trickles_in_is_answered_408(served: Any) -> None:
    port = await served(body_timeout_seconds=TIMEOUT)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = b'{"sender": "slow-client-sender-0001", "message": "hello"}'
    started = time.monotonic()  # before sending: the server's clock starts on its side
    writer.write(
        b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:5]
    )
    await writer.drain()
    async with asyncio.timeout(TIMEOUT + 3):
        status_line = await reader.readline()
    assert b" 408 " in status_line
    assert time.monotonic() - started >= TIMEOUT - 0.2
    # ... and the connection ends soon after (it lingered 10 s more: the seventeenth attack)
    await closed_after(reader, LINGER_SECONDS + 3, started)
    writer.close()


async def test_a_request_for_another_host_is_refused_when_hosts_are_set(served: Any) -> None:
    port = await served(allowed_hosts=("chat.example.org",))

    async def status(host: str, path: str = "/") -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        line = await reader.readline()
        writer.close()
        return int(line.split()[1])

    assert await status("evil.example") == 421
    assert await status("chat.example.org.evil.example") == 421
    assert await status("chat.example.org") == 200
    assert await status("CHAT.example.org:443") == 200
    assert await status("evil.example", "/healthz") == 200  # a load balancer's probe


async def test_refusals_a_script_repeats_are_one_log_line_a_minute(
    served: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # The forty-seventh attack: each refused request wrote a line (10,000 in 2.3 s).
    caplog.set_level(logging.INFO)
    port = await served(allowed_hosts=("chat.example.org",))
    for _ in range(30):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
        await writer.drain()
        assert b"421" in await reader.readline()
        writer.close()
    refused = [r for r in caplog.records if "request refused" in r.getMessage()]
    assert len(refused) == 1 and "reason=host" in refused[0].getMessage()


async def test_origin_games_a_browser_never_plays_are_refused(served: Any) -> None:
    """Attack 43: two ``Origin`` headers (this site's first, another's second) and a request
    that says it came across sites without naming its origin were answered 200."""
    port = await served()

    async def status(method: str, path: str, *headers: str) -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        body = b'{"message": "hello"}' if method == "POST" else b""
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            "Connection: close",
            *headers,
        ]
        if path == "/ws":
            lines += [
                "Upgrade: websocket",
                "Connection: Upgrade",
                "Sec-WebSocket-Version: 13",
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        line = await reader.readline()
        writer.close()
        return int(line.split()[1])

    here = f"Origin: http://127.0.0.1:{port}"
    for method, path in (("POST", "/webhooks/rest/webhook"), ("GET", "/ws")):
        assert await status(method, path, here, "Origin: https://evil.example") == 403
        assert await status(method, path, "Sec-Fetch-Site: cross-site") == 403
        assert await status(method, path, here) in (200, 101)
        assert await status(method, path, "Sec-Fetch-Site: same-origin") in (200, 101)


async def test_without_allowed_hosts_every_host_is_served(served: Any) -> None:
    port = await served()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: anything.example\r\nConnection: close\r\n\r\n")
    await writer.drain()
    assert b" 200 " in await reader.readline()
    writer.close()


async def test_a_websocket_that_never_starts_a_conversation_is_closed(served: Any) -> None:
    """Attack 7: 1,100 WebSockets opened and never sent ``start`` held every file the process
    could open; new visitors' pages timed out."""

    port = await served(socket_start_seconds=TIMEOUT)
    async with aiohttp.ClientSession() as session:
        silent = await session.ws_connect(f"http://127.0.0.1:{port}/ws")
        started = await session.ws_connect(f"http://127.0.0.1:{port}/ws")
        await started.send_json({"type": "start", "locale": "en"})
        async with asyncio.timeout(10 * TIMEOUT):
            closing = await silent.receive()
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        await asyncio.sleep(TIMEOUT + 0.5)
        assert not started.closed  # a conversation keeps its socket
        await started.close()


async def test_a_websocket_that_only_pings_is_closed_at_the_start_deadline(served: Any) -> None:
    """Attack 14: a socket that sent only pings (or unasked pongs) was never closed, each
    answered ping starting aiohttp's timeout again; 300 of 300 held ``max_sockets`` quietly."""

    port = await served(socket_start_seconds=TIMEOUT)
    async with aiohttp.ClientSession() as session:
        pinging = await session.ws_connect(f"http://127.0.0.1:{port}/ws", autoping=False)
        closed = False
        async with asyncio.timeout(10 * TIMEOUT):
            while not closed:
                await pinging.ping()
                await pinging.pong()
                try:
                    async with asyncio.timeout(TIMEOUT / 4):
                        message = await pinging.receive()
                except TimeoutError:
                    continue
                closed = message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert closed


async def test_sockets_held_open_never_shut_new_visitors_pages_out(served: Any) -> None:
    """Attack 8: 1,100 WebSockets started and then held idle reached the open-file limit;
    every new visitor's page timed out."""
    port = await served(max_sockets=2)
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        held = [await session.ws_connect(f"{url}/ws") for _ in range(2)]
        for socket in held:
            await socket.send_json({"type": "start", "locale": "en"})
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(f"{url}/ws")
        assert refused.value.status == 503
        assert refused.value.headers is not None
        assert refused.value.headers["Retry-After"] == "30"  # not the store's "1"
        async with session.get(f"{url}/") as page:
            assert page.status == 200  # a new visitor's page, and its forms, still work
        await held[0].close()
        await asyncio.sleep(0.2)
        again = await session.ws_connect(f"{url}/ws")  # a freed place is taken again
        await again.close()
        await held[1].close()


async def test_one_conversation_resumed_on_thousands_of_sockets_holds_at_most_eight(
    served: Any,
) -> None:
    """Attack 12: 19,743 WebSockets resuming one conversation, then 300 keep-alive requests,
    used every file the process could open: new visitors' pages and presses without
    JavaScript timed out. A ninth page on one conversation lets the oldest go (4409), and
    sockets take at most half the open-file limit."""
    port = await served()
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        first = await session.ws_connect(f"{url}/ws")
        await first.send_json({"type": "start", "locale": "en"})
        token = (await first.receive_json(timeout=10))[0]["session"]
        tabs = []
        for _ in range(MAX_LISTENERS):
            tab = await session.ws_connect(f"{url}/ws")
            await tab.send_json({"type": "resume", "session": token})
            await tab.receive_json(timeout=10)
            tabs.append(tab)
        closing = await first.receive(timeout=10)  # the oldest let go
        assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == CLOSE_DISPLACED
        await tabs[-1].send_json({"type": "choice", "id": "go_on"})  # the newest works
        frames = await tabs[-1].receive_json(timeout=10)
        assert any(frame["type"] == "message" for frame in frames)
        for tab in tabs:
            await tab.close()
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert socket_limit(0) <= soft // 2  # half the files stay for pages and presses


async def test_badly_signed_webhook_requests_are_one_log_line_a_minute(
    helpline: Setup, platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    """The fifty-sixth attack: 3,000 requests with a bad signature wrote 3,000 lines in a
    second (with ``-v``), from anyone who reaches the listener."""
    caplog.set_level(logging.INFO)
    body = b'{"id": "x", "type": "duty", "on_duty": true, "operator": {}}'
    headers = {**platform.signature(body), "X-Redirection-Signature": "v1=" + "0" * 64}
    for _ in range(30):
        status, _answer = await platform.post(body, headers)
        assert status == 401
    refused = [r for r in caplog.records if "webhook request refused" in r.getMessage()]
    assert len(refused) == 1
