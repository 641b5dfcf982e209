"""What comes in is cleaned once, at the door: what every later part of the program sees."""

from __future__ import annotations

import subprocess
import sys

import pytest

from redirection_bot.language.invisible import ranges_from_unicode_data, shipped_ranges
from redirection_bot.language.lookalikes import lookalike_table, table_from_unicode_data, unmask
from redirection_bot.language.textnorm import fold
from redirection_bot.turn.ingress import Admitted, Problem, admit

LIMIT = 100


@pytest.mark.parametrize(
    "typed",
    [
        "I want to k\u200bill myself",  # zero-width space
        "I want to k\u00adill myself",  # soft hyphen
        "I want to k\u2060ill myself",  # word joiner
        "I want to ki\u200dll myself",  # zero-width joiner
        "I want to kill\u202e myself",  # right-to-left override
        "I want to kill myself\U000e0041",  # a tag character
        "I want to \ufff9kill\ufffb myself",  # interlinear annotation characters
        "\ufeffI want to kill myself",  # a byte order mark
        "I want to kill\x1b[2J myself".replace("[2J", ""),  # an escape
    ],
)
def test_invisible_characters_are_gone_from_what_the_program_sees(typed: str) -> None:
    assert admit(typed, LIMIT) == Admitted("I want to kill myself")


@pytest.mark.parametrize("filler", ["\u3164", "\uffa0", "\u115f", "\u1160"])
def test_the_hangul_fillers_drawn_as_blanks_are_read_as_spaces(filler: str) -> None:
    """An outside tester's finding: used between words, they were removed like zero-width
    characters, and "iwanttodie" went unread."""
    typed = filler.join(["i", "want", "to", "die"])
    assert admit(typed, LIMIT) == Admitted("i want to die")


@pytest.mark.parametrize(
    "separator", ["\r", "\r\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
)
def test_line_and_paragraph_separators_are_read_as_new_lines(separator: str) -> None:
    """An outside tester's finding: removed as control characters, they joined the words on
    either side, and "to\\fkill" went unread."""
    assert admit(f"i want to{separator}kill myself", LIMIT) == Admitted("i want to\nkill myself")


def test_accents_typed_in_two_parts_are_one_letter() -> None:
    decomposed = "me quiero mori\u0301r"  # "í" as "i" and a combining acute accent
    assert admit(decomposed, LIMIT).text == "me quiero morír"


def test_newlines_tabs_and_emoji_are_kept() -> None:
    assert admit("line one\nline\ttwo 🙂", LIMIT) == Admitted("line one\nline\ttwo 🙂")


def test_half_an_emoji_is_admitted_as_unreadable_with_the_rest_kept() -> None:
    cut = "i cant go on \ud83d"  # what JavaScript's slice() leaves of an emoji
    admitted = admit(cut, LIMIT)
    assert admitted.problem is Problem.UNREADABLE
    assert admitted.text == "i cant go on \ufffd"
    admitted.text.encode("utf-8")  # safe to store, echo and send anywhere


def test_bytes_that_are_not_utf8_are_unreadable() -> None:
    assert admit(b"hola \xff\xfe", LIMIT).problem is Problem.UNREADABLE
    assert admit("hola ñ".encode(), LIMIT) == Admitted("hola ñ")


def test_the_length_limit_counts_what_the_program_sees() -> None:
    padded = "a" * LIMIT + "\u200b" * 50
    assert admit(padded, LIMIT).problem is None
    assert admit("a" * (LIMIT + 1), LIMIT).problem is Problem.TOO_LONG


def test_look_alike_letters_are_read_as_latin_when_matching_only() -> None:
    disguised = "kіll mysеlf"  # Cyrillic і and е
    assert admit(disguised, LIMIT).text == disguised  # kept and shown as typed
    assert unmask(disguised) == "kill myself"
    assert len(unmask(disguised)) == len(disguised)
    assert fold("ЅТОР") == "stop"


def test_look_alikes_never_change_ascii_or_accented_letters() -> None:
    text = "0 1 I l | tyttö niño ÅÄÖ"
    assert unmask(text) == text


def test_the_shipped_lookalike_table_is_the_one_unicode_data_gives() -> None:
    # If this fails after upgrading confusable-homoglyphs: python -m redirection_bot.language.lookalikes
    assert lookalike_table() == table_from_unicode_data()


def test_the_shipped_invisible_characters_are_the_ones_the_regex_module_gives() -> None:
    # If this fails after upgrading regex: python -m redirection_bot.language.invisible
    assert shipped_ranges() == ranges_from_unicode_data()


def test_the_cleaning_does_not_import_the_regex_module() -> None:
    """Its data is read from the table written from it: importing it cost every start 25 ms."""
    code = (
        "import sys; from redirection_bot.language.textnorm import clean_user_text; "
        "assert clean_user_text('k\\u200bill\\u00ad') == 'kill'; "
        "assert 'regex' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
