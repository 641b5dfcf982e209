"""``MaskedFramesOnly`` follows frames of every length, however the bytes are cut, and
refuses the first one without a mask."""

from __future__ import annotations

import os
from typing import Any

import pytest
from aiohttp.http_websocket import WebSocketError

from redirection_bot_connectors.webchat.masked_frames import NOT_MASKED, MaskedFramesOnly


class Recorder:
    """Stands for aiohttp's reader and its queue: what was handed on, and any error put."""

    def __init__(self) -> None:
        self.read = b""
        self.error: BaseException | None = None

    def feed_data(self, data: Any) -> tuple[bool, bytes]:
        self.read += bytes(data)
        return False, b""

    def set_exception(self, error: BaseException) -> None:
        self.error = error


def frame(length: int, *, masked: bool = True) -> bytes:
    if length < 126:
        head = bytes([0x82, length | (0x80 if masked else 0)])
    elif length < 65536:
        head = bytes([0x82, 126 | (0x80 if masked else 0)]) + length.to_bytes(2, "big")
    else:
        head = bytes([0x82, 127 | (0x80 if masked else 0)]) + length.to_bytes(8, "big")
    return head + (os.urandom(4) if masked else b"") + os.urandom(length)


@pytest.mark.parametrize("cut", [1, 3, 7, 1000, 1 << 20])
def test_masked_frames_of_every_length_pass_unchanged_however_cut(cut: int) -> None:
    stream = b"".join(frame(length) for length in (0, 5, 125, 126, 300, 65535, 65536, 70000))
    recorder = Recorder()
    guard = MaskedFramesOnly(recorder, recorder)
    for start in range(0, len(stream), cut):
        assert guard.feed_data(stream[start : start + cut]) == (False, b"")
    assert recorder.read == stream and recorder.error is None


@pytest.mark.parametrize("cut", [1, 2, 9, 1 << 20])
def test_the_first_unmasked_frame_ends_the_reading_with_a_protocol_error(cut: int) -> None:
    stream = frame(10) + frame(70000) + frame(4, masked=False) + frame(10)
    recorder = Recorder()
    guard = MaskedFramesOnly(recorder, recorder)
    ended = [guard.feed_data(stream[s : s + cut])[0] for s in range(0, len(stream), cut)]
    assert True in ended and all(ended[ended.index(True) :])
    assert isinstance(recorder.error, WebSocketError) and recorder.error.code == 1002
    assert str(recorder.error) == NOT_MASKED
    # nothing of it read but, cut byte by byte, its first byte (which says no more than "text")
    assert len(recorder.read) <= len(frame(10)) + len(frame(70000)) + 1
