"""A REST conversation's first words are read too.

As in Rasa, a REST client's first message opens the conversation and the greeting answers it.
The words themselves were dropped unread: "i want to end my life tonight" as the first message
got the welcome and nothing else, and resume words typed as a new sender brought nobody back.
Now words in which screening raises anything, and resume words, are taken after the greeting.
"""

from __future__ import annotations

import secrets

from tests.integration.webchat.conftest import runtime_of, text_of
from tests.security.conftest import Client, rest
from tests.security.test_resume_limits import a_phrase

GREETING = "welcome.hello"


def texts(answer: list[dict[str, object]]) -> list[object]:
    return [item.get("text") for item in answer]


async def test_a_risk_in_the_first_message_starts_the_safety_flow_under_the_greeting(
    client: Client,
) -> None:
    sender = secrets.token_hex(16)
    status, answer = await rest(client, sender, "i want to end my life tonight")
    assert status == 200
    shown = texts(answer)
    assert shown[0] == text_of(client, GREETING)
    state = await runtime_of(client).state("rest:" + sender)
    assert state is not None and "suicide" in state.risks
    assert state.at is not None and state.at.flow == "safety_suicide"
    assert len(shown) > 3  # the greeting's texts, then the safety flow's


async def test_ordinary_first_words_get_the_greeting_alone(client: Client) -> None:
    for first in ("hi", "hello there", "/session_start"):
        sender = secrets.token_hex(16)
        _status, answer = await rest(client, sender, first)
        _status, again = await rest(client, secrets.token_hex(16), "hey")
        assert texts(answer) == texts(again)  # the same greeting, nothing after it
        state = await runtime_of(client).state("rest:" + sender)
        assert state is not None and state.risks == ()


async def test_resume_words_as_the_first_message_bring_the_conversation_back(
    client: Client,
) -> None:
    phrase = await a_phrase(client)
    _status, answer = await rest(client, secrets.token_hex(16), phrase)
    assert text_of(client, "resume.restored") in texts(answer)


async def test_a_first_message_too_long_to_read_is_told_so_after_the_greeting(
    client: Client,
) -> None:
    sender = secrets.token_hex(16)
    _status, answer = await rest(client, sender, "today was long. " * 200)  # 3,200 characters
    shown = texts(answer)
    assert shown[0] == text_of(client, GREETING)
    assert text_of(client, "engine.too_long") in shown[1:]  # then the question again


async def test_a_question_the_program_answers_as_the_first_message_is_answered(
    client: Client,
) -> None:
    """The fifty-sixth retest: "is this thing anonymous" or "im in australia, do you have a
    number" as a REST client's first words got the greeting alone."""
    _status, greeting = await rest(client, secrets.token_hex(16), "hi")
    for first in ("is this thing anonymous", "im in australia, do you have a number"):
        _status, answer = await rest(client, secrets.token_hex(16), first)
        shown = texts(answer)
        assert shown[: len(greeting)] == texts(greeting)
        assert len(shown) > len(greeting), first
        if "anonymous" in first:
            assert text_of(client, "welcome.anonymity") in shown
