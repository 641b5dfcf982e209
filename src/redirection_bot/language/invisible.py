"""The characters a person cannot see but a program reads, as one table read at the first use.

The one cleaning of typed text (``textnorm.clean_user_text``) removes every default-ignorable
code point, every format and control character but the new line and the tab, and the
noncharacters: zero-width characters, the soft hyphen, word joiners, direction controls, tag
and interlinear annotation characters, variation selectors. Which code points those are is the
``regex`` module's Unicode data (``\\p{Default_Ignorable_Code_Point}``, ``\\p{Cf}``, ``\\p{Cc}``,
``\\p{Noncharacter_Code_Point}``), written as ranges to ``invisible.txt`` beside this module by
``python -m redirection_bot.language.invisible``; a test checks that the file matches the
installed ``regex``. Reading the ranges and compiling them for ``re`` takes about a millisecond;
importing ``regex`` took about 25 ms and a twentieth of the instructions of loading a program,
at every start.
"""

from __future__ import annotations

import functools
import re

from redirection_bot.language.tables import table_lines, write_table

TABLE_FILE = "invisible.txt"
KEPT = "\n\t"
"""Control characters that are part of what people type, and stay."""
_LAST_CODE_POINT = 0x10FFFF

Ranges = list[tuple[int, int]]


@functools.cache
def invisible_characters() -> re.Pattern[str]:
    """One character of ``invisible.txt``'s ranges."""
    return re.compile(
        "[" + "".join(_class_range(low, high) for low, high in shipped_ranges()) + "]"
    )


def _class_range(low: int, high: int) -> str:
    return f"\\U{low:08x}" if low == high else f"\\U{low:08x}-\\U{high:08x}"


def shipped_ranges() -> Ranges:
    """The ranges in ``invisible.txt``, inclusive, in order."""
    ranges: Ranges = []
    for line in table_lines(TABLE_FILE):
        low, _, high = line.partition("..")
        ranges.append((int(low, 16), int(high or low, 16)))
    return ranges


def ranges_from_unicode_data() -> Ranges:
    """The ranges, computed from the installed ``regex`` module's Unicode data."""
    import regex  # noqa: PLC0415  (only to write or check the table)

    invisible = regex.compile(
        r"[\p{Default_Ignorable_Code_Point}\p{Cf}\p{Cc}\p{Noncharacter_Code_Point}]"
    )
    ranges: Ranges = []
    for point in range(_LAST_CODE_POINT + 1):
        char = chr(point)
        if char in KEPT or invisible.fullmatch(char) is None:
            continue
        if ranges and ranges[-1][1] == point - 1:
            ranges[-1] = (ranges[-1][0], point)
        else:
            ranges.append((point, point))
    return ranges


def write_invisible() -> None:
    """Write ``invisible.txt`` from the installed ``regex``."""
    import regex  # noqa: PLC0415

    write_table(
        TABLE_FILE,
        [
            "Invisible characters: Default_Ignorable_Code_Point, Cf, Cc (but the new line and the",
            f"tab) and Noncharacter_Code_Point, from the regex module {regex.__version__}.",
            "Written by `python -m redirection_bot.language.invisible`; do not edit by hand.",
        ],
        [
            f"{low:04X}" if low == high else f"{low:04X}..{high:04X}"
            for low, high in ranges_from_unicode_data()
        ],
    )


if __name__ == "__main__":
    write_invisible()
