"""Normalising what people type, so that "Stop!", "stop" and "STÖP " are read alike."""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = re.compile(r"['’‘`´]")
_NOT_WORD = re.compile(r"[^\w]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def fold(text: str) -> str:
    """Case-fold, drop accents, apostrophes and punctuation, collapse spaces.

    ``"I'd like to STÓP!"`` becomes ``"id like to stop"``.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_marks = "".join(char for char in decomposed if not unicodedata.combining(char))
    without_apostrophes = _APOSTROPHES.sub("", without_marks)
    return _NOT_WORD.sub(" ", without_apostrophes).replace("_", " ").strip()


def clean_user_text(text: str) -> str:
    """The person's words with control and direction-override characters removed.

    Applied to everything a person typed before it is kept or shown anywhere, so that no
    channel can be tricked by terminal escapes or by text that reverses itself on screen.
    Newlines and tabs are kept; the rest of the text is unchanged.
    """
    return _CONTROL.sub("", unicodedata.normalize("NFC", text))
