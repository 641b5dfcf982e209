"""What operators type in the Matrix operator room: each command is read as the room's help
says, ordinary words are left for the person, and only the operators on the allow-list,
written "@user:server = Name", may act."""

from __future__ import annotations

from typing import Any

import pytest

from redirection_bot.errors import ConfigError
from redirection_bot_connectors.operators.matrix.commands import (
    Command,
    Unknown,
    Verb,
    read_command,
)
from redirection_bot_connectors.operators.matrix.options import (
    MatrixOperatorOptions,
    allow_list,
)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("!on", Command(Verb.ON)),
        ("!off", Command(Verb.OFF)),
        ("!queue", Command(Verb.QUEUE)),
        ("!help", Command(Verb.HELP)),
        ("!claim", Command(Verb.CLAIM)),
        ("!close", Command(Verb.CLOSE)),
        ("!close coping", Command(Verb.CLOSE, "coping")),
        ("!close coping.breathing", Command(Verb.CLOSE, "coping.breathing")),
        ("!return coping.breathing", Command(Verb.RETURN, "coping.breathing")),
        ("!return", Command(Verb.RETURN)),
        ("!transfer @ben:helpline.example", Command(Verb.TRANSFER, "@ben:helpline.example")),
        ("!transfer", Command(Verb.TRANSFER)),  # back to the queue
        ("!note they sound calmer now", Command(Verb.NOTE, "they sound calmer now")),
        # what Matrix clients send around what an operator typed
        ("  !claim \n", Command(Verb.CLAIM)),
        ("!CLAIM", Command(Verb.CLAIM)),
        ("!Close  coping ", Command(Verb.CLOSE, "coping")),
        ("!transfer\t@ben:helpline.example", Command(Verb.TRANSFER, "@ben:helpline.example")),
        ("!note\nfirst line\nsecond line", Command(Verb.NOTE, "first line\nsecond line")),
    ],
)
def test_each_command_is_read(text: str, command: Command) -> None:
    assert read_command(text) == command


@pytest.mark.parametrize(
    "text",
    [
        "Take your time, I'm here.",
        "I'm glad you wrote! Tell me more.",  # a "!" inside ordinary words
        "",
        "   ",
        "!",  # a lone exclamation mark goes to the person
        " ! ",
    ],
)
def test_ordinary_words_are_for_the_person(text: str) -> None:
    assert read_command(text) is None


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("!clam", "clam"),
        ("!closed coping", "closed"),
        ("!Hello there", "Hello"),  # kept as typed, so the operator is shown help, not sent it
        ("!!", "!"),
        ("! claim", ""),  # a space after the mark: not a command, and not sent either
    ],
)
def test_a_word_after_the_mark_that_is_no_command_is_unknown(text: str, word: str) -> None:
    assert read_command(text) == Unknown(word)


# --- the allow-list --------------------------------------------------------------------------


def test_allow_list_entries_give_user_ids_and_the_names_people_are_told() -> None:
    assert allow_list(
        (
            "@anna:helpline.example = Anna",
            "@ben.k:matrix.helpline.example:8448=Ben K.",
            "  @night-desk:helpline.example =  Night team  ",
        )
    ) == {
        "@anna:helpline.example": "Anna",
        "@ben.k:matrix.helpline.example:8448": "Ben K.",
        "@night-desk:helpline.example": "Night team",
    }
    assert allow_list(("@anna:helpline.example = Anna",)) == {"@anna:helpline.example": "Anna"}


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (["anna = Anna"], "`anna = Anna` should be a user id and the name the person is told"),
        (["@anna = Anna"], "`@anna = Anna` should be a user id"),
        (["anna:helpline.example = Anna"], "should be a user id"),
        (["@anna helpline.example = Anna"], "should be a user id"),
        (["@anna:helpline.example"], "should be a user id and the name the person is told"),
        (["@anna:helpline.example = "], "should be a user id and the name"),
        ([f"@anna:helpline.example = {'A' * 41}"], "(at most 40 characters)"),
        ([], "list the operators who may take conversations"),
        (
            ["@anna:helpline.example = Anna", "@anna:helpline.example = Ann"],
            "@anna:helpline.example is listed twice",
        ),
    ],
)
def test_allow_list_mistakes_are_explained(entries: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        allow_list(tuple(entries))
    assert message in str(raised.value)
    assert str(raised.value).startswith("handoff.services.<name>.options.operators: ")


GOOD: dict[str, Any] = {
    "homeserver": "https://matrix.helpline.example/",
    "user_id": "@desk:helpline.example",
    "access_token": "syt_desk_token",
    "room": "!operators:helpline.example",
    "operators": ("@anna:helpline.example = Anna",),
    "encryption": False,
}


def test_the_room_is_a_room_id() -> None:
    settings = MatrixOperatorOptions(**GOOD).checked()
    assert settings.room == "!operators:helpline.example"
    assert allow_list(settings.operators) == {"@anna:helpline.example": "Anna"}
    assert settings.homeserver == "https://matrix.helpline.example"
    assert "syt_desk_token" not in repr(settings)
    for room in ("#operators:helpline.example", "operators", "!", "! operators"):
        with pytest.raises(ConfigError, match=r"\.room: give the room's id, which starts with !"):
            MatrixOperatorOptions(**{**GOOD, "room": room}).checked()
