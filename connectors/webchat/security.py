"""Headers every response carries, the Origin check, and logs without addresses.

- A strict Content-Security-Policy: everything from this origin, no inline script, no
  framing, forms only to this site (and to the exit page's site, if it is elsewhere).
- ``Referrer-Policy: no-referrer`` so that no other site learns where a person came from;
  ``nosniff``; no ``Server`` version (``operations.listening.runner``, for every listener);
  ``Cache-Control: no-store`` on every page, so that a conversation is not kept on disk or
  brought back by the Back button.
- aiohttp's access log is off, and its error logs are stripped of their arguments (which
  carry the client's address) and of tracebacks (which can carry what was sent).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import hdrs, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

NO_STORE = "no-store"
AIOHTTP_LOGGERS = (
    "aiohttp.access",
    "aiohttp.server",
    "aiohttp.web",
    "aiohttp.websocket",
    "aiohttp.internal",
)


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute URL, or None for a path on this site."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}".lower()
    return None


def content_security_policy(exit_url: str, framed_here: bool = False) -> str:
    """The policy of every response; ``framed_here``: of one that this site's own pages may
    hold in a frame (``framed_here_headers``)."""
    form_action = "'self'"
    exit_origin = origin_of(exit_url)
    if exit_origin is not None:
        # Chromium applies form-action to the redirect after "leave now" too.
        form_action += " " + exit_origin
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'self'" if framed_here else "frame-ancestors 'none'",
            f"form-action {form_action}",
        )
    )


def security_headers(exit_url: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(exit_url),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    }


def framed_here_headers(exit_url: str) -> dict[str, str]:
    """What a response that this site's own pages hold in a frame sets in place of the
    refusal of every frame (the page without JavaScript's frame while a person is awaited);
    ``add_headers`` leaves them."""
    return {
        "Content-Security-Policy": content_security_policy(exit_url, framed_here=True),
        "X-Frame-Options": "SAMEORIGIN",
    }


def add_headers(
    headers: dict[str, str],
) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """An ``on_response_prepare`` handler that adds ``headers`` to every response."""

    async def prepare(_request: web.Request, response: web.StreamResponse) -> None:
        for name, value in headers.items():
            response.headers.setdefault(name, value)  # a handler's own (a frame's) kept
        response.headers.setdefault(hdrs.CACHE_CONTROL, NO_STORE)

    return prepare


def origin_allowed(request: web.Request, allowed: tuple[str, ...]) -> bool:
    """A browser's request comes from this site (or an allowed one). Requests without an
    ``Origin`` header come from programs, not from pages on other sites, and are allowed,
    unless they say they were sent across sites (``Sec-Fetch-Site: cross-site``). Two
    ``Origin`` headers are refused: no browser sends them, and a proxy may read the other."""
    origins = request.headers.getall(hdrs.ORIGIN, [])
    if len(origins) > 1:
        return False
    if not origins:
        return request.headers.get("Sec-Fetch-Site", "").strip().lower() != "cross-site"
    origin = origins[0].strip().lower()
    if origin in {o.rstrip("/").lower() for o in allowed}:
        return True
    host = request.headers.get(hdrs.HOST, "").lower()
    parts = urlsplit(origin)
    return bool(host) and parts.scheme in ("http", "https") and parts.netloc == host


class WithoutAddresses(logging.Filter):
    """Keeps aiohttp's own log lines free of addresses and content: access lines are
    dropped; other lines keep their fixed message and the exception's type only. A request
    the client garbled (a body its ``Content-Encoding`` does not fit, a broken header) is
    the client's doing, not an error of the service's: logged at INFO, so that a script
    cannot write ERROR lines at will (the twelfth attack; a body its gzip label does not fit,
    read by a form's handler, the forty-first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "aiohttp.access":
            return False
        error = record.exc_info[1] if record.exc_info else None
        garbled = isinstance(error, HttpProcessingError | RequestPayloadError)
        if garbled and record.levelno > logging.INFO:
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
        message = str(record.msg).split("%", 1)[0].split("{", 1)[0].strip()
        if error is not None:
            message += f" ({type(error).__name__})"
        record.msg, record.args = message, ()
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


_FILTER = WithoutAddresses()


def quiet_aiohttp_logs() -> None:
    """Install the filter on aiohttp's loggers (once per process)."""
    for name in AIOHTTP_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
