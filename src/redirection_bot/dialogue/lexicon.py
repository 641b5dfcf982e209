"""What the engine knows of the texts without rendering them.

Built once at load from the catalog: the placeholders of each key (so that a message can
carry exactly the slot values it shows) and, per locale, the folded words of every label
and command (so that a person can type "stop" or "2" instead of pressing a button), the
other names of each language ("finnish" for Suomi) and numbers written as words ("eight").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from redirection_bot.dialogue.model import CommandName
from redirection_bot.language.i18n import filled
from redirection_bot.language.textnorm import fold

LANGUAGE_WORDS_KEY = "language.words"
"""Other names a person may type for a language at the language menu ("finnish", "finés"
for Suomi), in that language's locale file; optional."""
BUT_WORDS_KEY = "engine.but_words"
"""Words that turn an answer round ("no, but ..."): a message whose second part begins with
one is not answered by its first part alone (``step.match_choice``)."""
ABOUT_WORDS_KEY = "engine.about_words"
"""Words that may come with a number typed at a number question ("like a 9 i guess", "idk
maybe 5 ish", *mas o menos un 4*, *varmaan joku 8*): ``step.typed_number``."""
AND_WORDS_KEY = "engine.and_words"
"""Words that join the items of a list typed in one message ("hopeless and isolating",
*solo y aburrido*, *yksinäisyys ja stressi*): each item is ticked (``step.typed_items``)."""
GO_ON_WORDS_KEY = "engine.go_on_words"
"""Words that take the one answer a question offers when it asks for nothing else ("ok",
"dale", *jatketaan* at "Go on"): the whole message (``step.match_choice``)."""
NOT_WORDS_KEY = "engine.not_words"
"""Words that negate ("no", "not", "ei"): part of a label typed without the label's negation
("right now" of "No, not right now") is not that answer (``step.label_holds``)."""
NOT_THERE_WORDS_KEY = "engine.not_there_words"
"""Words that, right before a place, say the person is not there ("not in", "outside the",
*no estoy en*, *en oo*): "im not in the us" names no country (``step.mentioned``,
``step.note_country``; the retests found it taken as the United States)."""
PAST_WORDS_KEY = "engine.past_words"
"""Words that tell of the past ("last time", "years ago", *la otra vez*, *viime vuonna*): a
``now_only`` choice's words inside a message that holds one do not pick it
(``step.mentioned``; the fifty-second retest: a past attempt given the first aid for harm
just done)."""
NUMBERS_NAMESPACE = "numbers"
"""``numbers.<n>``: how a person may write the number n as words ("eight, 8th"), for answers
on a number scale; optional."""
_NUMBER_KEY = re.compile(rf"{NUMBERS_NAMESPACE}\.(\d+)")


TAKEN_SIGNS_WORDS_KEY = "engine.taken_signs_words"
"""Signs of what a person took ("sleepy", "my stomach hurts", *me cuesta respirar*, *oksettaa*)
and the practical questions of that moment ("should i wake my parents", *avaanko oven*):
once something was taken, a message holding one is the suicide crisis's (``engine/taken_signs``),
never read alone as distress or as nothing."""

ENGINE_WORD_KEYS = frozenset(
    {
        LANGUAGE_WORDS_KEY,
        ABOUT_WORDS_KEY,
        AND_WORDS_KEY,
        BUT_WORDS_KEY,
        GO_ON_WORDS_KEY,
        NOT_WORDS_KEY,
        NOT_THERE_WORDS_KEY,
        PAST_WORDS_KEY,
        TAKEN_SIGNS_WORDS_KEY,
    }
)
"""The optional texts of words the engine itself reads (beside ``numbers.<n>``)."""


def typed_word_keys(keys: Iterable[str]) -> list[str]:
    """Of ``keys``, the optional texts the engine reads as words a person may type."""
    return [key for key in keys if key in ENGINE_WORD_KEYS or _NUMBER_KEY.fullmatch(key)]


@dataclass(frozen=True, slots=True)
class Lexicon:
    placeholders: Mapping[str, frozenset[str]] = field(default_factory=dict)
    forms: Mapping[str, Mapping[str, frozenset[str]]] = field(default_factory=dict)
    """locale -> key -> folded forms a person may type for it."""
    commands: Mapping[str, Mapping[str, CommandName]] = field(default_factory=dict)
    """locale -> folded word -> command."""
    numbers: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """locale -> folded number word -> its value."""
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """locale -> label key -> its raw text, for labels that show slots and the labels of
    slot values that may fill them."""
    inside: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    """locale -> words key -> folded phrases that count anywhere in a message
    (``"...young people..."`` in a ``words`` text)."""
    commands_inside: Mapping[str, tuple[tuple[str, CommandName], ...]] = field(default_factory=dict)
    """locale -> (folded phrase, command) for a command's words written to count anywhere
    (``"...number i can call..."`` in ``help``'s words): an answer the program cannot take
    as a choice that holds one is that command (``mentioned_command``)."""
    inside_counted: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    """locale -> words key -> folded phrases written with ``#`` for any number
    (``"...took # pills..."``), with ``COUNTED`` in its place: they count anywhere in a
    message whose numbers are read as ``COUNTED``."""

    def matches(self, locale: str, key: str | None, folded: str) -> bool:
        if key is None:
            return False
        return folded in self.forms.get(locale, {}).get(key, ())

    def words_of(self, locale: str, key: str) -> frozenset[str]:
        """The folded forms of a ``words`` text (empty where the locale has none)."""
        return self.forms.get(locale, {}).get(key, frozenset())

    def mentions(
        self, locale: str, key: str | None, folded: str, unless_after: str | None = None
    ) -> bool:
        """Whether ``folded`` holds one of the phrases of ``key`` written to count anywhere
        in a message, as whole words; with ``unless_after`` (a words key), a phrase that
        comes right after one of those words does not count ("not in" the us)."""
        return next(self._held(locale, key, folded, unless_after), None) is not None

    def holds(self, locale: str, key: str | None, folded: str) -> bool:
        """Whether ``folded`` holds any of ``key``'s words as whole words, a whole-message
        form or a phrase written to count anywhere ("pues como q si.. no se" holds "si")."""
        if key is None:
            return False
        padded = f" {folded} "
        return self.mentions(locale, key, folded) or (
            next(_held(padded, self.words_of(locale, key), ()), None) is not None
        )

    def phrases_held(
        self, locale: str, key: str | None, folded: str, unless_after: str | None = None
    ) -> tuple[str, ...]:
        """The phrases of ``key`` that ``folded`` holds, as ``mentions`` reads them (a counted
        phrase as written, ``COUNTED`` for its number)."""
        return tuple(self._held(locale, key, folded, unless_after))

    def _held(
        self, locale: str, key: str | None, folded: str, unless_after: str | None
    ) -> Iterator[str]:
        if key is None:
            return
        padded = f" {folded} "
        denials = self.words_of(locale, unless_after) if unless_after is not None else ()
        yield from _held(padded, self.inside.get(locale, {}).get(key, ()), denials)
        counted = self.inside_counted.get(locale, {}).get(key, ())
        if counted:
            yield from _held(_DIGITS.sub(COUNTED, padded), counted, denials)

    def label_text(self, locale: str, key: str) -> str | None:
        """The raw text of a label, or None if it is not one."""
        return self.labels.get(locale, {}).get(key)

    def filled(self, locale: str, key: str, values: Mapping[str, str]) -> str | None:
        """A label that shows slots, as shown with ``values`` (None: a value is missing)."""
        text = self.label_text(locale, key)
        return None if text is None else filled(text, values)

    def command(self, locale: str, folded: str) -> CommandName | None:
        return self.commands.get(locale, {}).get(folded)

    def mentioned_command(self, locale: str, folded: str) -> CommandName | None:
        """The command one of whose "...phrase..." words ``folded`` holds, as whole words."""
        padded = f" {folded} "
        return next(
            (
                name
                for phrase, name in self.commands_inside.get(locale, ())
                if f" {phrase} " in padded
            ),
            None,
        )

    def number(self, locale: str, folded: str) -> int | None:
        """The number ``folded`` writes as words in ``locale`` ("kahdeksan": 8), or None."""
        return self.numbers.get(locale, {}).get(folded)


WHOLE_MESSAGE_ONLY = frozenset({CommandName.STOP, CommandName.ERASE, CommandName.RESTART})
"""Commands that end or restart a conversation count only as the whole message: their
"...phrase..." words are never read inside a sentence ("i want to stop" is a reason)."""

INSIDE_MARK = "..."
"""A ``words`` entry written between two of these (``...young people...``) counts anywhere in
a message, as whole words, not only as the whole message."""


NUMBER_MARK = "#"
"""In a "...phrase..." entry, any number written in digits: "...took # pills..." holds for
"i took 30 pills" and "took 2 pills"."""
COUNTED = "0"
"""What a number mark and every number in a message are read as, to compare them."""
_DIGITS = re.compile(r"\d+")


def held_alone(folded: str, phrase: str, others: Iterable[str]) -> bool:
    """Whether ``phrase`` (one of ``phrases_held``) stands in ``folded`` somewhere other than
    inside one of ``others`` that holds it: "not tonight" alone in "not tonight. tomorrow" is
    False when "not tonight tomorrow" is among ``others``, True in "not tonight, not tonight
    tomorrow"."""
    padded = f" {folded} "
    texts = (padded, _DIGITS.sub(COUNTED, padded))
    inner = f" {phrase} "

    def times(text: str, part: str) -> int:
        found, start = 0, text.find(part)
        while start >= 0:
            found += 1
            start = text.find(part, start + 1)
        return found

    def held(part: str) -> int:
        return max(times(text, part) for text in texts)

    inside = sum(
        held(f" {other} ") * times(f" {other} ", inner)
        for other in others
        if other != phrase and inner in f" {other} "
    )
    return held(inner) > inside


_K = TypeVar("_K")


def held_specifically(folded: str, held: Sequence[tuple[_K, Sequence[str]]]) -> list[_K]:
    """Of what each of several options holds in ``folded`` (its ``phrases_held``), the
    options with a phrase that stands other than inside another's longer one (``held_alone``):
    "not tonight" inside "not tonight tomorrow", "ireland" inside "northern ireland". One
    option alone is kept as it is."""
    if len(held) < 2:
        return [key for key, _phrases in held]
    every = [phrase for _key, phrases in held for phrase in phrases]
    return [
        key for key, phrases in held if any(held_alone(folded, phrase, every) for phrase in phrases)
    ]


def _held(padded: str, phrases: Iterable[str], denials: Iterable[str]) -> Iterator[str]:
    """The ``phrases`` that ``padded`` (a folded message with a space each side) holds as
    whole words, not right after one of ``denials``."""
    for phrase in phrases:
        start = padded.find(f" {phrase} ")
        while start >= 0:
            before = padded[: start + 1]
            if not any(before.endswith(f" {denial} ") for denial in denials):
                yield phrase
                break
            start = padded.find(f" {phrase} ", start + 1)


def _is_inside(part: str) -> bool:
    stripped = part.strip().replace("\u2026", INSIDE_MARK)
    return (
        len(stripped) > 2 * len(INSIDE_MARK)
        and stripped.startswith(INSIDE_MARK)
        and stripped.endswith(INSIDE_MARK)
    )


def word_forms(text: str) -> frozenset[str]:
    """Forms of a ``words`` text: a comma-separated list of things a person might type as
    the whole message (entries written to count anywhere are left to ``inside_forms``)."""
    return frozenset(
        form for part in text.split(",") if not _is_inside(part) and (form := fold(part))
    )


def inside_forms(text: str, counted: bool = False) -> tuple[str, ...]:
    """The entries of a ``words`` text written to count anywhere in a message, folded; with
    ``counted``, only those written with a ``NUMBER_MARK`` (read as ``COUNTED``), else only
    those without."""
    return tuple(
        sorted(
            {
                form
                for part in text.split(",")
                if _is_inside(part)
                and (NUMBER_MARK in part) == counted
                and (form := fold(part.replace(NUMBER_MARK, f" {COUNTED} ")))
            }
        )
    )


def build_lexicon(
    texts: Mapping[str, Mapping[str, str]],
    placeholders: Mapping[str, frozenset[str]],
    label_keys: Iterable[str],
    word_keys: Iterable[str],
    command_keys: Mapping[CommandName, str],
) -> Lexicon:
    """``texts`` is locale -> key -> raw text (with the optional ``typed_word_keys``)."""
    labels = set(label_keys)
    words = set(word_keys) | ENGINE_WORD_KEYS
    forms: dict[str, dict[str, frozenset[str]]] = {}
    commands: dict[str, dict[str, CommandName]] = {}
    numbers: dict[str, dict[str, int]] = {}
    raw_labels: dict[str, dict[str, str]] = {}
    inside: dict[str, dict[str, tuple[str, ...]]] = {}
    commands_inside: dict[str, tuple[tuple[str, CommandName], ...]] = {}
    inside_counted: dict[str, dict[str, tuple[str, ...]]] = {}
    for locale, by_key in texts.items():
        for key, text in by_key.items():
            if found := _NUMBER_KEY.fullmatch(key):
                for form in word_forms(text):
                    numbers.setdefault(locale, {})[form] = int(found.group(1))
        into = forms.setdefault(locale, {})
        for key in labels:
            if key in by_key and (folded := fold(by_key[key])):
                into[key] = into.get(key, frozenset()) | {folded}
            if key in by_key:
                raw_labels.setdefault(locale, {})[key] = by_key[key]
        for key in words:
            if key in by_key:
                into[key] = into.get(key, frozenset()) | word_forms(by_key[key])
                if phrases := inside_forms(by_key[key]):
                    inside.setdefault(locale, {})[key] = phrases
                if phrases := inside_forms(by_key[key], counted=True):
                    inside_counted.setdefault(locale, {})[key] = phrases
        for name, key in command_keys.items():
            for form in word_forms(by_key.get(key, "")):
                commands.setdefault(locale, {})[form] = name
            if name not in WHOLE_MESSAGE_ONLY:
                mentioned = tuple((phrase, name) for phrase in inside_forms(by_key.get(key, "")))
                commands_inside[locale] = commands_inside.get(locale, ()) + mentioned
    return Lexicon(
        placeholders, forms, commands, numbers, raw_labels, inside, commands_inside, inside_counted
    )
