"""Log events cannot carry content: the log helper refuses it by construction."""

from __future__ import annotations

import logging

import pytest

from redirection_bot.operations.logs import (
    OncePer,
    Tally,
    UnsafeLogField,
    log_event,
    session_tag,
)


def test_safe_fields_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    log_event("turn handled", session=session_tag("abc"), duration_ms=1.5, flow="welcome")
    assert "turn handled session=" in caplog.text and "flow=welcome" in caplog.text


@pytest.mark.parametrize(
    "fields",
    [
        {"text": "hello"},
        {"flow": "I want to talk about my life"},
        {"host": "<script>"},
        {"ip": "10.0.0.1"},
    ],
)
def test_content_and_unknown_fields_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(UnsafeLogField):
        log_event("turn handled", **fields)


def test_session_tags_hide_the_id() -> None:
    # An id with letters a hash never shows ("abc" turned up inside a hex tag now and then).
    assert "s-xyz" not in session_tag("s-xyz") and "xyz" not in session_tag("s-xyz")
    assert session_tag("s-xyz") == session_tag("s-xyz") != session_tag("s-xyw")


def test_a_message_repeating_in_a_tight_loop_is_logged_once_every_few_seconds() -> None:
    now = [0.0]
    once = OncePer(10.0, clock=lambda: now[0])

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("asyncio", logging.ERROR, "x", 1, message, None, None)

    passed = []
    for step in range(3000):  # 30 s of a failing accept, every 10 ms
        now[0] = step / 100
        passed.append(once.filter(record("socket.accept() out of system resource")))
    assert sum(passed) == 3
    assert once.filter(record("something else"))


def test_a_repeated_event_is_one_line_a_minute_with_its_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Attack 14: each refused message wrote a line with its session's tag; one client wrote
    2.2 GB of log an hour."""
    caplog.set_level(logging.INFO, logger="redirection_bot")
    now = [0.0]
    refusals = Tally("messages refused", clock=lambda: now[0], reason="rate")
    for _ in range(10_000):
        refusals.add()
    now[0] = 61.0
    refusals.add()
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "messages refused count=1 reason=rate",
        "messages refused count=10000 reason=rate",
    ]
