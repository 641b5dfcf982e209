"""Identifying details that have a shape of their own, in any language: e-mail addresses,
web addresses, phone numbers, user handles, IP addresses and national identity numbers.

These are patterns of characters, not vocabulary, so they are code. Details that are words
("my name is ...", "I live at 12 ... Street") are vocabulary: clinicians write them in the
`identifying_info` phrases of each locale's rules, using ``{words}`` for the detail.
"""

from __future__ import annotations

import re

from redirection_bot.language.lookalikes import unmask

# Every repetition that could run over a long stretch of letters is bounded (an address's
# local part is at most 64 characters, a domain's label 63), and a pattern that needs a
# character is only tried where the text has it: unbounded, a message of 20,000 letters took
# the e-mail pattern 2.4 s and one of "a-a-a-..." the web one 13.6 s, trying every start of
# the text in one call that holds the interpreter (no other conversation is answered
# meanwhile, screening thread or not).
_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}", re.UNICODE)
_LOCAL_PART = re.compile(r"[\w.+-]{1,1000}\Z")
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # web addresses: with a scheme or www., or a bare domain followed by a path
    ("", re.compile(r"(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)),
    ("/", re.compile(r"\b[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}\.[a-z]{2,6}/[^\s<>\"]+", re.I)),
    # handles: @name, u/name (reddit), name#1234 (discord)
    ("@", re.compile(r"(?<![\w@.])@[A-Za-z0-9_][A-Za-z0-9_.]{1,29}")),
    ("/", re.compile(r"(?<![\w/])u/[A-Za-z0-9_-]{3,20}")),
    ("#", re.compile(r"\b\w{2,32}#\d{4}\b")),
    # IPv4 addresses
    (".", re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")),
    # Finnish personal identity code (henkilötunnus), Spanish DNI/NIE, Mexican CURP
    ("", re.compile(r"\b\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]\b", re.IGNORECASE)),
    ("", re.compile(r"\b[XYZ]?\d{7,8}[A-Z]\b", re.IGNORECASE)),
    ("", re.compile(r"\b[A-Z]{4}\d{6}[HM][A-Z]{5}[A-Z0-9]\d\b", re.IGNORECASE)),
    # UK postcodes
    ("", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b")),
)
"""Each pattern with a character it cannot match without ("" for none)."""
# Phone numbers: seven to fifteen digits, optionally grouped by spaces, dots, dashes or
# brackets, optionally with + or 00 in front. Dates are not phone numbers.
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d(?:[ \t().-]{0,2}\d){6,14}(?!\w)")
_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\Z")


def find_identifiers(text: str) -> list[tuple[int, int]]:
    """Character spans of identifying details with a shape of their own, in text order;
    look-alike letters are read as the letters they imitate ("protonma˛ǀ.com")."""
    text = unmask(text)  # same length: every span still points into the text as typed
    spans = [_whole_address(text, match.span()) for match in _EMAIL.finditer(text)]
    for needle, pattern in _PATTERNS:
        if needle in text:
            spans.extend(match.span() for match in pattern.finditer(text))
    for match in _PHONE.finditer(text):
        if not _DATE.match(match.group().strip()):
            spans.append(match.span())
    return merge_spans(spans)


def _whole_address(text: str, span: tuple[int, int]) -> tuple[int, int]:
    """An e-mail address's span, with all of a local part longer than 64 characters (the
    pattern finds its last 64) hidden too."""
    start, end = span
    before = _LOCAL_PART.search(text, max(0, start - 1000), start) if start else None
    return (before.start(), end) if before is not None else span


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching spans joined, in order."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


HIDDEN_MARK = "[…]"
"""What stands in for a hidden detail in anything stored or shown to an operator."""


def hide(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with every span replaced by ``HIDDEN_MARK``."""
    parts: list[str] = []
    position = 0
    for start, end in merge_spans(spans):
        parts.append(text[position:start])
        parts.append(HIDDEN_MARK)
        position = end
    parts.append(text[position:])
    return "".join(parts)
