"""What the web chat refuses before any handler runs: requests for another host, and clients
too slow to send their request.

A client that sends its headers a byte at a time (slowloris) holds a connection and a file
descriptor for as long as it likes unless something times it out: aiohttp closes a connection
that has not completed a request within its keep-alive timeout, which ``runner`` sets to
``header_timeout_seconds``. A body that trickles in is cut off by ``slow_bodies`` after
``body_timeout_seconds`` (408). ``allowed_hosts``, when set, answers 421 to a request whose
``Host`` is not one of them (a DNS rebinding page, a scanner), except the health checks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware

from redirection_bot.api import Tallies, listener_runner

from .options import WebChatOptions

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HEALTH_PATHS = frozenset({"/healthz", "/readyz"})


LINGER_SECONDS = 1.0
"""How long a connection answered before its body was read (a 408 to a trickling body) is
still read from before it closes: aiohttp's default, 10 s, held each slow client's file
twice as long as ``body_timeout_seconds`` (the seventeenth attack)."""


def runner(app: web.Application, options: WebChatOptions) -> web.AppRunner:
    """The app's runner, closing connections that do not complete a request in time."""
    return listener_runner(
        app, keepalive_timeout=options.header_timeout_seconds, lingering_time=LINGER_SECONDS
    )


def slow_bodies(seconds: float, refused: Tallies) -> Middleware:
    """Answer 408 to a request whose body has not all arrived ``seconds`` after its headers
    (the handler, waiting for it, is cancelled); handlers read bodies as usual."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.can_read_body or request.content.is_eof():
            return await handler(request)  # nothing more to wait for (a short body came whole)
        task = asyncio.current_task()
        assert task is not None
        late = False

        def check() -> None:
            nonlocal late
            if not request.content.is_eof():
                late = True
                task.cancel()

        timer = asyncio.get_running_loop().call_later(seconds, check)
        try:
            return await handler(request)
        except asyncio.CancelledError:
            if not late or task.uncancel() > 0:
                raise
            refused.add("request refused", "slow_body")
            raise web.HTTPRequestTimeout(headers={hdrs.CONNECTION: "close"}) from None
        finally:
            timer.cancel()

    return middleware


def known_hosts(allowed: tuple[str, ...], refused: Tallies) -> Middleware:
    """Answer 421 to a request whose Host header is not one of ``allowed`` (with or without
    its port)."""
    hosts = frozenset(host.lower().rstrip(".") for host in allowed)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if hosts and request.path not in HEALTH_PATHS and not _known(request.host, hosts):
            refused.add("request refused", "host")
            return web.Response(status=421, text="misdirected request\n")
        return await handler(request)

    return middleware


def _known(host: str, hosts: frozenset[str]) -> bool:
    host = host.lower()
    if host in hosts:
        return True
    name, _, port = host.rpartition(":")
    return bool(port.isdigit() and name.rstrip(".") in hosts)
