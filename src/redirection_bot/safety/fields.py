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

from redirection_bot.safety.normalise import Token
from redirection_bot.safety.phrases import MAX_GAP, Alt, AnyNumber, Gap, Lit, Phrase, Seq

MAX_SPELLINGS = 256
"""An entry spelt out into more sequences than this keeps the first ones (none come close)."""

WORD_CACHE = 50_000
"""Word forms whose one-word fields are remembered (a few MB at most)."""

Step = Lit | Gap | AnyNumber
Spelling = tuple[Step, ...]


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
    _words: dict[str, tuple[frozenset[str], tuple[tuple[Spelling, str], ...]]] = field(
        default_factory=dict
    )

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
            names, longer = self._word(token.form)
            found |= names
            for spelling, name in longer:
                if name not in found and _matches(spelling, tokens, start):
                    found.add(name)
            for spelling, name in self.others:
                if name not in found and _matches(spelling, tokens, start):
                    found.add(name)
        return found

    def _word(self, form: str) -> tuple[frozenset[str], tuple[tuple[Spelling, str], ...]]:
        """The fields whose one-word entries this word form is, and the longer entries that
        may start with it (cached per form)."""
        known = self._words.get(form)
        if known is None:
            names = set(self.single.get(form, ()))
            longer = list(self.exact.get(form, ()))
            for length in range(1, min(len(form), self.longest_prefix) + 1):
                names |= self.single_prefixes.get(form[:length], set())
                longer.extend(self.prefixes.get(form[:length], ()))
            names.update(name for ending, name in self.single_suffixes if form.endswith(ending))
            known = (frozenset(names), tuple(longer))
            if len(self._words) < WORD_CACHE:
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


def _matches(spelling: Spelling, tokens: Sequence[Token], at: int) -> bool:
    if not spelling:
        return True
    step, rest = spelling[0], spelling[1:]
    if isinstance(step, Gap):
        return any(_matches(rest, tokens, at + skip) for skip in range(MAX_GAP + 1))
    if at >= len(tokens):
        return False
    token = tokens[at]
    if isinstance(step, AnyNumber):
        ok = token.is_number
    elif step.prefix:
        ok = token.form.startswith(step.form)
    elif step.suffix:
        ok = token.form.endswith(step.form)
    else:
        ok = token.form == step.form
    return ok and _matches(rest, tokens, at + 1)
