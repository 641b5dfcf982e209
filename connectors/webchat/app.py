"""The web chat's aiohttp application: ``create_app(runtime, options)``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware
from aiohttp.web_protocol import RequestPayloadError

from redirection_bot.api import (
    Runtime,
    SessionBusy,
    StoreUnavailable,
    VersionConflict,
    hide_software,
    log_event,
)

from .assets import Assets
from .chat import WebChat
from .guard import known_hosts, slow_bodies
from .options import WebChatOptions
from .pages import Pages
from .rest import PATH as REST_PATH
from .rest import PENDING_PATH as REST_PENDING_PATH
from .rest import RestChannel
from .security import (
    add_headers,
    quiet_aiohttp_logs,
    security_headers,
)
from .ws import LiveSocket, SocketHandler

CHAT = web.AppKey("chat", WebChat)
MAX_BODY_BYTES = 64 * 1024
FORM_BYTES_PER_CHARACTER = 9
"""What a character of the page's text box can take in a form's body: three bytes of UTF-8
(Cyrillic, Arabic, CJK), each sent as ``%XX``. The body limit lets the whole box through, so
that a long paste in any script is read and screened (the sixteenth attack: 10,912 Cyrillic
characters were "could not read that message", a suicidal sentence at their end unread)."""
FORM_OTHER_BYTES = 4096
EXPIRY_INTERVAL_SECONDS = 60.0
_ERROR_TEXTS = {404: "gone", 503: "busy"}
CLOSE_RESTARTING = 1012

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_app(runtime: Runtime, options: WebChatOptions | None = None) -> web.Application:
    """The web chat over ``runtime``: pages, the live socket, the REST channel, assets."""
    quiet_aiohttp_logs()
    options = options or WebChatOptions()
    chat = WebChat(runtime, options)
    assets = Assets(options.branding)
    pages = Pages(chat, assets)
    app = web.Application(
        client_max_size=max(
            MAX_BODY_BYTES, chat.page_characters * FORM_BYTES_PER_CHARACTER + FORM_OTHER_BYTES
        ),
        middlewares=[
            *([known_hosts(options.allowed_hosts, chat.refused)] if options.allowed_hosts else []),
            _error_pages(pages),
            slow_bodies(options.body_timeout_seconds, chat.refused),
        ],
    )
    app[CHAT] = chat
    app.on_response_prepare.append(add_headers(security_headers(options.branding.exit_url)))
    hide_software(app)  # here too, for an app run without the listener's runner (tests)
    app.cleanup_ctx.append(_expiry(chat))
    app.on_startup.append(_restore_endings(chat))
    app.on_shutdown.append(_close_sockets(chat))
    app.on_shutdown.append(_drain_endings(chat))
    app.on_cleanup.append(_stop_following(chat))
    app.router.add_get("/", pages.landing)
    app.router.add_post("/start", pages.start)
    app.router.add_get("/c/{token}", pages.show)
    app.router.add_post("/c/{token}", pages.post)
    app.router.add_post("/c/{token}/leave", pages.leave)
    app.router.add_post("/c/{token}/erase", pages.erase)
    app.router.add_get("/c/{token}/plan.txt", pages.plan)
    app.router.add_get("/c/{token}/waiting", pages.waiting)
    app.router.add_get("/blank", pages.blank)
    app.router.add_get("/favicon.ico", pages.no_icon)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz(runtime))
    app.router.add_get("/static/{name}", assets.serve)
    app.router.add_get("/ws", SocketHandler(chat).handle)
    if options.rest:
        rest = RestChannel(chat)
        app.router.add_post(REST_PATH, rest.webhook)
        app.router.add_post(REST_PENDING_PATH, rest.pending)
        app.router.add_route("OPTIONS", REST_PATH, rest.preflight)
        app.router.add_route("OPTIONS", REST_PENDING_PATH, rest.preflight)
    return app


_REST_ERRORS = {
    413: "the body is too large (over the configured limit in bytes; text that is not ASCII "
    "takes several bytes a character when escaped): send a shorter message",
}
"""What a REST client is told for a refusal of aiohttp's own (attack 13: a bare "HTTP 413")."""


_TOLD_HEADERS = (hdrs.RETRY_AFTER, hdrs.SEC_WEBSOCKET_VERSION, hdrs.ALLOW)
"""What a refusal says a client can do next, kept on the page that replaces it (the
WebSocket's "426: speak version 13" lost its version, and "every socket is taken" its
"Retry-After: 30")."""


def _error_pages(pages: Pages) -> Middleware:
    """Errors become short, localised, neutral pages (JSON for the REST channel); an
    unexpected error is logged by its type only."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        message = None
        garbled = False
        told: dict[str, str] = {}
        try:
            return await handler(request)
        except web.HTTPException as error:
            if error.status < 400:
                raise
            status = error.status
            told = {name: error.headers[name] for name in _TOLD_HEADERS if name in error.headers}
        except asyncio.CancelledError:
            raise
        except RequestPayloadError:
            # A body that is not what its Content-Encoding says ("gzip", sent plain).
            pages.chat.refused.add("request refused", "body")
            status, garbled = 400, True
        except ConnectionError:
            # The client went away while its answer was written (a reset socket): nothing
            # of the service's failed, and a script must not write ERROR lines at will.
            log_event("request abandoned", reason="client", connector="webchat")
            status, garbled = 400, True
        except (StoreUnavailable, SessionBusy, VersionConflict) as error:
            # Redis restarting, a disk full, a turn of the same conversation at another
            # process sharing an SQLite file: nothing was changed, the person can retry.
            log_event("store unavailable", error=type(error).__name__)
            metrics = pages.chat.runtime.metrics
            if metrics is not None:
                metrics.store_unavailable.inc()
            status = 503
            message = "error"
        except Exception as error:
            log_event("request failed", level=logging.ERROR, error=type(error).__name__)
            status = 500
        if request.path.startswith("/webhooks/"):
            texts = pages.chat.texts
            said = texts.text(message, texts.default_locale()) if message else None
            answer = (
                [{"text": said}] if said else {"error": _REST_ERRORS.get(status, f"HTTP {status}")}
            )
            response = web.json_response(answer, status=status)
        else:
            response = pages.notice_page(
                request, message or _ERROR_TEXTS.get(status, "error"), status
            )
        if status == 503:
            response.headers["Retry-After"] = "1"
        response.headers.update(told)
        if garbled:
            response.force_close()  # aiohttp drops what follows the body: say so
        return response

    return middleware


async def _healthz(_request: web.Request) -> web.Response:
    """The process runs (for a supervisor's liveness check)."""
    return web.Response(text="ok\n")


def _readyz(runtime: Runtime) -> Handler:
    """Turns can be handled: the session store answers (for a load balancer)."""

    async def ready(_request: web.Request) -> web.Response:
        if await runtime.ready():
            return web.Response(text="ready\n")
        return web.Response(text="not ready\n", status=503)

    return ready


def _close_sockets(chat: WebChat) -> Callable[[web.Application], Awaitable[None]]:
    """On shutdown, close every live socket with "service restart" (1012): the page's script
    reconnects, reaching another instance, and the conversation carries on there."""

    async def close(_app: web.Application) -> None:
        for session in list(chat.book):
            for listener in list(session.listeners or ()):
                if isinstance(listener, LiveSocket) and not listener.ws.closed:
                    await listener.ws.close(code=CLOSE_RESTARTING, message=b"reconnect")

    return close


def _restore_endings(chat: WebChat) -> Callable[[web.Application], Awaitable[None]]:
    """Finish what a previous run of this instance left waiting ("erase" while Redis hung)."""

    async def restore(_app: web.Application) -> None:
        chat.endings.restore()

    return restore


def _drain_endings(chat: WebChat) -> Callable[[web.Application], Awaitable[None]]:
    """Try the endings that wait a few seconds more before the instance stops."""

    async def drain(_app: web.Application) -> None:
        await chat.endings.drain()

    return drain


def _stop_following(chat: WebChat) -> Callable[[web.Application], Awaitable[None]]:
    """Stop listening to handoff feeds: what comes later stays on the relay, and the instance
    that has the person's page next reads it from there."""

    async def stop(_app: web.Application) -> None:
        followers = [s.follower for s in chat.book if s.follower is not None]
        for session in chat.book:
            session.stop_following()
        await asyncio.gather(*followers, return_exceptions=True)

    return stop


def _expiry(chat: WebChat) -> Callable[[web.Application], AsyncIterator[None]]:
    async def run(_app: web.Application) -> AsyncIterator[None]:
        async def expire_forever() -> None:
            while True:
                await asyncio.sleep(EXPIRY_INTERVAL_SECONDS)
                expired = await chat.expire_idle()
                if expired:
                    log_event("sessions expired", count=expired, connector="webchat")

        task = asyncio.create_task(expire_forever())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return run
