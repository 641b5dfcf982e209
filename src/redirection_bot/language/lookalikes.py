"""Letters from other scripts that look like Latin ones, read as the Latin letter when matching.

"kіll" with a Cyrillic "і", "sυicide" with a Greek upsilon: screening and the matching of
typed choices must read them as "kill" and "suicide". The look-alikes are Unicode's
(UTS #39, ``confusables.txt``), as shipped by the ``confusable-homoglyphs`` package, reduced
to one table of single characters (``lookalikes.txt`` beside this module, written by
``python -m redirection_bot.language.lookalikes``; a test checks that it matches the package), so that
a text keeps its length and every place in it (redaction hides details by their place in
what the person typed), and so that starting the bot reads 1,300 lines rather than the
package's 900 KB.

A character is read as a Latin letter when Unicode lists it as confusable with that letter
(itself, or its lower-case form: "І" and "і" both read as "i"), or with a Latin small capital
or the letter kra, which are themselves read as their letter ("к" is confusable with "ĸ", read
as "k"). ASCII is never changed: digits stay digits ("0" is not "o" here; leetspeak is the
screening normaliser's business), and so are letters with accents, which folding handles.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import unicodedata
from pathlib import Path

from redirection_bot.language.tables import table_lines, write_table

_SMALL_CAPITAL = "LATIN LETTER SMALL CAPITAL "
_LATIN_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")
_AS_LATIN = {"ĸ": "k"}
_LATIN_1_END = "\u00ff"
_LATIN_1_LOOKALIKE = "\u00d7"
"""The one look-alike below U+0100 (the multiplication sign, read as "x")."""
"""Latin letters that are not small capitals yet read as another letter."""


def _data_file() -> Path:
    spec = importlib.util.find_spec("confusable_homoglyphs")
    # Only the data file is read: importing the package would load its tables for nothing.
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("confusable-homoglyphs is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "confusables.json"


def _as_latin_letter(char: str) -> str | None:
    """The ASCII letter ``char`` is, if it is one, a small capital of one, or kra."""
    if len(char) != 1:
        return None
    lowered = char.lower()
    if lowered in _LATIN_LETTERS:
        return lowered
    if char in _AS_LATIN:
        return _AS_LATIN[char]
    name = unicodedata.name(char, "")
    if name.startswith(_SMALL_CAPITAL) and len(name) == len(_SMALL_CAPITAL) + 1:
        return name[-1].lower()
    return None


TABLE_FILE = "lookalikes.txt"


@functools.cache
def lookalike_table() -> dict[int, str]:
    """``str.translate`` table: each non-ASCII look-alike of a Latin letter -> that letter."""
    table: dict[int, str] = {}
    for line in table_lines(TABLE_FILE):
        point, letter = line.split()
        table[int(point, 16)] = letter
    return table


def table_from_unicode_data() -> dict[int, str]:
    """The table, computed from the ``confusable-homoglyphs`` package's data."""
    with _data_file().open(encoding="utf-8") as data:
        pairs: dict[str, list[dict[str, str]]] = json.load(data)

    def reading(char: str) -> str | None:
        for entry in pairs.get(char, ()):
            letter = _as_latin_letter(entry["c"])
            if letter is not None:
                return letter
        return None

    table: dict[int, str] = {}
    for char in pairs:
        if len(char) != 1 or char.isascii():
            continue
        letter = reading(char.lower()) or reading(char) or _as_latin_letter(char)
        if letter is not None:
            table[ord(char)] = letter
    for char, letter in _AS_LATIN.items():
        table[ord(char)] = letter
    table.update(_enclosed_letters())
    return table


_ENCLOSED_BLOCKS = (range(0x2460, 0x2500), range(0x1F100, 0x1F200))
"""Enclosed Alphanumerics and their Supplement: letters in circles, squares, brackets, and the
regional indicators that make flags."""
_ENCLOSED_LETTER = re.compile(
    r"(?:(?:NEGATIVE )?(?:CIRCLED|SQUARED)|PARENTHESIZED) LATIN (?:CAPITAL|SMALL) LETTER ([A-Z])"
    r"|REGIONAL INDICATOR SYMBOL LETTER ([A-Z])"
)


def _enclosed_letters() -> dict[int, str]:
    """Letters drawn in a circle or a square, in brackets or as regional indicators ("ⓚⓘⓛⓛ",
    "🇩🇮🇪"), read as the letter: Unicode does not list them as confusables, and compatibility
    folding leaves them symbols, so they went unread (an outside tester's finding)."""
    found: dict[int, str] = {}
    for point in (point for block in _ENCLOSED_BLOCKS for point in block):
        named = _ENCLOSED_LETTER.fullmatch(unicodedata.name(chr(point), ""))
        if named is not None:
            found[point] = (named.group(1) or named.group(2)).lower()
    return found


def unmask(text: str) -> str:
    """``text`` with look-alike letters read as the Latin letters they imitate (same length)."""
    if text.isascii() or (max(text) <= _LATIN_1_END and _LATIN_1_LOOKALIKE not in text):
        return text  # most text: no need to build the table (about 20 ms, once) to know
    return text.translate(lookalike_table())


def write_lookalikes() -> None:
    """Write ``lookalikes.txt`` from the installed ``confusable-homoglyphs``."""
    write_table(
        TABLE_FILE,
        [
            "Look-alikes of Latin letters (UTS #39 confusables, from confusable-homoglyphs).",
            "Written by `python -m redirection_bot.language.lookalikes`; do not edit by hand.",
        ],
        [f"{point:04X} {letter}" for point, letter in sorted(table_from_unicode_data().items())],
    )


if __name__ == "__main__":
    write_lookalikes()
