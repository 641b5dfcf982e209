"""Which semantic fields a message touches: the rules' word lists (``words:``) and fields
(``fields:``), read as features by the second screening layer (``model``).

A field's entries are written in the phrase syntax (``phrases``), but this is not the phrase
matcher: a field only needs to know whether one of its entries is in the message, so each
entry is spelt out into plain sequences of words once, at load (``(end|ending) it`` is "end it"
and "ending it"), indexed by its first word, and compared word for word: an exact word, a
beginning (``kuole*``) or an ending (``*katu``), a number for ``{number}``, up to ``MAX_GAP``
words for ``...``. No typing mistakes and no words run together: that generosity is the
rules' (it costs a search of the whole message per entry); the model has word pieces instead.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from redirection_bot.safety.normalise import CACHED_LENGTH, Token
from redirection_bot.safety.phrases import MAX_GAP, Alt, AnyNumber, Gap, Lit, Phrase, Seq

MAX_SPELLINGS = 256
"""An entry spelt out into more sequences than this keeps the first ones (none come close)."""

WORD_CACHE = 50_000
"""Word forms whose one-word fields are remembered (a few MB at most: none longer than
``normalise.CACHED_LENGTH``)."""

Spelling = tuple[str, ...]
"""An entry spelt out, one string a word: a word form (``kuolla``), a beginning (``kuole*``),
an ending (``*katu``), ``GAP`` or ``NUMBER``. Strings, not the phrase's items: the index is
kept with the loaded program, and strings are a fraction of the memory and of the time to read
it back."""
Entry = tuple[str, ...]
"""A spelling of several words, then the name of its field: one tuple an entry, not two."""
GAP = "..."
NUMBER = "#"
_Items = tuple[Lit | Gap | AnyNumber, ...]


_WordEntries = tuple[
    frozenset[str],
    dict[str, tuple[Entry, ...]],
    tuple[Entry, ...],
]
"""What one word form starts: its fields, longer entries by their plain second word, and the
other longer entries."""


@dataclass(slots=True)
class FieldIndex:
    """Every entry of every field of one rules file, spelt out and indexed by first word.

    One-word entries (most of them) are answered per word form from ``_words``, a cache, so a
    word that comes back costs one lookup; longer entries are compared from their first word.
    """

    single: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """One plain word: the fields it belongs to (tuples: a set a word is several times the
    memory, several MB in all)."""
    single_prefixes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """One word's beginning (``kuole*``): the fields."""
    single_suffixes: list[tuple[str, str]] = field(default_factory=list)
    """One word's ending (``*katu``) and its field."""
    exact: dict[str, tuple[Entry, ...]] = field(default_factory=dict)
    """Entries of several words, by their plain first word."""
    prefixes: dict[str, tuple[Entry, ...]] = field(default_factory=dict)
    """Entries of several words, by their first word's beginning."""
    others: list[Entry] = field(default_factory=list)
    """Entries starting with an ending (``*katu``) or a number: tried at every word."""
    longest_prefix: int = 0
    _words: dict[str, _WordEntries] = field(default_factory=dict)

    @classmethod
    def of(cls, fields: Mapping[str, Sequence[Phrase]]) -> FieldIndex:
        index = cls()
        built = _Building()
        for name, entries in fields.items():
            for entry in entries:
                for items in _spelt(entry.body)[:MAX_SPELLINGS]:
                    index._add(tuple(map(_step, items)), name, built)
        shared: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple for ("death",), ...
        index.single = _packed(built.single, shared)
        index.single_prefixes = _packed(built.prefixes, shared)
        index.exact = {form: tuple(entries) for form, entries in built.exact.items()}
        index.prefixes = {form: tuple(entries) for form, entries in built.longer.items()}
        return index

    def _add(self, spelling: Spelling, name: str, built: _Building) -> None:
        first = spelling[0]
        if first == GAP:
            return
        if first == NUMBER or (first[0] == "*" and len(spelling) > 1):
            self.others.append((*spelling, name))
        elif first[0] == "*":
            self.single_suffixes.append((first[1:], name))
        elif first[-1] == "*":
            self.longest_prefix = max(self.longest_prefix, len(first) - 1)
            if len(spelling) == 1:
                built.prefixes[first[:-1]].add(name)
            else:
                built.longer[first[:-1]].append((*spelling, name))
        elif len(spelling) == 1:
            built.single[first].add(name)
        else:
            built.exact[first].append((*spelling, name))

    def find(self, tokens: Sequence[Token]) -> set[str]:
        """The names of the fields one of whose entries is in ``tokens``."""
        return set().union(*self.find_by_clause(tokens).values())

    def find_by_clause(self, tokens: Sequence[Token]) -> dict[int, set[str]]:
        """The same, by the clause each entry found starts in (``Token.clause``): a clause's
        own fields without reading it again (``screen.long_clauses``)."""
        by_clause: dict[int, set[str]] = {}
        for start, token in enumerate(tokens):
            found = by_clause.get(token.clause)
            if found is None:
                found = by_clause[token.clause] = set()
            names, by_next, longer = self._word(token.form)
            found |= names
            if by_next and start + 1 < len(tokens):
                longer = by_next.get(tokens[start + 1].form, ()) + longer
            for entry in longer:  # their first word is this one: read on from the next
                if entry[-1] not in found and _matches(entry, tokens, start + 1, 1):
                    found.add(entry[-1])
            for entry in self.others:
                if entry[-1] not in found and _matches(entry, tokens, start):
                    found.add(entry[-1])
        return by_clause

    def _word(self, form: str) -> _WordEntries:
        """The fields whose one-word entries this word form is, and the longer entries that
        may start with it: by their plain second word, and the rest (cached per form)."""
        known = self._words.get(form)
        if known is None:
            names = set(self.single.get(form, ()))
            longer = list(self.exact.get(form, ()))
            for length in range(1, min(len(form), self.longest_prefix) + 1):
                names.update(self.single_prefixes.get(form[:length], ()))
                longer.extend(self.prefixes.get(form[:length], ()))
            names.update(name for ending, name in self.single_suffixes if form.endswith(ending))
            by_next: dict[str, list[Entry]] = defaultdict(list)
            rest = []
            for entry in longer:
                second = entry[1]  # an entry in ``longer`` has two words at least, then its name
                if second not in (GAP, NUMBER) and "*" not in second:
                    by_next[second].append(entry)
                else:
                    rest.append(entry)
            known = (
                frozenset(names),
                {word: tuple(entries) for word, entries in by_next.items()},
                tuple(rest),
            )
            if len(self._words) < WORD_CACHE and len(form) <= CACHED_LENGTH:
                self._words[form] = known
        return known


@dataclass(slots=True)
class _Building:
    """The index's tables while entries are added (sets and lists; tuples once built)."""

    single: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    prefixes: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    exact: dict[str, list[Entry]] = field(default_factory=lambda: defaultdict(list))
    longer: dict[str, list[Entry]] = field(default_factory=lambda: defaultdict(list))


def _packed(
    names: dict[str, set[str]], shared: dict[tuple[str, ...], tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """Each word's field names as a tuple, one tuple for every word with the same names."""
    return {
        form: shared.setdefault(key, key) for form, n in names.items() for key in [tuple(sorted(n))]
    }


def _step(item: Lit | Gap | AnyNumber) -> str:
    if isinstance(item, Gap):
        return GAP
    if isinstance(item, AnyNumber):
        return NUMBER
    if item.prefix or item.suffix:  # one string for every entry that has it
        return sys.intern(f"{item.form}*" if item.prefix else f"*{item.form}")
    return item.form


def _spelt(seq: Seq) -> list[_Items]:
    """The plain sequences a phrase body stands for; [] when it holds a list or a detail."""
    spellings: list[_Items] = [()]
    for item in seq.items:
        if isinstance(item, Alt):
            options = [spelling for option in item.options for spelling in _spelt(option)]
            if item.words is not None:
                options += [(lit,) for lit in item.words.lits]
            if item.optional:
                options.append(())
            spellings = [done + more for done in spellings for more in options][:MAX_SPELLINGS]
        elif isinstance(item, Lit | Gap | AnyNumber):
            spellings = [(*done, item) for done in spellings]
        else:
            return []
    return [spelling for spelling in spellings if spelling]


def _matches(entry: Entry, tokens: Sequence[Token], at: int, step_at: int = 0) -> bool:
    """Whether ``entry`` from its step ``step_at`` on reads ``tokens`` from ``at`` on (a loop,
    with one recursion per gap: this runs for every word of every message)."""
    count = len(tokens)
    for position in range(step_at, len(entry) - 1):  # the last is the field's name
        step = entry[position]
        if step == GAP:
            return any(
                _matches(entry, tokens, at + skip, position + 1) for skip in range(MAX_GAP + 1)
            )
        if at >= count:
            return False
        form = tokens[at].form
        if step == NUMBER:
            ok = tokens[at].is_number
        elif step[-1] == "*":
            ok = form.startswith(step[:-1])
        elif step[0] == "*":
            ok = form.endswith(step[1:])
        else:
            ok = form == step
        if not ok:
            return False
        at += 1
    return True
