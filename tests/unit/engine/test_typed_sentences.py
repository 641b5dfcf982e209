"""A choice picked by a sentence that names it: ``"...young people..."`` in a choice's words
counts anywhere in a message, as whole words, when no other choice is named the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from redirection_bot.authoring.testing import MINIMAL_PROGRAM, load, write_program
from redirection_bot.dialogue.lexicon import build_lexicon
from redirection_bot.dialogue.model import Program
from redirection_bot.engine import Message, Start, Text, Turn, new_state, step

FLOWS = {
    "main": """\
flow: main
start: ask
nodes:
  ask:
    say: main.question
    choices:
      - id: youth
        label: main.youth
        words: main.youth_words
        next: youth
      - id: person
        label: main.person
        words: main.person_words
        next: person
      - id: carry_on
        label: main.carry_on
        next: bye
  youth:
    say: main.youth_reply
    next: bye
  person:
    say: main.person_reply
    next: bye
  bye:
    say: main.bye
    end: true
""",
}

LOCALES = {
    "main.en.yml": """\
en:
  question: "What would you like?"
  youth: "Services for young people"
  youth_words: "youth, ...young people..., ...for teens\u2026"
  person: "A person"
  person_words: "person, ...a counsellor..."
  carry_on: "Carry on"
  youth_reply: "Here they are."
  person_reply: "I'll ask."
  bye: "Bye."
  mood_good: "Good"
  mood_bad: "Bad"
""",
}


@pytest.fixture
def program(tmp_path: Path) -> Program:
    return load(write_program(tmp_path, MINIMAL_PROGRAM, FLOWS, LOCALES), tmp_path).program


def said(program: Program, typed: str) -> list[str]:
    turn: Turn = step(program, new_state(program), Start())
    turn = step(program, turn.state, Text(typed))
    return [o.key for o in turn.outputs if isinstance(o, Message)]


@pytest.mark.parametrize(
    "typed",
    [
        "is there anything for young people like me?",
        "Young People!",
        "something for teens maybe",  # the ellipsis character counts as three dots
        "youth",
    ],
)
def test_a_sentence_naming_one_choice_picks_it(program: Program, typed: str) -> None:
    assert said(program, typed) == ["main.youth_reply", "main.bye"]


@pytest.mark.parametrize(
    "typed",
    [
        "young people or a counsellor, i cant choose",  # two choices named: neither
        "i want youth services",  # "youth" counts as the whole message only
        "youngpeople",  # whole words only
        "a person for young people and a counsellor",  # still two
    ],
)
def test_a_sentence_naming_no_choice_or_two_is_asked_again(program: Program, typed: str) -> None:
    assert said(program, typed) == ["engine.not_understood"]


def test_whole_message_words_come_before_phrases_found_inside() -> None:
    lexicon = build_lexicon(
        {"en": {"w.youth": "youth, ...young people...", "w.person": "person"}},
        {},
        [],
        ["w.youth", "w.person"],
        {},
    )
    assert lexicon.matches("en", "w.youth", "youth")
    assert not lexicon.matches("en", "w.youth", "young people")  # only found inside
    assert lexicon.mentions("en", "w.youth", "anything for young people")
    assert not lexicon.mentions("en", "w.person", "a person please")
    assert not lexicon.mentions("en", None, "young people")
