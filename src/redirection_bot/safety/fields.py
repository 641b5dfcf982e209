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

Step = Lit | Gap | AnyNumber
Spelling = tuple[Step, ...]


_WordEntries = tuple[
    frozenset[str],
    dict[str, tuple[tuple[Spelling, str], ...]],
    tuple[tuple[Spelling, str], ...],
]
"""What one word form starts: its fields, longer entries by their plain second word, and the
other longer entries."""


@dataclass(slots=True)
class FieldIndex:
    """Every entry of every field of one rules file, spelt out and indexed by first word.

    One-word entries (most of them) are answered per word form from ``_words``, a cache, so a
    word that comes back costs one lookup; longer entries are compared from their first word.
    """

    single: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """One plain word: the fields it belongs to."""
    single_prefixes: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """One word's beginning (``kuole*``): the fields."""
    single_suffixes: list[tuple[str, str]] = field(default_factory=list)
    """One word's ending (``*katu``) and its field."""
    exact: dict[str, list[tuple[Spelling, str]]] = field(default_factory=lambda: defaultdict(list))
    prefixes: dict[str, list[tuple[Spelling, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    others: list[tuple[Spelling, str]] = field(default_factory=list)
    """Entries starting with an ending (``*katu``) or a number: tried at every word."""
    longest_prefix: int = 0
    _words: dict[str, _WordEntries] = field(default_factory=dict)

    @classmethod
    def of(cls, fields: Mapping[str, Sequence[Phrase]]) -> FieldIndex:
        index = cls()
        for name, entries in fields.items():
            for entry in entries:
                for spelling in _spelt(entry.body)[:MAX_SPELLINGS]:
                    index._add(spelling, name)
        return index

    def _add(self, spelling: Spelling, name: str) -> None:
        first = spelling[0] if spelling else None
        plain = isinstance(first, Lit) and not (first.prefix or first.suffix)
        if isinstance(first, Lit) and first.prefix:
            self.longest_prefix = max(self.longest_prefix, len(first.form))
        if isinstance(first, Lit) and len(spelling) == 1 and first.suffix:
            self.single_suffixes.append((first.form, name))
        elif isinstance(first, Lit) and len(spelling) == 1:
            (self.single if plain else self.single_prefixes)[first.form].add(name)
        elif isinstance(first, Lit) and plain:
            self.exact[first.form].append((spelling, name))
        elif isinstance(first, Lit) and first.prefix:
            self.prefixes[first.form].append((spelling, name))
        elif first is not None and not isinstance(first, Gap):
            self.others.append((spelling, name))

    def find(self, tokens: Sequence[Token]) -> set[str]:
        """The names of the fields one of whose entries is in ``tokens``."""
        found: set[str] = set()
        for start, token in enumerate(tokens):
            names, by_next, longer = self._word(token.form)
            found |= names
            if by_next and start + 1 < len(tokens):
                longer = by_next.get(tokens[start + 1].form, ()) + longer
            for spelling, name in longer:  # their first word is this one: read on from the next
                if name not in found and _matches(spelling, tokens, start + 1, 1):
                    found.add(name)
            for spelling, name in self.others:
                if name not in found and _matches(spelling, tokens, start):
                    found.add(name)
        return found

    def _word(self, form: str) -> _WordEntries:
        """The fields whose one-word entries this word form is, and the longer entries that
        may start with it: by their plain second word, and the rest (cached per form)."""
        known = self._words.get(form)
        if known is None:
            names = set(self.single.get(form, ()))
            longer = list(self.exact.get(form, ()))
            for length in range(1, min(len(form), self.longest_prefix) + 1):
                names |= self.single_prefixes.get(form[:length], set())
                longer.extend(self.prefixes.get(form[:length], ()))
            names.update(name for ending, name in self.single_suffixes if form.endswith(ending))
            by_next: dict[str, list[tuple[Spelling, str]]] = defaultdict(list)
            rest = []
            for spelling, name in longer:
                second = spelling[1] if len(spelling) > 1 else None
                if isinstance(second, Lit) and not (second.prefix or second.suffix):
                    by_next[second.form].append((spelling, name))
                else:
                    rest.append((spelling, name))
            known = (
                frozenset(names),
                {word: tuple(entries) for word, entries in by_next.items()},
                tuple(rest),
            )
            if len(self._words) < WORD_CACHE and len(form) <= CACHED_LENGTH:
                self._words[form] = known
        return known


def _spelt(seq: Seq) -> list[Spelling]:
    """The plain sequences a phrase body stands for; [] when it holds a list or a detail."""
    spellings: list[Spelling] = [()]
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


def _matches(spelling: Spelling, tokens: Sequence[Token], at: int, step_at: int = 0) -> bool:
    """Whether ``spelling`` from its step ``step_at`` on reads ``tokens`` from ``at`` on (a
    loop, with one recursion per gap: this runs for every word of every message)."""
    count = len(tokens)
    for position in range(step_at, len(spelling)):
        step = spelling[position]
        if isinstance(step, Gap):
            return any(
                _matches(spelling, tokens, at + skip, position + 1) for skip in range(MAX_GAP + 1)
            )
        if at >= count:
            return False
        form = tokens[at].form
        if isinstance(step, AnyNumber):
            ok = tokens[at].is_number
        elif step.prefix:
            ok = form.startswith(step.form)
        elif step.suffix:
            ok = form.endswith(step.form)
        else:
            ok = form == step.form
        if not ok:
            return False
        at += 1
    return True
