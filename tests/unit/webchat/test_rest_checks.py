"""The REST channel's checks of a message: a sender with a conversation open here is not
read again, which gives the same answer as reading it (only a checked or issued sender
opens one)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from redirection_bot.api import ChoicePicked, CommandGiven, CommandName, Start, Text
from redirection_bot_connectors.webchat.rest import (
    MIN_SENDER_BITS,
    SENDER_RULE,
    _forgets,
    _problem,
    event_from_message,
    sender_bits,
)
from redirection_bot_connectors.webchat.sessions import SessionBook

STRONG = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
WEAK = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"


def _never(sender: str) -> bool:
    return False


def _always(sender: str) -> bool:
    return True


@given(st.text(alphabet="0123456789abcdefABCDEF-_xyzXYZ", max_size=140))
def test_a_sender_that_can_be_held_gets_the_same_answer_known_or_not(sender: str) -> None:
    body = {"sender": sender, "message": "hi"}
    if sender_bits(sender) >= MIN_SENDER_BITS:
        assert _problem(body, _always) == _problem(body, _never)


def test_a_weak_sender_is_refused_unless_its_conversation_is_open() -> None:
    assert _problem({"sender": WEAK, "message": "hi"}, _never) == SENDER_RULE
    assert _problem({"sender": STRONG, "message": "hi"}, _never) is None
    assert _problem({"sender": WEAK, "message": 5}, _always) == '"message" must be a string'
    assert "at most" in str(_problem({"sender": "x" * 129, "message": "hi"}, _always))


def test_the_book_holds_a_sender_once_its_conversation_is_opened() -> None:
    book = SessionBook(10, 60.0, 10, 10, clock=lambda: 0.0)
    assert not book.holds_rest(STRONG)
    book.open_rest(STRONG, "en")
    assert book.holds_rest(STRONG) and not book.holds_rest(WEAK)


def test_what_a_message_stands_for_decides_whether_its_resends_are_forgotten() -> None:
    assert event_from_message("/choice:yes") == ChoicePicked("yes")
    assert _forgets(event_from_message("/restart"), [])
    assert _forgets(event_from_message("/session_start"), [])
    assert not _forgets(event_from_message("hello"), [])
    assert _forgets(Text("hi"), [{"recipient_id": STRONG, "custom": {"erase": True}}])
    assert event_from_message("/help") == CommandGiven(CommandName.HELP)
    assert event_from_message("/session_start") == Start()
