"""The clinicians' phrase syntax: what each construct matches, and mistakes found exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redirection_bot.safety.normalise import Letters, tokenise
from redirection_bot.safety.phrases import (
    PhraseSet,
    PhraseSyntaxError,
    parse_phrase,
    resolve,
)

LISTS = {
    "child": [parse_phrase(entry) for entry in ("child", "kids", "little one", "niece")],
}


def matches(phrase: str, text: str, letters: Letters = Letters.ONE) -> bool:
    phrases = PhraseSet()
    phrases.add(resolve(parse_phrase(phrase, letters), LISTS))
    return bool(phrases.find(tokenise(text, letters)))


@pytest.mark.parametrize(
    ("phrase", "text"),
    [
        ("kill myself", "I want to KILL MYSELF"),
        ("kill myself", "gonna killmyself"),
        ("kill myself", "i want to kil my self"),
        ("(end|take) my [own] life", "i will take my own life"),
        ("(end|take) my [own] life", "end my life"),
        ("suicid*", "feeling suicidal"),
        ("*katu {number}", "asun Aleksanterinkatu 8:ssa"),
        ("want ... die", "i want to really truly die"),
        ("alone with ... {child}", "alone with my little one"),
        ("im {number}", "im 15"),
        ("^agent$", "Agent!"),
        ("alone with {child} & scared", "scared. alone with kids tonight"),
        ("suicide", "sucide thoughts"),
        ("self harm", "selfharm"),
    ],
)
def test_what_a_phrase_matches(phrase: str, text: str) -> None:
    assert matches(phrase, text)


@pytest.mark.parametrize(
    ("phrase", "text"),
    [
        ("kill myself", "kill them myself"),
        ("(end|take) my [own] life", "my own life"),
        ("want ... die", "i want to go. maybe die"),
        ("want ... die", "want one two three four die"),
        ("^agent$", "an estate agent"),
        ("alone with {child} & scared", "alone with kids"),
        ("kill", "kilometre"),
        ("tappaa itseni", "tapaa itseni"),
    ],
)
def test_what_a_phrase_does_not_match(phrase: str, text: str) -> None:
    letters = Letters.TWO if "tappaa" in phrase else Letters.ONE
    assert not matches(phrase, text, letters)


def test_details_marked_words_are_the_spans_to_hide() -> None:
    phrases = PhraseSet()
    phrases.add(resolve(parse_phrase("my name is {words}"), LISTS))
    text = "my name is John Smith, and I need help"
    [(_phrase, match)] = phrases.find(tokenise(text))
    assert [text[start:end] for start, end in match.hidden] == ["John Smith"]


@pytest.mark.parametrize(
    ("phrase", "offset", "message"),
    [
        ("(end|take my life", 17, "a bracket is not closed"),
        ("end) my life", 3, "no matching opening bracket"),
        ("[really|] die", 8, "an empty choice"),
        ("die ...", 0, "belongs between words"),
        ("(a|b)? die", 5, "not part of the phrase syntax"),
        ("{Child} die", 0, "a word list name"),
        ("su*cide", 0, "`*` goes at the start or the end"),
        ("ki* me", 0, "at least three letters"),
        ("a & (b & c)", 7, "joins whole parts"),
        ("[maybe] [perhaps]", 0, "could match without any word"),
        ("   ", 0, "the phrase is empty"),
    ],
)
def test_mistakes_are_reported_at_their_character(phrase: str, offset: int, message: str) -> None:
    with pytest.raises(PhraseSyntaxError) as caught:
        parse_phrase(phrase)
    assert caught.value.offset == offset
    assert message in caught.value.message


@given(st.text(max_size=60))
def test_any_phrase_text_either_parses_or_gets_a_located_error(source: str) -> None:
    try:
        phrase = parse_phrase(source)
    except PhraseSyntaxError as error:
        assert 0 <= error.offset <= len(source)
    else:
        PhraseSet().add(
            resolve(phrase, {"child": LISTS["child"]}) if not phrase.references() else phrase
        )
