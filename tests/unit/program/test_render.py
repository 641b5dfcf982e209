"""Rendering at the edge: a message with nothing of a conversation in it is rendered once and
shown to every conversation; anything filled from a conversation is never kept."""

from __future__ import annotations

import pytest

from redirection_bot.diagnostics import Span
from redirection_bot.engine.outputs import ChoiceOption, Label, Message
from redirection_bot.language.i18n import Catalog, Entry
from redirection_bot.program import render
from redirection_bot.program.render import Renderer, ShownChoice, ShownMessage

HERE = Span("x.yml", 1, 1)
TEXTS = {
    "q.how": "How are you? Call 112 ‹now›\u2028or later",
    "q.hi": "Hello %{name}",
    "c.fine": "Fine",
    "c.named": "I am %{name}",
}


def catalog() -> Catalog:
    entries = {
        locale: {key: Entry(key, locale, f"{locale}: {text}", HERE) for key, text in TEXTS.items()}
        for locale in ("en", "fi")
    }
    return Catalog(entries, "en")


FINE = ChoiceOption("fine", Label("c.fine"))
SCALE = ChoiceOption("7", 7)


def test_a_message_without_parameters_is_rendered_once_and_the_same() -> None:
    renderer = Renderer(catalog())
    message = Message("q.how", choices=(FINE, SCALE), expects_text=True)
    first = renderer.message(message, "fi")
    assert first == ShownMessage(
        "q.how",
        "fi: How are you? Call 112 ‹now›\u2028or later",
        (ShownChoice("fine", "fi: Fine"), ShownChoice("7", "7", 7)),
        expects_text=True,
    )
    assert renderer.message(message, "fi") is first
    assert Renderer(renderer._catalog).message(message, "fi") is first  # another turn's
    assert Renderer(catalog()).message(message, "fi") == first  # nothing kept: the same
    assert renderer.message(message, "en").text.startswith("en: ")
    assert renderer.message(Message("q.how", choices=(FINE,)), "fi").choices == first.choices[:1]


def test_what_a_conversation_filled_in_is_never_kept() -> None:
    kept = catalog()
    renderer = Renderer(kept)
    aino = renderer.message(Message("q.hi", {"name": "Aino"}), "en")
    bob = renderer.message(Message("q.hi", {"name": "Bob"}), "en")
    assert (aino.text, bob.text) == ("en: Hello Aino", "en: Hello Bob")
    named = ChoiceOption("me", Label("c.named", params=(("name", "Aino"),)))
    said = renderer.message(Message("q.how", choices=(named,)), "en")
    assert said.choices[0].label == "en: I am Aino"
    picked = renderer.message(Message("q.how", choices=(ChoiceOption("f", 1, True),)), "en")
    assert picked.choices[0].picked
    assert render._RENDERED[kept] == {}


def test_at_most_shown_kept_messages_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "SHOWN_KEPT", 3)
    kept = catalog()
    renderer = Renderer(kept)
    for number in range(10):
        option = ChoiceOption(str(number), number)
        shown = renderer.message(Message("q.how", choices=(option,)), "en")
        assert shown.choices == (ShownChoice(str(number), str(number), number),)
        assert len(render._RENDERED[kept]) <= 3


def test_a_text_said_twice_in_one_turn_is_shown_once_where_it_asks() -> None:
    # The forty-eighth retest: "Emergency number: 000" twice in one turn, from the fallback
    # and from the services a crisis flow lists.
    renderer = Renderer(catalog())
    hello = Message("q.hi", {"name": "Aino"})
    said = [hello, Message("q.how"), hello, Message("q.how", choices=(FINE,))]
    shown = renderer.reply(said, "en")
    assert [item.key for item in shown if isinstance(item, ShownMessage)] == ["q.hi", "q.how"]
    assert isinstance(shown[-1], ShownMessage) and shown[-1].choices  # the one that asks
    other = Message("q.hi", {"name": "Bob"})
    assert len(renderer.reply([hello, other], "en")) == 2  # the same key, another text
