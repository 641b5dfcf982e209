"""aiohttp's import for a starting ``serve``, its certificates read only if something connects out.

Importing aiohttp makes its two default TLS contexts for outgoing connections, and each reads
the system's certificates: OpenSSL parsing some 140 of them twice, 60 to 110 ms of a start on
this project's machines and about 1 MB held for good, none of which the web chat needs: it
never connects out. Here aiohttp is imported with those two readings put aside.
``serve`` then says whether anything it runs may connect out (a Matrix homeserver, an
operator's webhook, an installed plug-in's code): if so, :func:`start_reading_certificates`
reads them on a worker thread (OpenSSL reads without holding Python's lock) while the start
goes on, and :func:`wait_for_certificates` waits for them before anything runs, so every
context is whole before it is used. If not, they are never read: a context left unread trusts
no server, so anything that did connect out through it would fail its TLS handshake ("certificate
verify failed"), never connect unchecked. The contexts are aiohttp's own objects, read as
aiohttp would have read them, but for the one that verifies nothing (``CERT_NONE``, for
``ssl=False``): it never consults the certificates, and is never read.
"""

from __future__ import annotations

import importlib
import ssl
import sys
import threading
from collections.abc import Callable

_reading: threading.Thread | None = None
_unread: list[ssl.SSLContext] = []
_failure: list[BaseException] = []


def import_aiohttp() -> None:
    """Import ``aiohttp.web``, its certificates put aside (nothing to do when aiohttp is
    imported already, as it is in a test run)."""
    if "aiohttp" in sys.modules:
        return
    contexts: list[ssl.SSLContext] = []
    read_now: Callable[[ssl.SSLContext], None] = ssl.SSLContext.set_default_verify_paths

    def put_aside(context: ssl.SSLContext) -> None:
        if context.verify_mode != ssl.CERT_NONE:  # one that verifies nothing needs none
            contexts.append(context)

    setattr(ssl.SSLContext, "set_default_verify_paths", put_aside)  # noqa: B010
    try:
        importlib.import_module("aiohttp.web")
    finally:
        setattr(ssl.SSLContext, "set_default_verify_paths", read_now)  # noqa: B010
    _unread.extend(contexts)


def start_reading_certificates() -> None:
    """Read the certificates put aside, on a worker thread (nothing to do when none were, or
    when they are being read already)."""
    global _reading  # noqa: PLW0603 - one start per process
    if not _unread or _reading is not None:
        return
    contexts = list(_unread)
    _unread.clear()
    _reading = threading.Thread(
        target=_read_certificates,
        args=(ssl.SSLContext.set_default_verify_paths, contexts),  # Python's own, restored
        name="certificates",
        daemon=True,
    )
    _reading.start()


def certificates_unread() -> bool:
    """Whether contexts were put aside and are still not read (nor being read)."""
    return bool(_unread)


def _read_certificates(
    read_now: Callable[[ssl.SSLContext], None], contexts: list[ssl.SSLContext]
) -> None:
    try:
        for context in contexts:
            read_now(context)
    except BaseException as error:
        _failure.append(error)


def wait_for_certificates() -> None:
    """Return once the contexts :func:`import_aiohttp` made have their certificates (read
    now if they were not being read; at once when there are none); a reading that failed fails
    here, as it would have failed the import."""
    global _reading  # noqa: PLW0603
    start_reading_certificates()
    if _reading is not None:
        _reading.join()
        _reading = None
    if _failure:
        raise _failure.pop()
