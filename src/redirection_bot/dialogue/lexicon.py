"""What the engine knows of the texts without rendering them.

Built once at load from the catalog: the placeholders of each key (so that a message can
carry exactly the slot values it shows) and, per locale, the folded words of every label
and command (so that a person can type "stop" or "2" instead of pressing a button).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from redirection_bot.dialogue.model import CommandName
from redirection_bot.textnorm import fold


@dataclass(frozen=True, slots=True)
class Lexicon:
    placeholders: Mapping[str, frozenset[str]] = field(default_factory=dict)
    forms: Mapping[str, Mapping[str, frozenset[str]]] = field(default_factory=dict)
    """locale -> key -> folded forms a person may type for it."""
    commands: Mapping[str, Mapping[str, CommandName]] = field(default_factory=dict)
    """locale -> folded word -> command."""

    def matches(self, locale: str, key: str | None, folded: str) -> bool:
        if key is None:
            return False
        return folded in self.forms.get(locale, {}).get(key, ())

    def command(self, locale: str, folded: str) -> CommandName | None:
        return self.commands.get(locale, {}).get(folded)


def word_forms(text: str) -> frozenset[str]:
    """Forms of a ``words`` text: a comma-separated list of things a person might type."""
    return frozenset(form for part in text.split(",") if (form := fold(part)))


def build_lexicon(
    texts: Mapping[str, Mapping[str, str]],
    placeholders: Mapping[str, frozenset[str]],
    label_keys: Iterable[str],
    word_keys: Iterable[str],
    command_keys: Mapping[CommandName, str],
) -> Lexicon:
    """``texts`` is locale -> key -> raw text."""
    labels = set(label_keys)
    words = set(word_keys)
    forms: dict[str, dict[str, frozenset[str]]] = {}
    commands: dict[str, dict[str, CommandName]] = {}
    for locale, by_key in texts.items():
        into = forms.setdefault(locale, {})
        for key in labels:
            if key in by_key and (folded := fold(by_key[key])):
                into[key] = into.get(key, frozenset()) | {folded}
        for key in words:
            if key in by_key:
                into[key] = into.get(key, frozenset()) | word_forms(by_key[key])
        for name, key in command_keys.items():
            for form in word_forms(by_key.get(key, "")):
                commands.setdefault(locale, {})[form] = name
    return Lexicon(placeholders, forms, commands)
