"""The clinicians' phrase syntax for screening rules: parsing (with the column of any mistake)
and matching against the folded tokens of a message.

A phrase is words separated by spaces, matched anywhere in a message, in order::

    kill myself                  the words, one after the other
    (end|take) my [own] life     (a|b): one of these; [a]: optional; both may hold several words
    suicid*  *katu               a word starting with "suicid"; a word ending in "katu"
    want ... die                 up to three other words between (within one sentence)
    {child}                      any entry of the word list `child` of the same file
    {number}                     any number written in digits
    my name is {words}           one to four words that are a personal detail: hidden from
                                 anything stored (only in `identifying_info`)
    ^agent$                      ^ and $: only at the start / end of the message
    alone with {child} & scared  &: each part somewhere in the same message, in any order

Every word is folded as messages are (``normalise``): write plain words in lower case, and
the matcher accepts capitals, missing accents and apostrophes, repeated letters, simple
leetspeak, words run together ("killmyself") and, for words of six letters or more, one
typing mistake ("sucide").
"""

from __future__ import annotations

import bisect
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from redirection_bot.safety.normalise import (
    FUZZY_MIN_LENGTH,
    Letters,
    Token,
    within_one_edit,
    word_forms,
)

MAX_GAP = 3
"""``...`` stands for at most this many words."""
MIN_PIECE = 2
"""In words run together, each piece has at least this many letters ("accounts" is not
"account" + "s")."""
MAX_DETAIL_WORDS = 4
"""``{words}`` stands for one to this many words."""
NUMBER_CLASS = "number"
DETAILS_CLASS = "words"
BUILT_IN_CLASSES = (NUMBER_CLASS, DETAILS_CLASS)

_SYNTAX = re.compile(r"\s+|\.\.\.|\{[^{}\s]*\}|[()\[\]|^$&]|[^\s()\[\]{}|^$&]+(?:\.\.\.)?")


class PhraseSyntaxError(Exception):
    """A phrase that cannot be read; ``offset`` is the character where the problem is."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


# --- the parsed form ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lit:
    """A folded word; ``prefix``: the word starts with it (``form*``); ``suffix``: ends with it."""

    form: str
    prefix: bool = False
    suffix: bool = False
    letters: Letters = Letters.ONE
    fuzzy: bool = field(init=False, compare=False, repr=False)
    """A whole word long enough to take one typing mistake (read at every match: kept)."""

    def __post_init__(self) -> None:
        fuzzy = not (self.prefix or self.suffix) and len(self.form) >= FUZZY_MIN_LENGTH
        object.__setattr__(self, "fuzzy", fuzzy)
        # One string for a word however many phrases, lists and fields hold it (a rule
        # word, never a message's).
        object.__setattr__(self, "form", sys.intern(self.form))


@dataclass(frozen=True, slots=True)
class Seq:
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class Alt:
    options: tuple[Seq, ...]
    optional: bool = False
    words: _Words | None = None
    """Set by ``resolve``: the options that are one plain word, looked up at once; ``options``
    then holds only the others."""


FEW_WORDS = 8
"""Up to this many words, a list is looked up in its tuple rather than a set."""


@dataclass(frozen=True, slots=True)
class _Words:
    """Alternatives that are single words, indexed: a list of 80 words costs one lookup.
    The words themselves are not kept beside their index (``lits`` reads them back from it:
    about 3,900 lists, a third of a megabyte at every start)."""

    exact: frozenset[str] | tuple[str, ...]
    """The plain words, to look one up: ``ordered`` itself where there are few (a set costs
    at least 216 bytes; about 3,000 small lists are compiled at every start)."""
    ordered: tuple[str, ...]
    """The words of ``exact`` in order, to find the words a piece begins (typed in pieces)
    by bisection rather than by a set of every beginning of every word."""
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...]
    letters: Letters
    longest: int
    """The longest plain word."""

    @classmethod
    def of(cls, lits: Sequence[Lit]) -> _Words:
        plain = [lit.form for lit in lits if not (lit.prefix or lit.suffix)]
        ordered = tuple(sorted(set(plain)))
        return cls(
            ordered if len(ordered) <= FEW_WORDS else frozenset(ordered),
            ordered,
            tuple(lit.form for lit in lits if lit.prefix),
            tuple(lit.form for lit in lits if lit.suffix),
            lits[0].letters,
            max((len(form) for form in plain), default=0),
        )

    @property
    def lits(self) -> tuple[Lit, ...]:
        """The words, as written (each once: read while compiling, never while screening)."""
        return (
            *(Lit(form, letters=self.letters) for form in self.ordered),
            *(Lit(form, prefix=True, letters=self.letters) for form in self.prefixes),
            *(Lit(form, suffix=True, letters=self.letters) for form in self.suffixes),
        )

    def _near(self, head: str) -> Iterator[str]:
        """The words that take a typing mistake (``Lit.fuzzy``: whole words long enough) and
        begin with ``head``, which a mistyped word keeps (``within_one_edit``): found in
        ``ordered`` by bisection. A dictionary by those letters cost 0.4 MB over every list, a
        tuple of the long words alone 0.3 MB."""
        at = bisect.bisect_left(self.ordered, head)
        while at < len(self.ordered) and self.ordered[at].startswith(head):
            if len(self.ordered[at]) >= FUZZY_MIN_LENGTH:
                yield self.ordered[at]
            at += 1

    def begins_a_word(self, piece: str) -> bool:
        """Whether ``piece`` is a proper beginning of one of the words."""
        at = bisect.bisect_right(self.ordered, piece)  # after ``piece`` itself, if a word
        return at < len(self.ordered) and self.ordered[at].startswith(piece)

    def positions(self, position: _Position, tokens: Sequence[Token]) -> set[_Position]:
        """Where matching one of the words from ``position`` can leave off (as ``_match_lit``)."""
        index, offset, hidden = position
        found: set[_Position] = set()
        if index >= len(tokens):
            return found
        token = tokens[index]
        rest = token.form[offset:]
        whole = (index + 1, 0, hidden)
        if (
            (rest in self.exact and (offset == 0 or len(rest) >= MIN_PIECE))
            or rest.startswith(self.prefixes)
            or rest.endswith(self.suffixes)
            or (
                offset == 0
                and any(within_one_edit(rest, f, self.letters) for f in self._near(rest[:2]))
            )
        ):
            found.add(whole)
        if token.is_number:
            return found
        pieces = min(len(rest), self.longest + 1)  # no longer piece is a word
        for cut in range(MIN_PIECE, pieces):
            if rest[:cut] in self.exact:
                found.add((index, offset + cut, hidden))
        if offset:
            merged = token.form[offset - 1] + rest
            if merged in self.exact and len(rest) >= MIN_PIECE:
                found.add(whole)
            for cut in range(MIN_PIECE, pieces):
                if merged[: cut + 1] in self.exact:
                    found.add((index, offset + cut, hidden))
        elif self.begins_a_word(rest):
            joined, end = rest, index + 1
            while end < len(tokens) and end - index < 3 and self.begins_a_word(joined):
                joined += tokens[end].form
                end += 1
                if joined in self.exact:
                    found.add((end, 0, hidden))
        return found


@dataclass(frozen=True, slots=True)
class Ref:
    """``{name}``: a word list (or a built-in class), resolved when the rules are compiled."""

    name: str
    offset: int


@dataclass(frozen=True, slots=True)
class Gap:
    """``...``: up to ``MAX_GAP`` words."""


@dataclass(frozen=True, slots=True)
class AnyNumber:
    """``{number}``."""


@dataclass(frozen=True, slots=True)
class Details:
    """``{words}``: one to ``MAX_DETAIL_WORDS`` words that are hidden when stored."""


Item = Lit | Alt | Ref | Gap | AnyNumber | Details


@dataclass(frozen=True, slots=True)
class Phrase:
    """A parsed phrase, as the author wrote it (``source``)."""

    source: str
    body: Seq
    at_start: bool = False
    at_end: bool = False
    also: tuple[Seq, ...] = ()
    """Parts after ``&``: each must match somewhere in the same message."""

    def references(self) -> list[Ref]:
        return [ref for part in (self.body, *self.also) for ref in _refs(part)]


def _refs(seq: Seq) -> Iterator[Ref]:
    for item in seq.items:
        if isinstance(item, Ref):
            yield item
        elif isinstance(item, Alt):
            for option in item.options:
                yield from _refs(option)


# --- parsing -----------------------------------------------------------------------------------


def parse_phrase(source: str, letters: Letters = Letters.ONE) -> Phrase:
    """Read one phrase; raises PhraseSyntaxError with the offset of the first mistake."""
    pieces = [(m.group(), m.start()) for m in _SYNTAX.finditer(source) if not m.group().isspace()]
    if not pieces:
        raise PhraseSyntaxError("the phrase is empty", 0)
    parts: list[list[tuple[str, int]]] = [[]]
    depth = 0
    for piece in pieces:
        if piece[0] in ("(", "["):
            depth += 1
        elif piece[0] in (")", "]"):
            depth -= 1
        if piece[0] == "&" and depth == 0:
            parts.append([])
        elif piece[0] == "&":
            raise PhraseSyntaxError(
                "`&` joins whole parts of a phrase, not inside brackets", piece[1]
            )
        else:
            parts[-1].append(piece)
    if len(parts) > 1:
        phrases = []
        for part in parts:
            if not part:
                raise PhraseSyntaxError("write a part on each side of `&`", len(source))
            if part[0][0] == "^" or part[-1][0] == "$":
                raise PhraseSyntaxError("`^` and `$` cannot be used with `&`", part[0][1])
            phrases.append(_parse_part(source, part, letters))
        return Phrase(source, phrases[0].body, also=tuple(p.body for p in phrases[1:]))
    return _parse_part(source, pieces, letters)


def _parse_part(source: str, pieces: list[tuple[str, int]], letters: Letters) -> Phrase:
    at_start = pieces[0][0] == "^"
    at_end = pieces[-1][0] == "$" and len(pieces) > 1
    if at_start:
        pieces = pieces[1:]
    if at_end:
        pieces = pieces[:-1]
    if not pieces:
        raise PhraseSyntaxError("the phrase is empty", 0)
    parser = _Parser(pieces, len(source), letters)
    options = parser.alternatives(closing=None)
    body = options[0] if len(options) == 1 else Seq((Alt(tuple(options)),))
    if not _can_be_empty(body) and body.items:
        first, last = body.items[0], body.items[-1]
        if isinstance(first, Gap) or isinstance(last, Gap):
            raise PhraseSyntaxError(
                "`...` belongs between words; at the start or end of a phrase it changes nothing",
                0,
            )
    if _can_be_empty(body):
        raise PhraseSyntaxError(
            "this phrase could match without any word at all (everything in it is optional); "
            "it needs at least one word that must be there",
            0,
        )
    return Phrase(source, body, at_start, at_end)


class _Parser:
    def __init__(self, pieces: list[tuple[str, int]], length: int, letters: Letters) -> None:
        self.pieces = pieces
        self.index = 0
        self.length = length
        self.letters = letters

    def peek(self) -> tuple[str, int] | None:
        return self.pieces[self.index] if self.index < len(self.pieces) else None

    def alternatives(self, closing: str | None) -> list[Seq]:
        options = [self.sequence()]
        while (piece := self.peek()) is not None and piece[0] == "|":
            self.index += 1
            options.append(self.sequence())
        piece = self.peek()
        if closing is None:
            if piece is not None:
                raise PhraseSyntaxError(f"`{piece[0]}` has no matching opening bracket", piece[1])
        elif piece is None:
            raise PhraseSyntaxError(f"a bracket is not closed: add `{closing}`", self.length)
        elif piece[0] != closing:
            raise PhraseSyntaxError(f"expected `{closing}` here, not `{piece[0]}`", piece[1])
        else:
            self.index += 1
        return options

    def sequence(self) -> Seq:
        items: list[Item] = []
        start = self.peek()
        while (piece := self.peek()) is not None and piece[0] not in (")", "]", "|"):
            self.index += 1
            items.extend(self.item(*piece))
        if not items:
            offset = start[1] if start is not None else self.length
            raise PhraseSyntaxError(
                "an empty choice: write something between the brackets and `|` "
                "(use [...] for something optional)",
                offset,
            )
        return Seq(tuple(items))

    def item(self, text: str, offset: int) -> list[Item]:
        if text in ("(", "["):
            closing = ")" if text == "(" else "]"
            return [Alt(tuple(self.alternatives(closing)), optional=text == "[")]
        if text == "...":
            return [Gap()]
        if text in ("^", "$"):
            raise PhraseSyntaxError(
                f"`{text}` can only be the {'first' if text == '^' else 'last'} thing in a phrase",
                offset,
            )
        if text.startswith("{"):
            name = text[1:-1]
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise PhraseSyntaxError(
                    f"`{text}`: a word list name is lower-case letters, digits and `_`", offset
                )
            if name == NUMBER_CLASS:
                return [AnyNumber()]
            if name == DETAILS_CLASS:
                return [Details()]
            return [Ref(name, offset)]
        if text.endswith("...") and len(text) > 3:
            raise PhraseSyntaxError("put a space before `...`", offset + len(text) - 3)
        return self.word(text, offset)

    def word(self, text: str, offset: int) -> list[Item]:
        known = _WORDS_READ.get((text, self.letters))
        if known is not None:  # a word read before, in this phrase or another: the same items
            return list(known)
        if text.startswith(("?", "+")):
            raise PhraseSyntaxError(
                f"`{text[0]}` is not part of the phrase syntax: write something optional in "
                "square brackets, [like this]",
                offset,
            )
        prefix = text.endswith("*")
        suffix = text.startswith("*")
        core = text.strip("*")
        if "*" in core:
            raise PhraseSyntaxError("`*` goes at the start or the end of a word", offset)
        forms = word_forms(core, self.letters)
        if not forms:
            raise PhraseSyntaxError(f"`{text}` has no letters or digits", offset)
        if (prefix or suffix) and len(forms) > 1:
            raise PhraseSyntaxError(f"`*` goes on a single plain word, not on `{text}`", offset)
        if prefix and suffix:
            raise PhraseSyntaxError("a word can have `*` at one end only", offset)
        if (prefix or suffix) and len(forms[0]) < 3:
            raise PhraseSyntaxError(
                f"`{text}` would match too many words: give `*` at least three letters", offset
            )
        items = tuple(Lit(form, prefix, suffix, self.letters) for form in forms)
        if len(_WORDS_READ) >= _WORDS_KEPT:
            _WORDS_READ.clear()
        _WORDS_READ[text, self.letters] = items
        return list(items)


_WORDS_KEPT = 32768
_WORDS_READ: dict[tuple[str, Letters], tuple[Lit, ...]] = {}
"""Words of phrases read so far, as items (``Lit`` is frozen, so they are shared): a rules
file's words recur (about three times each), and the rules are read at every start."""


def forget_words_read() -> None:
    """Drop what parsing remembered of the words it read (a few MB once three rules files with
    their fields are read): the compiled rules keep what they need."""
    _WORDS_READ.clear()
    word_forms.cache_clear()


def _can_be_empty(seq: Seq) -> bool:
    return all(_item_can_be_empty(item) for item in seq.items)


def _item_can_be_empty(item: Item) -> bool:
    if isinstance(item, Gap):
        return True
    if isinstance(item, Alt):
        return item.optional or any(_can_be_empty(option) for option in item.options)
    return False


# --- compiling and matching --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    """Where a phrase matched: tokens ``start`` to ``end`` (exclusive); ``hidden`` are the
    character spans of ``{words}`` details."""

    start: int
    end: int
    hidden: tuple[tuple[int, int], ...] = ()


@dataclass(slots=True)
class SharedParts:
    """What the phrases of one rules file share once compiled: each word list (used by many
    phrases, it would otherwise be compiled and held once for each), and each equal word (a
    rules file writes the same words thousands of times: 15,479 words, 4,477 distinct, in the
    shipped rules)."""

    lists: dict[str, Alt] = field(default_factory=dict)
    words: dict[Lit, Lit] = field(default_factory=dict)
    alternatives: dict[Alt, Alt] = field(default_factory=dict)
    """Each alternative written in place (``(kid|kids)``), as written: compiled once however
    many phrases write it."""
    sequences: dict[Seq, Seq] = field(default_factory=dict)

    def word(self, lit: Lit) -> Lit:
        """The one copy of ``lit`` kept for this file."""
        return self.words.setdefault(lit, lit)

    def alternative(self, written: Alt) -> Alt:
        compiled = self.alternatives.get(written)
        if compiled is None:
            compiled = self.alternatives[written] = _indexed(written)
        return compiled

    def sequence(self, seq: Seq) -> Seq:
        return self.sequences.setdefault(seq, seq)


def resolve(
    phrase: Phrase, lists: Mapping[str, Sequence[Phrase]], shared: SharedParts | None = None
) -> Phrase:
    """The phrase with every ``{list}`` replaced by the list's entries (names must exist),
    its parts shared with the other phrases resolved with the same ``shared``. Its text as
    written is left behind: a match shows the words of the message, and resolved phrases
    live as long as the process (about 0.3 MB for 2,000 phrases)."""
    parts = shared if shared is not None else SharedParts()
    return Phrase(
        "",
        _resolve_seq(phrase.body, lists, parts),
        phrase.at_start,
        phrase.at_end,
        tuple(_resolve_seq(part, lists, parts) for part in phrase.also),
    )


def _resolve_seq(seq: Seq, lists: Mapping[str, Sequence[Phrase]], shared: SharedParts) -> Seq:
    items: list[Item] = []
    for item in seq.items:
        if isinstance(item, Ref):
            compiled = shared.lists.get(item.name)
            if compiled is None:
                entries = lists[item.name]
                compiled = shared.lists[item.name] = _indexed(
                    Alt(tuple(_resolve_seq(entry.body, lists, shared) for entry in entries))
                )
            items.append(compiled)
        elif isinstance(item, Alt):
            options = tuple(_resolve_seq(option, lists, shared) for option in item.options)
            items.append(shared.alternative(Alt(options, item.optional)))
        else:
            items.append(shared.word(item) if isinstance(item, Lit) else item)
    return shared.sequence(Seq(tuple(items)))


def _indexed(alt: Alt) -> Alt:
    """The alternative with nested alternatives flattened and single words indexed."""
    options: list[Seq] = []
    lits: list[Lit] = []
    pending = list(alt.options)
    while pending:
        option = pending.pop(0)
        only = option.items[0] if len(option.items) == 1 else None
        if isinstance(only, Alt) and not only.optional:
            pending[:0] = only.options
            lits.extend(only.words.lits if only.words is not None else ())
        elif isinstance(only, Lit):
            lits.append(only)
        else:
            options.append(option)
    return Alt(tuple(options), alt.optional, _Words.of(lits) if lits else None)


class _WordIndex:
    """Phrase numbers by word. Most words lead to one phrase, kept as the number itself (a
    list of one would cost about 60 bytes more, tens of thousands of times); words that lead
    to more keep a tuple (a list keeps room to grow it never uses once the rules are read)."""

    __slots__ = ("_entries", "longest")

    def __init__(self) -> None:
        self._entries: dict[str, int | tuple[int, ...]] = {}
        self.longest = 0
        """The longest word: no longer piece of a token can find anything."""

    def add(self, word: str, index: int) -> None:
        self.longest = max(self.longest, len(word))
        kept = self._entries.get(word)
        if kept is None:
            self._entries[word] = index
        elif isinstance(kept, int):
            self._entries[word] = (kept, index)
        else:
            self._entries[word] = (*kept, index)

    def share(self, shared: dict[tuple[int, ...], tuple[int, ...]]) -> None:
        """Keep each list of numbers once, however many words lead to it: a fuzzy word's
        deletions all lead to the same phrases (7,400 tuples, 1,100 different: 0.46 MB)."""
        for word, kept in self._entries.items():
            if isinstance(kept, tuple):
                self._entries[word] = shared.setdefault(kept, kept)

    def collect(self, word: str, into: set[int]) -> None:
        kept = self._entries.get(word)
        if kept is None:
            return
        if isinstance(kept, int):
            into.add(kept)
        else:
            into.update(kept)


@dataclass(slots=True)
class PhraseSet:
    """Compiled phrases with an index of the words each can start with, so that a message
    is only tried against phrases that could begin at each of its words."""

    phrases: list[Phrase] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    """What each phrase is for, as its owner labels it (one index can serve many lists)."""
    _parts: dict[int, list[int]] = field(default_factory=dict)
    """For phrases with ``&``: the numbers of their further parts in ``_part_index``."""
    _part_numbers: dict[Seq, int] = field(default_factory=dict)
    _part_index: PhraseSet | None = None
    """Every further part of every phrase, as phrases of their own: one pass over a message
    finds where each first is, the first time a phrase with parts needs them."""
    # Tens of thousands of entries hold one phrase each: see ``_WordIndex``.
    _starts: _WordIndex = field(default_factory=_WordIndex)
    _ends_with: _WordIndex = field(default_factory=_WordIndex)
    _near: _WordIndex = field(default_factory=_WordIndex)
    _numbers: set[int] = field(default_factory=set)
    _anywhere: set[int] = field(default_factory=set)

    def add(self, phrase: Phrase, tag: str = "") -> None:
        """Add a resolved phrase (``resolve``)."""
        index = len(self.phrases)
        self.phrases.append(phrase)
        self.tags.append(tag)
        for part in phrase.also:
            number = self._part_numbers.get(part)
            if number is None:
                if self._part_index is None:
                    self._part_index = PhraseSet()
                number = self._part_numbers[part] = len(self._part_index)
                self._part_index.add(Phrase("", part))
            self._parts.setdefault(index, []).append(number)
        firsts = _first_items(phrase.body)
        if firsts is None:
            self._anywhere.add(index)
            return
        for first in firsts:
            if isinstance(first, AnyNumber):
                self._numbers.add(index)
            elif first.suffix:
                self._ends_with.add(first.form, index)
            else:
                self._starts.add(first.form, index)
                if first.fuzzy:
                    for variant in _deletions(first.form):
                        # One string however many phrase sets index it (a rule word's variants,
                        # never a message's: those are looked up, not kept).
                        self._near.add(sys.intern(variant), index)

    def finish(self) -> None:
        """Called once every phrase is added: what the index holds twice is kept once."""
        shared: dict[tuple[int, ...], tuple[int, ...]] = {}
        for words in (self._starts, self._ends_with, self._near):
            words.share(shared)
        if self._part_index is not None:
            self._part_index.finish()

    def candidates(self, token: Token) -> set[int]:
        form = token.form
        found = set(self._anywhere)
        if token.is_number:
            found |= self._numbers
        # Bounded by the longest word indexed: a token of 20,000 letters is not cut 20,000
        # times (nor its 20,000 deletions made: 800 MB).
        for cut in range(1, min(len(form), self._starts.longest) + 1):
            self._starts.collect(form[:cut], found)
        for cut in range(1, min(len(form), self._ends_with.longest) + 1):
            self._ends_with.collect(form[-cut:], found)
        if FUZZY_MIN_LENGTH - 1 <= len(form) <= self._near.longest + 1:
            for variant in _deletions(form):
                self._near.collect(variant, found)
        return found

    def find(self, tokens: Sequence[Token]) -> list[tuple[Phrase, Match]]:
        """Every (phrase, match) in the tokens; at most one match per phrase and start."""
        return [(self.phrases[index], match) for index, match in self._matches(tokens)]

    def find_tagged(self, tokens: Sequence[Token]) -> list[tuple[str, Match]]:
        """Every (tag, match) in the tokens; at most one match per phrase and start."""
        return [(self.tags[index], match) for index, match in self._matches(tokens)]

    def _matches(self, tokens: Sequence[Token]) -> list[tuple[int, Match]]:
        return list(self._each_match(tokens))

    def _each_match(self, tokens: Sequence[Token]) -> Iterator[tuple[int, Match]]:
        parts: _PartsFound | None = None
        # Words come back in a message ("i", "to", "the"): each one's candidates found once.
        found: dict[tuple[str, bool], list[int]] = {}
        for start, token in enumerate(tokens):
            key = (token.form, token.is_number)
            candidates = found.get(key)
            if candidates is None:
                candidates = found[key] = sorted(self.candidates(token))
            for index in candidates:
                phrase = self.phrases[index]
                if phrase.at_start and start != 0:
                    continue
                match = _first_match(phrase, phrase.body, tokens, start)
                if match is not None and phrase.also:
                    if parts is None:
                        assert self._part_index is not None
                        parts = _PartsFound(self._part_index, tokens)
                    match = _with_other_parts(match, self._parts[index], parts)
                if match is not None:
                    yield index, match

    def __len__(self) -> int:
        return len(self.phrases)


class _PartsFound:
    """Where each further part (``&``) is first in one message, looked for when a phrase
    needs it; which parts could begin at a word is found once per word for all of them."""

    def __init__(self, index: PhraseSet, tokens: Sequence[Token]) -> None:
        self._index = index
        self._tokens = tokens
        self._candidates: dict[tuple[str, bool], set[int]] = {}
        self._first: dict[int, Match | None] = {}

    def first(self, number: int) -> Match | None:
        if number in self._first:
            return self._first[number]
        found = None
        phrase = self._index.phrases[number]
        for start, token in enumerate(self._tokens):
            key = (token.form, token.is_number)
            candidates = self._candidates.get(key)
            if candidates is None:
                candidates = self._candidates[key] = self._index.candidates(token)
            if number in candidates:
                found = _first_match(phrase, phrase.body, self._tokens, start)
                if found is not None:
                    break
        self._first[number] = found
        return found


def _with_other_parts(match: Match, parts: list[int], found: _PartsFound) -> Match | None:
    """The match widened to the other ``&`` parts, or None when one of them is absent."""
    start, end, hidden = match.start, match.end, match.hidden
    for number in parts:
        part = found.first(number)
        if part is None:
            return None
        start, end, hidden = min(start, part.start), max(end, part.end), hidden + part.hidden
    return Match(start, end, hidden)


def _deletions(form: str) -> set[str]:
    """``form`` and ``form`` with one letter left out, past its first two: a word is only read
    as a typing mistake of another when their first two letters agree (``within_one_edit``),
    so leaving out either of those finds nothing (a quarter of the index, 0.8 MB)."""
    return {form} | {form[:i] + form[i + 1 :] for i in range(2, len(form))}


def _first_items(seq: Seq) -> set[Lit | AnyNumber] | None:
    """What the first token of a match can be; None when that cannot be bounded."""
    found: set[Lit | AnyNumber] = set()
    for item in seq.items:
        if isinstance(item, Lit | AnyNumber):
            found.add(item)
            return found
        if isinstance(item, Alt):
            found.update(item.words.lits if item.words is not None else ())
            for option in item.options:
                inner = _first_items(option)
                if inner is None:
                    return None
                found |= inner
            if not _item_can_be_empty(item):
                return found
            continue
        return None
    return None


_Position = tuple[int, int, tuple[tuple[int, int], ...]]
"""Token index, characters already consumed of that token (words run together), hidden spans."""


def _first_match(phrase: Phrase, body: Seq, tokens: Sequence[Token], start: int) -> Match | None:
    for end, offset, hidden in _match_seq(body.items, 0, (start, 0, ()), tokens):
        if offset == 0 and end > start and (not phrase.at_end or end == len(tokens)):
            return Match(start, end, hidden)
    return None


def _match_seq(
    items: tuple[Item, ...], k: int, position: _Position, tokens: Sequence[Token]
) -> Iterator[_Position]:
    if k == len(items):
        yield position
        return
    for after in _match_item(items[k], position, tokens):
        yield from _match_seq(items, k + 1, after, tokens)


def _match_item(item: Item, position: _Position, tokens: Sequence[Token]) -> Iterator[_Position]:
    index, offset, hidden = position
    if isinstance(item, Lit):
        yield from _match_lit(item, position, tokens)
    elif isinstance(item, Alt):
        if item.words is not None:
            yield from item.words.positions(position, tokens)
        for option in item.options:
            yield from _match_seq(option.items, 0, position, tokens)
        if item.optional:
            yield position
    elif offset != 0:
        return
    elif isinstance(item, AnyNumber):
        if index < len(tokens) and tokens[index].is_number:
            yield index + 1, 0, hidden
    elif isinstance(item, Gap):
        for size in range(MAX_GAP + 1):
            end = index + size
            if end > len(tokens):
                break
            if size and tokens[end - 1].sentence != tokens[index].sentence:
                break
            yield end, 0, hidden
    elif isinstance(item, Details):
        if index >= len(tokens):
            return
        clause = tokens[index].clause
        longest = index
        while (
            longest < len(tokens)
            and longest - index < MAX_DETAIL_WORDS
            and tokens[longest].clause == clause
        ):
            longest += 1
        for end in range(longest, index, -1):
            span = (tokens[index].start, tokens[end - 1].end)
            yield end, 0, (*hidden, span)


def _match_lit(lit: Lit, position: _Position, tokens: Sequence[Token]) -> tuple[_Position, ...]:
    """Where matching ``lit`` from ``position`` can leave off (a tuple: cheaper than a
    generator, and there are at most two)."""
    index, offset, hidden = position
    if index >= len(tokens):
        return ()
    token = tokens[index]
    rest = token.form[offset:]
    if lit.suffix:
        return ((index + 1, 0, hidden),) if rest.endswith(lit.form) else ()
    if lit.prefix:
        return ((index + 1, 0, hidden),) if rest.startswith(lit.form) else ()
    if (rest == lit.form and (offset == 0 or len(rest) >= MIN_PIECE)) or (
        offset == 0 and lit.fuzzy and within_one_edit(rest, lit.form, lit.letters)
    ):
        return ((index + 1, 0, hidden),)
    if token.is_number:
        return ()
    # A word typed in pieces ("my self" for "myself", "any one"): join up to three tokens.
    if offset == 0 and lit.form.startswith(rest) and len(lit.form) > len(rest):
        joined, end = rest, index + 1
        while end < len(tokens) and end - index < 3 and len(joined) < len(lit.form):
            joined += tokens[end].form
            end += 1
            if joined == lit.form:
                return ((end, 0, hidden),)
    # Words run together ("killmyself"): the word may be the start of what is left of the token;
    # squeezing may have merged a letter at the join ("self" + "fish" reads "selfish").
    merged = lit.form[1:] if offset and token.form[offset - 1] == lit.form[0] else ""
    if len(merged) >= MIN_PIECE and rest == merged:
        return ((index + 1, 0, hidden),)
    form = lit.form
    if not (len(rest) > len(form) and rest.startswith(form)):
        form = ""  # the word itself is not the start of what is left
    if len(merged) >= MIN_PIECE and len(rest) > len(merged) and rest.startswith(merged):
        if form:
            return ((index, offset + len(form), hidden), (index, offset + len(merged), hidden))
        return ((index, offset + len(merged), hidden),)
    return ((index, offset + len(form), hidden),) if len(form) >= MIN_PIECE else ()
