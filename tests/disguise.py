"""Hypothesis strategies that disguise a sentence the ways people and attackers do: invisible
characters anywhere, accents typed in two parts (NFD), letters swapped for look-alikes from
other scripts (Unicode's confusables, UTS #39)."""

from __future__ import annotations

import functools
import sys
import unicodedata
from pathlib import Path

import regex
import yaml
from hypothesis import strategies as st

from redirection_bot.language.lookalikes import lookalike_table
from redirection_bot.safety.phrases import Alt, AnyNumber, Details, Lit, Phrase, Seq
from redirection_bot.safety.screen import Screener
from tests.helpers import REPOSITORY

_INVISIBLE = regex.compile(r"[\p{Default_Ignorable_Code_Point}\p{Cf}]", flags=regex.VERSION1)


@functools.cache
def invisible_characters() -> tuple[str, ...]:
    """Every default-ignorable and format code point (zero-width characters, the soft hyphen,
    word joiners, direction controls, tags, interlinear annotation characters, ...)."""
    found = (chr(point) for point in range(sys.maxunicode + 1) if not 0xD800 <= point <= 0xDFFF)
    return tuple(char for char in found if _INVISIBLE.match(char) and char not in SEEN_AS_SPACE)


SEEN_AS_SPACE = "\u115f\u1160\u3164\uffa0"
"""The Hangul fillers: default-ignorable but drawn as a blank, read as spaces (textnorm)."""


@functools.cache
def lookalikes_of() -> dict[str, tuple[str, ...]]:
    """Each Latin letter -> the characters of other scripts that Unicode lists as looking like
    it (only those that stay themselves under NFC and are not combining marks)."""
    found: dict[str, list[str]] = {}
    for point, letter in lookalike_table().items():
        char = chr(point)
        if unicodedata.normalize("NFC", char) == char and not unicodedata.combining(char):
            found.setdefault(letter, []).append(char)
    return {letter: tuple(sorted(chars)) for letter, chars in found.items()}


@st.composite
def with_invisibles(draw: st.DrawFn, text: str) -> str:
    chars = list(text)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(chars)))
        chars.insert(at, draw(st.sampled_from(invisible_characters())))
    return "".join(chars)


@st.composite
def with_lookalikes(draw: st.DrawFn, text: str) -> str:
    table = lookalikes_of()
    places = [i for i, char in enumerate(text) if char.lower() in table]
    if not places:
        return text
    chars = list(text)
    for at in draw(st.lists(st.sampled_from(places), min_size=1, max_size=4, unique=True)):
        chars[at] = draw(st.sampled_from(table[chars[at].lower()]))
    return "".join(chars)


def disguised(text: str) -> st.SearchStrategy[str]:
    """``text`` disguised in one of the ways, or all of them at once."""
    decomposed = unicodedata.normalize("NFD", text)
    return st.one_of(
        with_invisibles(text),
        st.just(decomposed),
        with_lookalikes(text),
        with_lookalikes(text).flatmap(
            lambda swapped: with_invisibles(unicodedata.normalize("NFD", swapped))
        ),
    )


@functools.cache
def risk_sentences(locale: str) -> tuple[str, ...]:
    """The risk sentences of the labelled sets in tests/safety for ``locale`` (every category
    but ``none``); the frozen test split is left out, as from everything else."""
    paths = [REPOSITORY / "tests" / "safety" / f"{locale}.yaml"]
    paths += sorted((REPOSITORY / "tests" / "safety").glob(f"held_out*/{locale}.yaml"))
    found: list[str] = []
    for path in paths:
        found.extend(_sentences(path))
    return tuple(dict.fromkeys(found))


def _sentences(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for category, lines in data.items():
        if category in ("locale", "none") or not isinstance(lines, list):
            continue
        found.extend(line for line in lines if isinstance(line, str))
    return found


@st.composite
def realised(draw: st.DrawFn, phrase: Phrase) -> str:
    """A sentence a rule phrase matches, with one of its alternatives drawn at each choice."""
    words = _realise(draw, phrase.body)
    for part in phrase.also:
        words += ["and", *_realise(draw, part)]
    return " ".join(words)


def _realise(draw: st.DrawFn, seq: Seq) -> list[str]:
    words: list[str] = []
    for item in seq.items:
        if isinstance(item, Lit):
            words.append(item.form)
        elif isinstance(item, Alt):
            lits = item.words.lits if item.words is not None else ()
            options = [Seq((lit,)) for lit in lits] + list(item.options)
            if item.optional and draw(st.booleans()):
                continue
            words += _realise(draw, draw(st.sampled_from(options)))
        elif isinstance(item, AnyNumber):
            words.append("12")
        elif isinstance(item, Details):
            words.append("anna")
    return words


def rule_phrases(screener: Screener, locale: str) -> tuple[Phrase, ...]:
    """Every phrase and check phrase of every category of ``locale``'s shipped rules."""
    rules = screener.rules(locale)
    assert rules is not None
    return tuple(
        phrase
        for category in rules.categories.values()
        for phrase in (*category.phrases, *category.checks)
    )
