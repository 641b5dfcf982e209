"""WebSocket frames a client sent without a mask end the connection (RFC 6455, 5.1: "a server
MUST close the connection upon receiving a frame that is not masked").

aiohttp's reader reads masked and unmasked frames alike (the forty-first and forty-second
attacks: a script's unmasked text frame was answered as usual). Every browser masks; the mask
keeps a page's script from writing bytes a proxy between it and this server would read as
another request. ``MaskedFramesOnly`` stands between the connection and aiohttp's reader: it
reads each frame's header (two to fourteen bytes), skips its payload, and hands every byte on
unchanged; a frame without a mask ends the reading with a protocol error (close code 1002),
the way aiohttp's reader ends it for a frame it cannot read. ``MaskedOnlyResponse`` is
aiohttp's ``WebSocketResponse`` with it in place, from the first byte after the handshake.

It also counts every frame, pings and continuations included, which aiohttp answers or joins
before the socket's own loop sees a message: past ``frames_per_minute`` (with bursts as large)
the reading ends with a policy violation (1008), as the loop ends it for too many messages
(the forty-seventh attack: two sockets sent 22 million empty frames in 15 s, never closed,
and every visitor's turn took 900 ms).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSCloseCode, web
from aiohttp.http_websocket import WebSocketError

from .sessions import TokenBucket

_MASKED = 0x80
_LENGTH = 0x7F
_MASK_BYTES = 4
_EXTENDED_LENGTH = {126: 2, 127: 8}
"""The seven-bit length that says the length follows, and in how many bytes."""

NOT_MASKED = "a frame from the client was not masked"
TOO_MANY = "too many frames from the client"


class MaskedFramesOnly:
    """A WebSocket payload parser (``feed_data``, ``feed_eof``) that checks each frame's mask
    bit and leaves the reading to ``reader``; ``queue`` is where the reader's messages go,
    and where a protocol error is put."""

    __slots__ = (
        "_bucket",
        "_clock",
        "_flooded",
        "_header",
        "_per_minute",
        "_queue",
        "_reader",
        "_refused",
        "_skip",
    )

    def __init__(
        self,
        reader: Any,
        queue: Any,
        frames_per_minute: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = reader
        self._queue = queue
        self._header = bytearray()
        self._skip = 0
        self._refused = False
        self._flooded = False
        self._per_minute = frames_per_minute
        self._clock = clock
        self._bucket = TokenBucket(frames_per_minute or 0, clock())

    def feed_data(self, data: bytes | bytearray | memoryview) -> tuple[bool, bytes]:
        if self._refused:
            return True, b""
        if self._all_masked(data):
            result: tuple[bool, bytes] = self._reader.feed_data(data)
            return result
        self._refused = True
        if self._flooded:
            error = WebSocketError(WSCloseCode.POLICY_VIOLATION, TOO_MANY)
        else:
            error = WebSocketError(WSCloseCode.PROTOCOL_ERROR, NOT_MASKED)
        self._queue.set_exception(error)
        return True, b""

    def _one_more(self) -> bool:
        """Count a frame; False past the allowance (``TokenBucket``: bursts up to a minute's)."""
        if self._per_minute is None or self._bucket.take(self._per_minute, self._clock()):
            return True
        self._flooded = True
        return False

    def feed_eof(self) -> None:
        self._reader.feed_eof()

    def _all_masked(self, data: bytes | bytearray | memoryview) -> bool:
        """Follow ``data``'s frames; False at the first header without a mask."""
        header = self._header
        position, end = 0, len(data)
        while position < end:
            if self._skip:
                step = min(self._skip, end - position)
                self._skip -= step
                position += step
                continue
            if len(header) < 2:
                take = min(2 - len(header), end - position)
                header += data[position : position + take]
                position += take
                if len(header) < 2:
                    break
                if not header[1] & _MASKED:
                    return False
            extended = _EXTENDED_LENGTH.get(header[1] & _LENGTH, 0)
            whole = 2 + extended + _MASK_BYTES
            take = min(whole - len(header), end - position)
            header += data[position : position + take]
            position += take
            if len(header) < whole:
                break
            length = header[1] & _LENGTH
            if extended:
                length = int.from_bytes(header[2 : 2 + extended], "big")
            self._skip = length
            header.clear()
            if not self._one_more():
                return False
        return True


class MaskedOnlyResponse(web.WebSocketResponse):
    """aiohttp's ``WebSocketResponse``, its frames read through ``MaskedFramesOnly``.

    Put in place right after aiohttp installs its reader (``_post_start``), with the bytes
    that came with the handshake (``_message_tail``) checked too: a script may send its first
    frame in the same packet as its request."""

    def __init__(self, *, frames_per_minute: int | None = None, **options: Any) -> None:
        super().__init__(**options)
        self._frames_per_minute = frames_per_minute

    def _post_start(self, request: web.BaseRequest, protocol: str | None, writer: Any) -> None:
        handler: Any = request.protocol
        early, handler._message_tail = handler._message_tail, b""
        super()._post_start(request, protocol, writer)
        guard = MaskedFramesOnly(handler._payload_parser, self._reader, self._frames_per_minute)
        handler._payload_parser = guard
        if early and guard.feed_data(early)[0]:
            handler.close()

    def _reset_heartbeat(self) -> None:
        # A socket closing or closed keeps no heartbeat. aiohttp schedules one for data read
        # after the close (a client's close frame), and the timer holds the closed response,
        # about 5 KB, for 30 to 45 seconds: at 20,000 short conversations a minute, some
        # 75 MB held for nothing (the forty-sixth attack: "memory does not come back down").
        if self._closed or self._closing:
            return
        super()._reset_heartbeat()
