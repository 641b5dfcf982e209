"""A choice picked by a sentence that names it: ``"...young people..."`` in a choice's words
counts anywhere in a message, as whole words, when no other choice is named the same way; a
choice ``typed_only`` is taken by its words alone, never shown, pressed or counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from redirection_bot.authoring.testing import MINIMAL_FLOWS, MINIMAL_PROGRAM, load, write_program
from redirection_bot.dialogue.lexicon import NOT_THERE_WORDS_KEY as NOT_THERE
from redirection_bot.dialogue.lexicon import build_lexicon
from redirection_bot.dialogue.model import Program
from redirection_bot.engine import ChoicePicked, Message, Start, Text, Turn, new_state, step

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
      - id: called
        label: main.called
        words: main.called_words
        typed_only: true
        next: called
  called:
    say: main.called_reply
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
  called: "I called them"
  called_words: "...ambulance is on its way..."
  called_reply: "Thank you for calling."
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


@pytest.mark.parametrize("typed", ["person, thanks", "A person. Now please", "person - now"])
def test_an_answers_first_part_picks_its_choice(program: Program, typed: str) -> None:
    assert said(program, typed) == ["main.person_reply", "main.bye"]


@pytest.mark.parametrize("typed", ["person, but not yet", "youth. Though maybe a person"])
def test_a_first_part_the_rest_turns_round_picks_nothing(program: Program, typed: str) -> None:
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


def test_a_place_the_person_says_they_are_not_in_is_not_mentioned() -> None:
    lexicon = build_lexicon(
        {"en": {"w.us": "...the us..., ...usa...", "w.ie": "...ireland...", NOT_THERE: "not in"}},
        {},
        [],
        ["w.us", "w.ie", NOT_THERE],
        {},
    )
    assert not lexicon.mentions("en", "w.us", "im not in the us", NOT_THERE)
    assert lexicon.mentions("en", "w.ie", "im not in the us im in ireland", NOT_THERE)
    assert lexicon.mentions("en", "w.us", "not in the mood. in the us", NOT_THERE)  # said again
    assert lexicon.mentions("en", "w.us", "im not in the us", None)  # only where asked


# --- a slot's values, typed in one's own words (``words`` of a choice or list slot) ---------

ASK_MOOD = {"main": MINIMAL_FLOWS["main"]}  # asks for `mood`, a choice slot
MOOD_WORDS = MINIMAL_PROGRAM.replace(
    "      bad: main.mood_bad\n",
    "      bad: main.mood_bad\n    words:\n      good: main.good_words\n      bad: main.bad_words\n",
)
MOOD_TEXTS = {
    "main.en.yml": """\
en:
  question: "How are you?"
  bye: "Bye."
  mood_good: "Good"
  mood_bad: "Bad"
  good_words: "fine, ok, ...doing well..."
  bad_words: "awful, ...not doing well..., ...rough day..."
""",
}


@pytest.fixture
def moods(tmp_path: Path) -> Program:
    return load(write_program(tmp_path, MOOD_WORDS, ASK_MOOD, MOOD_TEXTS), tmp_path).program


def mood(program: Program, typed: str) -> object:
    turn: Turn = step(program, new_state(program), Start())
    return step(program, turn.state, Text(typed)).state.slots.get("mood")


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("Fine!", "good"),  # a whole-message word
        ("honestly im doing well today", "good"),  # a phrase inside a sentence
        ("bit of a rough day tbh", "bad"),
        ("Bad", "bad"),  # the label still counts
        # "doing well" said only inside "not doing well": that longer phrase's value (the
        # thirty-third round; it was asked again, both named)
        ("im not doing well, a rough day", "bad"),
        ("a rough day but doing well now", None),  # two values named: asked again
        ("i'm fine thanks", None),  # "fine" counts as the whole message only
    ],
)
def test_a_slot_value_typed_in_ones_own_words_is_taken(
    moods: Program, typed: str, value: object
) -> None:
    assert mood(moods, typed) == value


def test_words_for_a_value_the_slot_does_not_have_are_located(tmp_path: Path) -> None:
    from redirection_bot.authoring.testing import diagnose

    typo = MOOD_WORDS.replace("      good: main.good_words", "      gud: main.good_words")
    found = diagnose(write_program(tmp_path, typo, ASK_MOOD, MOOD_TEXTS))
    errors = [d.format() for d in found.items if d.severity == "error"]
    assert len(errors) == 1
    assert errors[0].endswith(
        "dialogues/program.yaml:13:7: error: `gud` is not one of the values of `mood`"
    )


def test_a_choice_only_typed_is_taken_by_its_words_and_never_shown_or_counted(
    program: Program,
) -> None:
    start = step(program, new_state(program), Start())
    (asked,) = [o for o in start.outputs if isinstance(o, Message) and o.choices]
    assert [c.id for c in asked.choices] == ["youth", "person", "carry_on"]
    assert said(program, "ok i rang, the ambulance is on its way") == [
        "main.called_reply",
        "main.bye",
    ]
    assert said(program, "I called them") == ["engine.not_understood"]  # its label is never seen
    assert said(program, "4") == ["engine.not_understood"]  # three buttons: no fourth
    pressed = step(program, start.state, ChoicePicked("called"))
    assert "main.called_reply" not in [o.key for o in pressed.outputs if isinstance(o, Message)]
