"""The shipped program, walked in every locale: what a person reads is there, short, and translated.

The walk replays the clinicians' conversation tests (tests/conversations) in English, Spanish
and Finnish. A script is replayed only where its steps mean the same in every language:
choices by id, commands, numbers and the person's own words; a script that types a button's
label or a command word is English-only and is left out of the walk. Every replay must take
the same path in every locale, so that each message can be compared with its English twin.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from redirection_bot.authoring.conversation_tests import ConversationScript, load_scripts
from redirection_bot.authoring.testing import load, make_runtime
from redirection_bot.diagnostics import Diagnostics
from redirection_bot.dialogue.model import ELSEWHERE_SUFFIX, CommandName, SlotType
from redirection_bot.engine import ChoicePicked, CommandGiven, Event, Start, Text
from redirection_bot.engine.state import SessionState, Waiting
from redirection_bot.engine.step import typed_answer
from redirection_bot.language.textnorm import fold
from redirection_bot.program.load import LoadedProgram, ProgramSources
from redirection_bot.program.render import ShownMessage
from redirection_bot.turn.runtime import RuntimeSettings
from tests.helpers import REPOSITORY

CONVERSATIONS = REPOSITORY / "tests" / "conversations"
TRANSLATED = ("es", "fi")
MAX_MESSAGE_LENGTH = 600
SERVICES_PREFIX = "services."
MODULES = (
    "welcome",
    "about",
    "menu",
    "motivation",
    "self_assessment",
    "understanding",
    "triggers",
    "feelings",
    "coping",
    "thinking",
    "good_life",
    "relapse",
    "further_help",
    "find_service",
    "plan",
    "support",
)
"""The flows of the self-help program itself (the safety flows are walked by their own tests)."""
SAME_AS_ENGLISH = {
    "es": {
        "engine.no",
        "countries.co",
        "countries.ar",
        "countries.au",
        "countries.cl",
        "countries.de_words",
        "countries.za_words",
        "operators.urgency.normal",
    },
    "fi": {"countries.au", "countries.pe", "countries.cl"},
}
"""Texts that are rightly the same in English as in a locale: in Spanish "No", four country
names, the places typed for two more (city names, in every language), and the operator
room's "normal" urgency; in Finnish "Australia", "Peru" and "Chile"."""


@dataclass(frozen=True, slots=True)
class Walk:
    """One replayed script: the messages of each turn, and the nodes passed through."""

    turns: tuple[tuple[ShownMessage, ...], ...]
    visited: frozenset[str]


def english_scripts() -> list[ConversationScript]:
    diagnostics = Diagnostics()
    scripts = [
        script
        for path in sorted(CONVERSATIONS.glob("*.yaml"))
        # screening words and typed words ("eight", "ocho") differ by locale
        if not path.name.startswith(("safety", "typed_words"))
        for script in load_scripts(path, diagnostics)
        if script.locale in (None, "en")
    ]
    assert not diagnostics.has_errors()
    return scripts


def typed_words(script: ConversationScript) -> list[str]:
    return [str(step.value) for step in script.steps if step.kind == "say"]


def is_typed_answer(loaded: LoadedProgram, state: SessionState | None) -> bool:
    """Whether the conversation waits for the person's own words or a number."""
    if state is None or state.waiting is not Waiting.ANSWER or state.at is None:
        return False
    node = loaded.program.node(state.at.flow, state.at.node)
    if node.input is None:
        return False
    return loaded.program.slots[node.input.slot].type in (SlotType.TEXT, SlotType.INTEGER)


def english_words_only(loaded: LoadedProgram, state: SessionState, typed: str) -> bool:
    """Whether English words typed here are an answer offered or a command in some of the
    program's languages and not in others ("nothing honestly", "is there a number i can
    call"): a script typing them is left out of every locale's walk."""
    taken = {
        typed_answer(loaded.program, replace(state, locale=locale), typed)
        for locale in ("en", *TRANSLATED)
    }
    lexicon = loaded.program.lexicon
    asks = lexicon is not None and lexicon.mentioned_command("en", fold(typed)) is not None
    return len(taken) > 1 or asks


def person_event(kind: str, value: object, argument: object) -> Event:
    if kind == "say":
        return Text(str(value))
    if kind == "choose":
        return ChoicePicked(str(value))
    return CommandGiven(CommandName(str(value)), None if argument is None else str(argument))


async def replay(loaded: LoadedProgram, script: ConversationScript, locale: str) -> Walk | None:
    """The script's person steps in ``locale``; None when it types English words."""
    # Played as the conversation tests play it: with a helpline, unless the script says none.
    runtime = make_runtime(loaded, RuntimeSettings(assume_helpline=not script.no_helpline))
    session = f"walk-{locale}"
    reply = await runtime.handle(session, Start(locale))
    turns = [tuple(reply.messages)]
    visited = set(reply.trace)
    for step in script.steps:
        if step.kind not in ("say", "choose", "command"):
            continue
        if step.kind == "say" and not is_typed_answer(loaded, reply.state):
            return None
        if step.kind == "say" and english_words_only(loaded, reply.state, str(step.value)):
            return None  # "nothing honestly", "is there a number i can call": English words
        if step.kind == "command" and step.value == "language":
            return None  # the walk compares one locale at a time
        event = person_event(step.kind, step.value, step.modifiers.get("argument"))
        reply = await runtime.handle(session, event)
        turns.append(tuple(reply.messages))
        visited.update(reply.trace)
    await runtime.erase(session)
    return Walk(tuple(turns), frozenset(visited))


def names_and_numbers(loaded: LoadedProgram) -> list[str]:
    """What may rightly read the same in every language: service names and contacts."""
    found = []
    for service in loaded.services.services:
        found.append(service.name)
        found.extend(contact.value for contact in service.contacts)
    return sorted(found, key=len, reverse=True)


def words_only(text: str, invariant: list[str]) -> str:
    """A text without names, contacts, the person's own words, numbers and punctuation."""
    for name in invariant:
        text = text.replace(name, " ")
    return re.sub(r"[\W\d_]+", " ", text).strip().casefold()


def message_pairs(english: Walk, other: Walk) -> Iterator[tuple[ShownMessage, ShownMessage]]:
    """Each message with its English twin; the services shown rightly differ by language, and
    a text a locale varies for an unlisted country (``_elsewhere``: Spanish names Colombia's
    and Mexico's numbers in its plain text) is the twin of the plain one."""
    assert len(english.turns) == len(other.turns)
    for english_turn, other_turn in zip(english.turns, other.turns, strict=True):
        english_said = [m for m in english_turn if not m.key.startswith(SERVICES_PREFIX)]
        other_said = [m for m in other_turn if not m.key.startswith(SERVICES_PREFIX)]
        plain = [m.key.removesuffix(ELSEWHERE_SUFFIX) for m in other_said]
        assert plain == [m.key.removesuffix(ELSEWHERE_SUFFIX) for m in english_said]
        yield from zip(english_said, other_said, strict=True)


@pytest.fixture(scope="module")
def shipped_module() -> LoadedProgram:
    return load(ProgramSources(REPOSITORY / "dialogues", REPOSITORY / "locales"), REPOSITORY)


@pytest.fixture(scope="module")
def walks(shipped_module: LoadedProgram) -> dict[str, list[tuple[ConversationScript, Walk]]]:
    async def walk_all() -> dict[str, list[tuple[ConversationScript, Walk]]]:
        found: dict[str, list[tuple[ConversationScript, Walk]]] = {}
        for locale in ["en", *TRANSLATED]:
            found[locale] = []
            for script in english_scripts():
                walked = await replay(shipped_module, script, locale)
                if walked is not None:
                    found[locale].append((script, walked))
        return found

    return asyncio.run(walk_all())


@pytest.mark.parametrize("locale", ["en", *TRANSLATED])
def test_the_walk_visits_every_node_of_the_program(
    shipped_module: LoadedProgram,
    walks: dict[str, list[tuple[ConversationScript, Walk]]],
    locale: str,
) -> None:
    visited = set().union(*(walk.visited for _script, walk in walks[locale]))
    missing = [
        f"{flow}.{node}"
        for flow in MODULES
        for node in shipped_module.program.flows[flow].nodes
        if f"{flow}.{node}" not in visited
    ]
    assert missing == []


@pytest.mark.parametrize("locale", ["en", *TRANSLATED])
def test_no_message_is_empty_or_too_long(
    walks: dict[str, list[tuple[ConversationScript, Walk]]], locale: str
) -> None:
    for script, walk in walks[locale]:
        for turn in walk.turns:
            for message in turn:
                where = f"{message.key} in {script.name!r} ({locale})"
                assert message.text.strip(), f"{where} is empty"
                assert len(message.text) <= MAX_MESSAGE_LENGTH, f"{where} is too long"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_no_message_is_left_in_english(
    shipped_module: LoadedProgram,
    walks: dict[str, list[tuple[ConversationScript, Walk]]],
    locale: str,
) -> None:
    english = {script.name: walk for script, walk in walks["en"]}
    assert {script.name for script, _walk in walks[locale]} == set(english)
    for script, walk in walks[locale]:
        invariant = names_and_numbers(shipped_module) + typed_words(script)
        for english_message, message in message_pairs(english[script.name], walk):
            original = words_only(english_message.text, invariant)
            if message.key in SAME_AS_ENGLISH.get(locale, ()) or not original:
                continue
            assert words_only(message.text, invariant) != original, (
                f"{message.key} reads the same in {locale} as in English: {message.text!r}"
            )


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_text_and_label_is_translated(shipped_module: LoadedProgram, locale: str) -> None:
    """Beyond the walk: every text of the program's own namespaces, labels included."""
    catalog = shipped_module.catalog
    invariant = names_and_numbers(shipped_module)
    owned = {Path(path).name.split(".")[0] for path in (REPOSITORY / "locales").glob("*.en.yml")}
    owned -= {"safety", "webchat", "matrix", "resume"}
    untranslated = []
    for entry in catalog.entries("en"):
        if entry.key.split(".", 1)[0] not in owned:
            continue
        other = catalog.entry(entry.key, locale)
        assert other is not None and other.locale == locale, f"{entry.key} is missing in {locale}"
        original = re.sub(r"%\{\w+\}", " ", entry.text)
        translated = re.sub(r"%\{\w+\}", " ", other.text)
        if not words_only(original, invariant) or entry.key in SAME_AS_ENGLISH.get(locale, ()):
            continue
        if words_only(original, invariant) == words_only(translated, invariant):
            untranslated.append(entry.key)
    assert untranslated == []
