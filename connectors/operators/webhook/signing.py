"""Signing webhook requests both ways: HMAC-SHA256 over the timestamp and the exact body.

    X-Redirection-Timestamp: 1764000000
    X-Redirection-Signature: v1=<hex of HMAC-SHA256(secret, "1764000000." + body)>

The timestamp is whole seconds since the epoch. A receiver refuses a request whose
timestamp is further than the tolerance from its own clock (a replay of an old request)
or whose signature does not match (compared in constant time); each request also carries
an ``id`` that the bot accepts once, so a replay inside the tolerance is refused too.
"""

from __future__ import annotations

import hashlib
import hmac
import re

TIMESTAMP_HEADER = "X-Redirection-Timestamp"
SIGNATURE_HEADER = "X-Redirection-Signature"
VERSION = "v1"
_TIMESTAMP = re.compile(r"[0-9]{1,15}\Z")
"""Whole seconds in ASCII digits (``str.isdigit`` also takes ``²`` and other scripts' digits,
which ``int`` then refuses or reads as another text than the one signed)."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{VERSION}={mac.hexdigest()}"


def signed_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        "Content-Type": "application/json",
    }


def verify(
    secret: str,
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    now: float,
    tolerance_seconds: float,
) -> str | None:
    """Why the request must be refused, or None if it is good: ``bad_signature`` first (a
    header missing or malformed, or a signature that does not match), then ``stale``."""
    if not timestamp_header or not signature_header or not _TIMESTAMP.match(timestamp_header):
        return "bad_signature"
    timestamp = int(timestamp_header)
    expected = signature(secret, timestamp, body)
    # surrogateescape: a header's bytes that are not UTF-8 come to us as lone surrogates
    given = signature_header.strip().encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(expected.encode(), given):
        return "bad_signature"
    # the time only once the signature is good: a forger learns nothing about the clock
    if abs(now - timestamp) > tolerance_seconds:
        return "stale"
    return None
