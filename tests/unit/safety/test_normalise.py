"""Normalising what people type: the same folding for messages and for the clinicians' rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redirection_bot.safety.normalise import (
    MAX_FORM,
    Letters,
    fold_form,
    tokenise,
    within_one_edit,
)


def forms(text: str, letters: Letters = Letters.ONE) -> list[str]:
    return [token.form for token in tokenise(text, letters)]


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("I want to KILL myself!!!", ["i", "want", "to", "kil", "myself"]),
        ("killlll myselfff", ["kil", "myself"]),
        ("pleeease", ["please"]),
        ("don't", ["dont"]),
        ("don’t", ["dont"]),
        ("Niño tyttö SUICIDÉ", ["nino", "tyto", "suicide"]),
        ("k1ll mys3lf", ["kil", "myself"]),
        ("su1c1d3", ["suicide"]),
        ("h@te $elf", ["hate", "self"]),
        ("self-harm", ["self", "harm"]),
        ("16yo here", ["16", "yo", "here"]),
        ("15 y/o", ["15", "y", "o"]),
        ("16-vuotias", ["16", "vuotias"]),
        ("i want to k i l l myself", ["i", "want", "to", "kil", "myself"]),
        ("k.i.l.l m.y.s.e.l.f", ["kil", "myself"]),
        ("k i l l  m y s e l f", ["kil", "myself"]),
        ("k_u_o_l_l_a", ["kuola"]),
        ("d.i.e", ["die"]),
        ("r u a bot", ["r", "u", "a", "bot"]),
        ("ⓘ ⓦⓐⓝⓣ ⓣⓞ ⓓⓘⓔ", ["i", "want", "to", "die"]),
        ("🇩🇮🇪", ["die"]),
        ("k\u0303\u0303\u0303i\u0303\u0303l\u0303l\u0303", ["kil"]),
        ("#IWantToDie", ["i", "want", "to", "die"]),
        ("#WhatsApp #TikTok", ["whatsap", "tiktok"]),
        ("my tag is xXDarkRiderXx", ["my", "tag", "is", "xdarkriderx"]),
        ("i c u", ["i", "c", "u"]),
    ],
)
def test_how_typing_is_read(typed: str, read: list[str]) -> None:
    assert forms(typed) == read


def test_numbers_stay_numbers_and_are_never_read_as_letters() -> None:
    tokens = tokenise("im 15 and 1000 days")
    assert [(t.form, t.is_number) for t in tokens if t.is_number] == [("15", True), ("1000", True)]


def test_finnish_keeps_double_letters_that_change_the_word() -> None:
    assert forms("tapaa tappaa oon on", Letters.TWO) == ["tapaa", "tappaa", "oon", "on"]
    assert forms("tappaaaa kuollaaaa", Letters.TWO) == ["tappaa", "kuollaa"]
    assert fold_form("oon") == fold_form("on")  # why Finnish needs Letters.TWO


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("Hi, I'm 16yo!", [("Hi", "hi"), ("I'm", "im"), ("16", "16"), ("yo", "yo")]),
        ("to m o r i r ya", [("to", "to"), ("m o r i r", "morir"), ("ya", "ya")]),
        ("#IWantTo go", [("I", "i"), ("Want", "want"), ("To", "to"), ("go", "go")]),
    ],
    ids=["words and numbers", "a word spelt out", "a hashtag's parts"],
)
def test_tokens_keep_their_place_in_the_text_for_redaction(
    text: str, spans: list[tuple[str, str]]
) -> None:
    assert [(text[t.start : t.end], t.form) for t in tokenise(text)] == spans


@pytest.mark.parametrize(
    "typed",
    ["xyz" * 7_000, "#AbCdEf" + "xyz" * 7_000, "x y z " * 3_500],
    ids=["one word", "a hashtag's last part", "spelt out"],
)
def test_no_token_is_enormous_however_the_word_was_typed(typed: str) -> None:
    """The matcher's cost grows with a word's length (typing mistakes, look-ups): every way a
    word is read is cut into pieces of at most ``MAX_FORM`` letters."""
    tokens = tokenise(typed)
    assert tokens and max(len(token.form) for token in tokens) <= MAX_FORM


def test_punctuation_separates_clauses_for_negation() -> None:
    tokens = tokenise("not ok, i want to die. really")
    assert [t.clause for t in tokens] == [0, 0, 1, 1, 1, 1, 2]
    assert [t.sentence for t in tokens] == [0, 0, 0, 0, 0, 0, 1]


@pytest.mark.parametrize(
    ("typed", "wanted", "close"),
    [
        ("sucide", "suicide", True),
        ("suicdie", "suicide", True),
        ("suiciide", "suicide", True),
        ("chidlren", "children", True),
        ("downing", "drowning", False),
        ("laughter", "daughter", False),
        ("myslf", "myself", True),
        ("mysel", "myself", True),
        ("xuicide", "suicide", False),
        ("sucid", "suicide", False),
    ],
)
def test_one_typing_mistake_is_tolerated_only_where_safe(
    typed: str, wanted: str, close: bool
) -> None:
    assert within_one_edit(typed, wanted) is close


@given(st.text())
def test_any_text_tokenises_with_spans_inside_it(text: str) -> None:
    for letters in Letters:
        for token in tokenise(text, letters):
            assert 0 <= token.start < token.end <= len(text)
            assert token.form
