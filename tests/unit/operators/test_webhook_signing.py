"""Signing webhook requests: what a platform integrator writes with hmac alone, following the
documented scheme ("v1=" + hex HMAC-SHA256 of "<timestamp>.<body>"), is accepted; anything
tampered with, signed with another secret, too old, from the future or malformed is refused
with the reason the platform is told."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from redirection_bot_connectors.operators.webhook.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
    signed_headers,
    verify,
)

SECRET = "a shared secret of more than thirty-two characters"
BODY = b'{"id":"req-1","type":"duty","operator":{"id":"op-17","name":"Anna"},"on_duty":true}'
NOW = 1_764_000_000
TOLERANCE = 300.0


def integrator_signature(secret: str, timestamp: int, body: bytes) -> str:
    """As docs/operators.md tells an integrator to sign, without the bot's code."""
    message = str(timestamp).encode() + b"." + body
    return "v1=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def refusal(
    timestamp: str | None,
    given: str | None,
    body: bytes = BODY,
    now: float = NOW,
    secret: str = SECRET,
) -> str | None:
    return verify(secret, timestamp, given, body, now, TOLERANCE)


def test_a_request_signed_by_the_platform_is_accepted() -> None:
    assert refusal(str(NOW), integrator_signature(SECRET, NOW, BODY)) is None


def test_the_bot_signs_as_documented() -> None:
    assert signature(SECRET, NOW, BODY) == integrator_signature(SECRET, NOW, BODY)
    headers = signed_headers(SECRET, NOW, BODY)
    assert headers[TIMESTAMP_HEADER] == str(NOW)
    assert headers[SIGNATURE_HEADER] == integrator_signature(SECRET, NOW, BODY)
    assert headers["Content-Type"] == "application/json"
    assert SECRET not in str(headers)


def test_a_tampered_body_is_refused() -> None:
    given = integrator_signature(SECRET, NOW, BODY)
    assert refusal(str(NOW), given, BODY.replace(b"true", b"false")) == "bad_signature"
    assert refusal(str(NOW), given, BODY + b" ") == "bad_signature"


def test_another_secret_is_refused() -> None:
    given = integrator_signature("not the secret the bot was given, though long", NOW, BODY)
    assert refusal(str(NOW), given) == "bad_signature"


def test_the_signature_covers_the_timestamp() -> None:
    """A captured signature cannot be carried over to a fresh timestamp."""
    given = integrator_signature(SECRET, NOW - 400, BODY)
    assert refusal(str(NOW), given) == "bad_signature"


@pytest.mark.parametrize(
    ("sent_at", "refused"),
    [
        (NOW - 300, None),  # at the edge of the window: still accepted
        (NOW + 300, None),
        (NOW - 301, "stale"),  # an old request, replayed later
        (NOW - 86_400, "stale"),
        (NOW + 301, "stale"),  # from a clock far in the future
    ],
)
def test_only_timestamps_within_the_window_are_accepted(sent_at: int, refused: str | None) -> None:
    assert refusal(str(sent_at), integrator_signature(SECRET, sent_at, BODY)) == refused


GOOD = integrator_signature(SECRET, NOW, BODY)


@pytest.mark.parametrize(
    ("timestamp", "given"),
    [
        (None, GOOD),  # no timestamp header
        (str(NOW), None),  # no signature header
        ("", GOOD),
        (str(NOW), ""),
        (f"{NOW}.0", GOOD),  # not whole seconds
        (f"-{NOW}", GOOD),
        ("yesterday", GOOD),
        ("²", GOOD),  # a digit to str.isdigit, but not a number
        ("١٧٦٤٠٠٠٠٠٠", GOOD),  # digits of another script
        ("9" * 5000, GOOD),  # too long to be a number Python reads
        (str(NOW), GOOD.removeprefix("v1=")),  # the version missing
        (str(NOW), "v2=" + GOOD.removeprefix("v1=")),  # a version the bot does not know
        (str(NOW), GOOD.upper()),
        (str(NOW), GOOD[:-1]),  # cut short
        (str(NOW), "v1=" + hashlib.sha256(str(NOW).encode() + b"." + BODY).hexdigest()),
    ],
)
def test_malformed_headers_are_refused_as_bad_signatures(
    timestamp: str | None, given: str | None
) -> None:
    assert refusal(timestamp, given) == "bad_signature"


def test_surrounding_spaces_in_the_signature_are_tolerated() -> None:
    assert refusal(str(NOW), f" {GOOD} ") is None


def test_a_signature_that_is_not_utf8_is_refused_without_an_error() -> None:
    """aiohttp hands over a header's bytes that are not UTF-8 as lone surrogates."""
    broken = b"v1=\xff\xfe".decode("utf-8", "surrogateescape")
    assert refusal(str(NOW), broken) == "bad_signature"
    assert refusal(str(NOW), "v1=é" + GOOD[4:]) == "bad_signature"


def test_a_bad_signature_is_refused_as_such_whatever_the_time() -> None:
    """The signature is checked first, then the time (docs/operators.md "Replays")."""
    forged = integrator_signature("not the secret the bot was given, though long", NOW, BODY)
    assert refusal(str(NOW - 3600), forged) == "bad_signature"
    assert refusal(str(NOW + 3600), forged) == "bad_signature"
    assert refusal(str(NOW - 3600), integrator_signature(SECRET, NOW - 3600, BODY)) == "stale"
