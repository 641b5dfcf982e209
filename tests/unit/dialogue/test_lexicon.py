"""The lexicon: what a person may type, read from the texts once at load."""

from __future__ import annotations

from redirection_bot.dialogue.lexicon import (
    LANGUAGE_WORDS_KEY,
    Lexicon,
    build_lexicon,
    held_alone,
    typed_word_keys,
)
from redirection_bot.dialogue.model import CommandName

TEXTS = {
    "en": {"numbers.8": "eight", "numbers.10": "ten", "language.name": "English"},
    "fi": {"numbers.8": "kahdeksan, kaheksan", LANGUAGE_WORDS_KEY: "finnish, finés, suomeksi"},
}


def lexicon() -> Lexicon:
    return build_lexicon(
        TEXTS, {}, ["language.name"], [], {CommandName.STOP: "commands.stop.words"}
    )


def test_numbers_written_as_words_are_read_in_their_own_locale_only() -> None:
    words = lexicon()
    assert words.number("en", "eight") == 8
    assert words.number("en", "ten") == 10
    assert words.number("fi", "kaheksan") == 8
    assert words.number("fi", "eight") is None
    assert words.number("en", "kahdeksan") is None


def test_a_languages_other_names_are_words_for_it() -> None:
    words = lexicon()
    assert words.matches("fi", LANGUAGE_WORDS_KEY, "finnish")
    assert words.matches("fi", LANGUAGE_WORDS_KEY, "fines")  # accents are folded away
    assert not words.matches("en", LANGUAGE_WORDS_KEY, "finnish")


def test_only_the_engines_own_word_keys_are_typed_words() -> None:
    keys = ["numbers.8", "numbers.ten", "numbers", "language.words", "language.name", "x.numbers.8"]
    assert typed_word_keys(keys) == ["numbers.8", "language.words"]


def test_a_commands_phrase_words_count_inside_a_sentence_but_never_for_stop() -> None:
    texts = {
        "en": {
            "commands.help.words": "help, ...number i can call...",
            "commands.stop.words": "stop, ...stop...",
        }
    }
    keys = {CommandName.HELP: "commands.help.words", CommandName.STOP: "commands.stop.words"}
    words = build_lexicon(texts, {}, [], [], keys)
    assert words.mentioned_command("en", "is there a number i can call") is CommandName.HELP
    assert words.command("en", "is there a number i can call") is None  # not the whole message
    assert words.mentioned_command("en", "i want to stop before i lose my family") is None


def test_a_number_mark_in_a_phrase_holds_any_number_written_in_digits() -> None:
    texts = {"en": {"safety.taken_words": "...took # pills..., ...took a handful..."}}
    words = build_lexicon(texts, {}, [], ["safety.taken_words"], {})
    assert words.mentions("en", "safety.taken_words", "i took 30 pills and i want to die")
    assert words.mentions("en", "safety.taken_words", "took 2 pills")
    assert words.mentions("en", "safety.taken_words", "i took a handful")
    assert not words.mentions("en", "safety.taken_words", "i took pills")  # no number
    assert not words.mentions("en", "safety.taken_words", "i took thirty pills")  # not digits
    assert not words.mentions("en", "safety.taken_words", "i took 0")
    # a phrase written without the mark still reads only its own digits
    exact = build_lexicon({"en": {"k": "...called 911..."}}, {}, [], ["k"], {})
    assert exact.mentions("en", "k", "i called 911 already")
    assert not exact.mentions("en", "k", "i called 112 already")


def test_the_phrases_a_message_holds_are_named_as_written() -> None:
    """What ``Step.mentioned`` compares to tell a phrase held inside a longer one ("not
    tonight" inside "not tonight tomorrow") from one of its own."""
    words = build_lexicon(
        {"en": {"later": "...not tonight tomorrow..., ...took # already..., tomorrow"}},
        {},
        [],
        ["later"],
        {},
    )
    assert words.phrases_held("en", "later", "not tonight tomorrow i think") == (
        "not tonight tomorrow",
    )
    assert words.phrases_held("en", "later", "i took 5 already") == ("took 0 already",)
    assert words.phrases_held("en", "later", "tomorrow") == ()  # a whole answer, not a phrase
    assert words.phrases_held("en", None, "anything") == ()


def test_a_phrase_inside_a_longer_one_stands_alone_only_where_it_is_said_again() -> None:
    """ "no me quiero matar" (not now) holds "me quiero matar" (in danger): said once, the
    shorter is the longer one's; said again on its own, it counts too."""
    longer = ["no me quiero matar", "me quiero matar"]
    assert not held_alone("no no me quiero matar es por la nina", "me quiero matar", longer)
    assert held_alone("no me quiero matar pero a veces me quiero matar", "me quiero matar", longer)
    assert held_alone("not tonight tomorrow", "not tonight tomorrow", ["not tonight"])
    assert held_alone("took 5 already", "took 0 already", [])  # numbers read as counted
