"""Text as the program reads it: the one cleaning of what people type, and the folding used
to match it ("Stop!", "stop" and "STÖP " are read alike)."""

from __future__ import annotations

import re
import unicodedata

from redirection_bot.language.invisible import invisible_characters
from redirection_bot.language.lookalikes import unmask

_APOSTROPHES = re.compile(r"['’‘`´]")
_NOT_WORD = re.compile(r"[^\w]+")
_BLANKS = str.maketrans(dict.fromkeys("\u115f\u1160\u3164\uffa0", " "))
"""The Hangul fillers: default-ignorable, yet drawn as a blank as wide as a letter, so that
"i\u3164want\u3164to\u3164die" looks like words with spaces. They are read as the spaces
they look like (removed, the words ran together and went unread: an outside tester's
finding)."""
_LINE_BREAKS = re.compile("\r\n|[\r\v\f\x1c-\x1e\x85\u2028\u2029]")
"""What Python's ``str.splitlines`` and Unicode take for the end of a line: read as a new line.
Removed as control characters, they joined the words on either side ("to\\fkill" was
"tokill", unread: an outside tester's finding)."""
_SURROGATE = re.compile(r"[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def has_broken_characters(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate: half a character, as JavaScript's ``slice()``
    leaves of an emoji, or bytes that were not UTF-8 read with ``surrogateescape``."""
    return _SURROGATE.search(text) is not None


def clean_user_text(text: str) -> str:
    """The person's words as every part of the program sees them: NFC-normalised, without
    invisible characters (``invisible.invisible_characters``: zero-width characters, the soft
    hyphen, word joiners, direction controls, tags, other format and control characters but the
    new line and the tab, noncharacters; the Hangul fillers, which look like spaces, read as
    spaces: ``_BLANKS``; line and paragraph separators read as new lines: ``_LINE_BREAKS``),
    lone surrogates replaced by U+FFFD; the rest is unchanged.

    Applied once, where a message comes in (``ingress.admit``), so that screening, the slot,
    the echo, the plan, the transcript and the operator all get the same text, and so that
    "k\u200bill" is screened as "kill" and no channel can be tricked by terminal escapes or
    by text that reverses itself on screen.
    """
    if has_broken_characters(text):
        text = _SURROGATE.sub(REPLACEMENT, text)
    if text.isascii() and text.isprintable():
        return text
    # NFC after the removal: an invisible character between a letter and its accent kept
    # them apart.
    text = _LINE_BREAKS.sub("\n", text.translate(_BLANKS))
    return unicodedata.normalize("NFC", invisible_characters().sub("", text))


MAX_TYPED_DIGITS = 9
"""A typed number longer than this is no answer anyone means (a choice's number, a value on a
scale), and is not read as one: ``int`` refuses strings of over 4,300 digits, and a message
of 20,000 digits must get a polite answer, not an error."""


def typed_index(folded: str) -> int | None:
    """The choice a typed number picks, counted from 0 ("2" is 1), or None when ``folded``
    is not a number of at most ``MAX_TYPED_DIGITS`` digits."""
    if folded.isdigit() and len(folded) <= MAX_TYPED_DIGITS:
        return int(folded) - 1
    return None


def fold(text: str) -> str:
    """Case-fold, read look-alike letters as Latin, drop accents, apostrophes and punctuation,
    collapse spaces.

    ``"I'd like to STÓP!"`` becomes ``"id like to stop"``; ``"ѕtop"`` (Cyrillic "ѕ") ``"stop"``.
    """
    decomposed = unicodedata.normalize("NFKD", unmask(text).casefold())
    without_marks = (
        decomposed  # no accent to drop: most typed answers
        if decomposed.isascii()
        else "".join(char for char in decomposed if not unicodedata.combining(char))
    )
    without_apostrophes = _APOSTROPHES.sub("", without_marks)
    return _NOT_WORD.sub(" ", without_apostrophes).replace("_", " ").strip()
