"""Opening a listening socket for an aiohttp app, with a clear error when the address is taken.

Every listener of ``serve`` (the web chat, the admin listener, a webhook channel) opens its
address here, so that "address already in use" reads the same everywhere and says what to
change, instead of ending in a traceback; and each makes its runner with ``runner()`` here,
so that every answer's ``Server`` header says the same: nothing about the software or its
version (aiohttp would say ``Python/3.11 aiohttp/3.x``), and a request aiohttp cannot read
(a broken header, an unknown ``Content-Encoding``, a URL too long) is answered with its status
and nothing else: aiohttp's own answer named a library to install or echoed the request's
bytes back, without the headers every other answer carries (the forty-first attack).
"""

from __future__ import annotations

import os
from http import HTTPStatus
from typing import Any

from aiohttp import hdrs, web, web_protocol, web_response
from aiohttp.http_exceptions import ContentEncodingError

from redirection_bot.errors import ConnectorError

SERVER_NAME = "web"
"""What every listener's ``Server`` header says: nothing about the software or its version."""


async def _no_software(_request: web.Request, response: web.StreamResponse) -> None:
    response.headers[hdrs.SERVER] = SERVER_NAME


def hide_software(app: web.Application) -> web.Application:
    """Make every answer of ``app`` say ``Server: web`` (before the app is started; once is
    enough, twice does no harm).

    aiohttp answers a request it cannot parse (400) before any app sees it, naming itself
    with ``web_response.SERVER_SOFTWARE``: that default is replaced too, for this process's
    responses only (the client's ``User-Agent`` has its own copy). A test of ``serve`` sends
    malformed requests to every listener, so a change in aiohttp shows. A body labelled with
    an encoding this service does not read is refused here too (``READ_ENCODINGS``)."""
    web_response.SERVER_SOFTWARE = SERVER_NAME  # type: ignore[attr-defined]
    if _no_software not in app.on_response_prepare:
        app.on_response_prepare.append(_no_software)
    if _readable_encoding not in app.middlewares:
        app.middlewares.append(_readable_encoding)
    return app


READ_ENCODINGS = frozenset({"gzip", "deflate", "identity"})
"""The one ``Content-Encoding`` a body may say it has: aiohttp decodes the first two, and read
any other label it does not know ("compress", "x-gzip", "gzip, identity") as plain text (the
fifty-fifth attack; only "br" and "zstd" were refused)."""


@web.middleware
async def _readable_encoding(request: web.Request, handler: Any) -> web.StreamResponse:
    """Refuse a body labelled with an encoding this service does not read, or with several."""
    labels = request.headers.getall(hdrs.CONTENT_ENCODING, [])
    if labels and (len(labels) > 1 or labels[0].strip().lower() not in READ_ENCODINGS):
        answer = web.json_response(
            {"error": UNKNOWN_ENCODING}, status=400, headers=UNREADABLE_HEADERS
        )
        answer.force_close()
        return answer
    handled: web.StreamResponse = await handler(request)
    return handled


UNREADABLE_HEADERS = {
    hdrs.CONTENT_SECURITY_POLICY: "default-src 'none'; frame-ancestors 'none'",
    hdrs.X_CONTENT_TYPE_OPTIONS: "nosniff",
    hdrs.CACHE_CONTROL: "no-store",
    "Referrer-Policy": "no-referrer",
}
"""What the answer to a request that could not be read carries: it shows nothing, and may be
framed, sniffed, kept or followed nowhere."""


UNKNOWN_ENCODING = (
    "the body's Content-Encoding is not one this service reads: send it plain, gzip or deflate"
)
"""The error a request with a ``Content-Encoding`` aiohttp cannot decode is answered with."""

GARBLED_BODY = (
    "the body is not what its Content-Encoding says (cut short or damaged): send it plain, or"
    " compressed whole"
)
"""The error for a body labelled gzip or deflate that does not decode to its end."""


class PoliteRequestHandler(web_protocol.RequestHandler):
    """aiohttp's connection handler, answering a request it could not read (or a failure
    before any handler answered) with its status alone: "400 Bad Request", never the parser's
    words (which name a library, or quote what was sent)."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        super().handle_error(request, status, exc)  # logs (without the message) and checks
        if isinstance(exc, ContentEncodingError):
            # A label aiohttp cannot read ("br" without Brotli, "zstd"): a program sent it,
            # and reads the same JSON error as for a body its label does not fit. A label it
            # reads on a body cut short (a zlib stream without its checksum) is that: the
            # fifty-sixth attack was told "deflate" is not read here). The request's headers
            # are not at hand here: aiohttp's words tell the two apart (a label it lacks a
            # package for, "Please install ...", or a body that did not decode).
            unread = "install" in str(exc).lower()
            answer: web.Response = web.json_response(
                {"error": UNKNOWN_ENCODING if unread else GARBLED_BODY},
                status=400,
                headers=UNREADABLE_HEADERS,
            )
        else:
            try:
                reason = HTTPStatus(status).phrase
            except ValueError:
                reason = "Error"
            answer = web.Response(
                status=status, text=f"{status} {reason}\n", headers=UNREADABLE_HEADERS
            )
        answer.force_close()
        answer.headers[hdrs.CONNECTION] = "close"  # said, also in an HTTP/1.0 answer
        return answer


class PoliteServer(web.Server):
    """A server whose connections are handled by ``PoliteRequestHandler``."""

    def __call__(self) -> web_protocol.RequestHandler:
        return PoliteRequestHandler(self, loop=self._loop, **self._kwargs)


class ListenerRunner(web.AppRunner):
    """``web.AppRunner`` with ``PoliteServer`` as the app's server."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = PoliteServer  # the same object, its connections handled politely
        return server


def runner(app: web.Application, **options: Any) -> web.AppRunner:
    """The runner of a listener of ``serve``: no access log (it would hold addresses), no
    signal handlers (``serve`` has its own), the ``Server`` header hidden, and unreadable
    requests answered with their status alone (``PoliteRequestHandler``)."""
    return ListenerRunner(hide_software(app), access_log=None, handle_signals=False, **options)


async def listen(runner: web.AppRunner, host: str, port: int, what: str, change: str) -> int:
    """Start ``runner`` (already set up) on ``host:port``; the port it listens on (the one
    given, or the free one picked for port 0). Raises ConnectorError naming ``what`` listens
    and ``change``, the setting that picks another address, when it cannot listen."""
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as error:
        await runner.cleanup()
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise ConnectorError(
            f"{what} cannot listen on {host}:{port}: {reason.lower()}. Another program, perhaps "
            f"another redirection-bot, may be using it: choose another with {change}."
        ) from error
    return bound_port(runner, port)


def http_address(host: str, port: int) -> str:
    """The address a person or an operator opens: ``http://127.0.0.1:8080/``, an IPv6 host in
    brackets (``http://[::1]:8080/``)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def bound_port(runner: web.AppRunner, configured: int) -> int:
    """The port ``runner`` listens on (``configured`` if it cannot tell)."""
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return configured
