"""aiohttp's import for a starting ``serve``, with the system's certificates read beside it.

Importing aiohttp makes its two default TLS contexts for outgoing connections, and each reads
the system's certificates: OpenSSL parsing some 140 of them twice, 60 to 110 ms of a start on
this project's machines, none of which the web chat needs to answer its first page. Here
aiohttp is imported with those two readings put aside, and they run on a worker thread
(OpenSSL reads without holding Python's lock) while the start goes on reading the program.
:func:`wait_for_certificates` waits for them: ``serve`` calls it before anything runs that
could connect out (a Matrix homeserver, an operator's webhook), so every context is whole
before it is used. The contexts are aiohttp's own objects, read as aiohttp would have read them,
but for the one that verifies nothing (``CERT_NONE``, for ``ssl=False``): it never consults the
certificates, and leaving them unread keeps about 0.8 MB out of every process.
"""

from __future__ import annotations

import importlib
import ssl
import sys
import threading
from collections.abc import Callable

_reading: threading.Thread | None = None
_failure: list[BaseException] = []


def import_aiohttp() -> None:
    """Import ``aiohttp.web``, its certificates read on a worker thread (nothing to do when
    aiohttp is imported already, as it is in a test run)."""
    global _reading  # noqa: PLW0603 - one start per process
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
    if contexts:
        _reading = threading.Thread(
            target=_read_certificates,
            args=(read_now, contexts),
            name="certificates",
            daemon=True,
        )
        _reading.start()


def _read_certificates(
    read_now: Callable[[ssl.SSLContext], None], contexts: list[ssl.SSLContext]
) -> None:
    try:
        for context in contexts:
            read_now(context)
    except BaseException as error:
        _failure.append(error)


def wait_for_certificates() -> None:
    """Return once the contexts :func:`import_aiohttp` made have their certificates (at once
    when none are being read); a reading that failed fails here, as it would have failed the
    import."""
    global _reading  # noqa: PLW0603
    if _reading is not None:
        _reading.join()
        _reading = None
    if _failure:
        raise _failure.pop()
