"""Normalising what people type for screening: folded tokens with their places in the text.

The vocabulary is data (``dialogues/safety/<locale>.yaml``); how typing varies is code, here,
applied the same way to the rules and to the messages:

- case folding and accent folding: "SUİCİDE", "suicidé" and "suicide" are alike, and so are
  "tyttö" and "tytto", "niño" and "nino";
- apostrophes dropped: "don't", "dont" and "don’t" are alike;
- repeated letters: "pleeease" and "please", "killll" and "kill" are alike. How far this
  goes is the one choice a locale's rules make (``Letters``): in English and Spanish every run
  of a letter reads as one letter, in the rules too ("kill" is stored as "kil"); in Finnish,
  where a double letter changes the word (tapaa "meets", tappaa "kills"; on, oon), only runs
  of three or more are shortened, to two;
- look-alike letters from other scripts: "kіll" with a Cyrillic "і" is "kill" (``lookalikes``);
- simple leetspeak inside words: "k1ll", "su1c1de", "$elf", "h@te" (0 o, 1 i, 3 e, 4 a,
  5 s, 7 t, @ a, $ s, ! i, | l) — never in a number on its own;
- digits: a number is its own token, also when glued to a word ("15yo" is "15" and "yo");
- hyphens, slashes and other punctuation separate words ("self-harm" is "self harm"; the
  matcher also accepts words run together, "selfharm").

Each token keeps its place in the original text (for redaction) and the clause it is in
(for negation handling: punctuation ends a clause).
"""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from redirection_bot.language.lookalikes import unmask

_APOSTROPHES = "'’‘`´ʼ"
_LEET_INSIDE = "@$!|" + _APOSTROPHES
_WORD = r"[^\W_]"
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
"""Combining marks: part of the word they sit on (folding drops them), so that letters
carrying several each ("zalgo" text) still make one word."""
_TOKEN = re.compile(
    rf"(?:\$(?={_WORD}))?"
    rf"(?:{_WORD}[{_MARKS}]*|(?<={_WORD})[{re.escape(_LEET_INSIDE)}](?={_WORD}))+",
)
_CAMEL = re.compile(r"(?<=[a-zß-öø-ÿ])(?=[A-ZÀ-ÖØ-Þ])|(?<=[A-ZÀ-ÖØ-Þ])(?=[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ])")
"""Where a word written in capitalised parts ("IWantToDie") changes part."""
CAMEL_PARTS = 3
"""A hashtag of at least this many capitalised parts ("#IWantToDie") is read as those words.
Only after "#": a user name in parts ("xXDarkRiderXx") stays one word, so that hiding it
hides all of it; and brand names of two ("#WhatsApp", "#TikTok") stay one word, as the rules
write them."""
_NUMBER_THEN_WORD = re.compile(r"(\d+)(\D.*)\Z", re.DOTALL)
_CLAUSE_END = re.compile(r"[,.!?;\n()\[\]]")
_SENTENCE_END = re.compile(r"[.!?;\n]")
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
    | {"|": "l"}
)
_NO_APOSTROPHES = str.maketrans(dict.fromkeys(_APOSTROPHES))
_LEET_CHARACTER = re.compile(r"[\d@$!|]")
_REPEATS = re.compile(r"(\D)\1+")
_LONG_REPEATS = re.compile(r"(\D)\1{2,}")


class Letters(enum.StrEnum):
    """How runs of one letter are read (``repeated_letters`` in a rules file)."""

    ONE = "one"
    """Every run reads as one letter: "kill", "kil" and "killll" are alike."""
    TWO = "two"
    """Runs of three or more read as two: "tappaaa" is "tappaa", but "tapaa" stays itself."""


@dataclass(frozen=True, slots=True)
class Token:
    """A folded word of a message and where it came from."""

    form: str
    start: int
    end: int
    clause: int
    """Clauses are separated by punctuation; negations only reach within their clause."""
    sentence: int
    is_number: bool = False


MAX_FORM = 100
"""A folded word longer than this is read as pieces of this length, each a token spanning the
whole word. No word of any language comes near it; words run together ("killmyself") stay
far below it; but one "word" of 20,000 ligatures folds to 340,000 letters, whose every
piece the second layer would read (66 MB)."""


def fold_form(raw: str, letters: Letters = Letters.ONE) -> str:
    """One word as the matcher compares it: folded, without apostrophes, leet read, squeezed."""
    folded = raw.casefold()
    if not folded.isascii():  # accents and compatibility forms to drop; ASCII has none
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    folded = folded.translate(_NO_APOSTROPHES)
    if folded.isdigit():
        return folded
    if _LEET_CHARACTER.search(folded):
        folded = folded.translate(_LEET)
    if letters is Letters.TWO:
        return _LONG_REPEATS.sub(r"\1\1", folded)
    return _REPEATS.sub(r"\1", folded)


def tokenise(text: str, letters: Letters = Letters.ONE) -> list[Token]:
    """The folded tokens of ``text``, in order, with their spans in ``text``."""
    tokens: list[Token] = []
    clause = sentence = 0
    position = 0
    text = unmask(text)  # same length: every span still points into the text as typed
    for match in _TOKEN.finditer(text):
        between = text[position : match.start()]
        if _CLAUSE_END.search(between):
            clause += 1
        if _SENTENCE_END.search(between):
            sentence += 1
        position = match.end()
        raw = match.group()
        split = _NUMBER_THEN_WORD.match(raw)
        if split is not None and any(char.isalpha() for char in split.group(2)):
            digits_end = match.start() + len(split.group(1))
            tokens.append(Token(split.group(1), match.start(), digits_end, clause, sentence, True))
            rest = fold_form(split.group(2), letters)
            if rest:
                tokens.append(Token(rest, digits_end, match.end(), clause, sentence))
            continue
        hashtag = match.start() > 0 and text[match.start() - 1] == "#"
        parts = _CAMEL.split(raw) if hashtag and not raw.islower() else ()
        if len(parts) >= CAMEL_PARTS:
            offset = match.start()
            for part in parts:
                tokens += _word(
                    fold_form(part, letters), offset, offset + len(part), clause, sentence
                )
                offset += len(part)
            continue
        tokens += _word(fold_form(raw, letters), match.start(), match.end(), clause, sentence)
    return _spelt_out_joined(tokens, text, letters)


def _word(form: str, start: int, end: int, clause: int, sentence: int) -> list[Token]:
    """One folded word as tokens spanning ``start`` to ``end``: one, unless enormously long
    (``MAX_FORM``)."""
    return [
        Token(
            form[at : at + MAX_FORM],
            start,
            end,
            clause,
            sentence,
            form[at : at + MAX_FORM].isdigit(),
        )
        for at in range(0, len(form), MAX_FORM)
    ]


SPELT_OUT = 4
"""Letters typed one by one ("k i l l", "m.o.r.i.r", "k-u-o-l-l-a") are read as the word they
spell when there are at least this many separated by spaces, or three separated by marks:
chat shorthand of three ("r u a bot", "i c u") stays as it is. The letters of one word are
separated alike; a different separator ("k.i.l.l m.y.s.e.l.f", two spaces) starts the next."""
_SPELT_GAP = re.compile(r"(?:[^\w\n]|_){1,2}")
"""What may separate spelt-out letters: one or two spaces or marks, never a line break."""


def _spelt_out_joined(tokens: list[Token], text: str, letters: Letters) -> list[Token]:
    """``tokens`` with every run of letters typed one by one made one token."""
    if sum(len(token.form) == 1 for token in tokens) < 3:
        return tokens  # nearly every message
    joined: list[Token] = []
    run: list[Token] = []
    gap = ""
    for token in [*tokens, None]:
        if token is not None and _letter(token) and run:
            between = text[run[-1].end : token.start]
            if _SPELT_GAP.fullmatch(between) and (len(run) == 1 or between == gap):
                run.append(token)
                gap = between
                continue
        if len(run) >= SPELT_OUT or (len(run) >= 3 and gap.strip()):
            form = fold_form("".join(letter.form for letter in run), letters)
            joined += _word(form, run[0].start, run[-1].end, run[0].clause, run[0].sentence)
        else:
            joined.extend(run)
        run, gap = ([token], "") if token is not None and _letter(token) else ([], "")
        if token is not None and not run:
            joined.append(token)
    return joined


def _letter(token: Token) -> bool:
    return len(token.form) == 1 and token.form.isalpha()


@functools.lru_cache(maxsize=8192)
def word_forms(word: str, letters: Letters = Letters.ONE) -> tuple[str, ...]:
    """How a word written in a rule reads as tokens (usually one; "15yo" gives two)."""
    return tuple(token.form for token in tokenise(word, letters))


def within_one_edit(typed: str, wanted: str, letters: Letters = Letters.ONE) -> bool:
    """Whether ``typed`` is ``wanted`` with one letter added, dropped, changed or two swapped.

    Used only for rule words of six letters or more, and only when the first two letters
    agree, so that "sucide", "suicdie" and "chidlren" are read, but short words are never
    guessed and "downing" is not "drowning". With ``Letters.TWO`` a doubled letter is never
    taken for a typing mistake ("tapaa" is not "tappaa").
    """
    if typed == wanted:
        return True
    if abs(len(typed) - len(wanted)) > 1 or typed[:2] != wanted[:2] or len(typed) < 5:
        return False
    if len(typed) == len(wanted):
        differences = [i for i, (a, b) in enumerate(zip(typed, wanted, strict=True)) if a != b]
        if len(differences) == 1:
            return True
        first, *rest = differences
        return (
            len(differences) == 2
            and rest[0] == first + 1
            and typed[first] == wanted[first + 1]
            and typed[first + 1] == wanted[first]
        )
    shorter, longer = (typed, wanted) if len(typed) < len(wanted) else (wanted, typed)
    for index, char in enumerate(shorter):
        if char != longer[index]:
            same = shorter[index:] == longer[index + 1 :]
            return same and not (letters is Letters.TWO and _doubled(longer, index))
    return not (letters is Letters.TWO and _doubled(longer, len(shorter)))


def _doubled(word: str, index: int) -> bool:
    """Whether the letter at ``index`` doubles a neighbour (dropping it undoubles a letter)."""
    char = word[index]
    return (index > 0 and word[index - 1] == char) or (
        index + 1 < len(word) and word[index + 1] == char
    )


CACHED_LENGTH = 40
"""Words and features longer than this are never kept in a cache: an entry keeps its text,
and a message may be one word of 20,000 letters (16,384 of them would be gigabytes)."""

_T = TypeVar("_T")


def cached_when_short(maxsize: int) -> Callable[[Callable[[str], _T]], Callable[[str], _T]]:
    """``functools.lru_cache(maxsize)`` for a function of one word or feature, kept only
    when it is at most ``CACHED_LENGTH`` long (computed every time otherwise)."""

    def decorate(function: Callable[[str], _T]) -> Callable[[str], _T]:
        kept = functools.lru_cache(maxsize=maxsize)(function)

        @functools.wraps(function)
        def cached(word: str) -> _T:
            return kept(word) if len(word) <= CACHED_LENGTH else function(word)

        return cached

    return decorate


FUZZY_MIN_LENGTH = 6
"""Rule words at least this long (after folding) tolerate one typing mistake."""
