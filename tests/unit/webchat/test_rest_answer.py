"""The REST channel's answers: a message's part is made and encoded once, each answer puts its
own recipient first, and the bytes sent are those ``json.dumps(answer, ensure_ascii=False)``
writes."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from redirection_bot.api import (
    HandoffKeys,
    ShownChoice,
    ShownEnd,
    ShownHandoff,
    ShownMessage,
    ShownOperator,
)
from redirection_bot_connectors.webchat.chat import with_newer_notices
from redirection_bot_connectors.webchat.rest import answer
from redirection_bot_connectors.webchat.rest_answer import answer_json

AWKWARD = 'Soita 112 "nyt" \\ ‹tänään›\u2028\u2029\x00\x1f 😀 \ud83d'
ANNA = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
BEN = "Zm9vYmFyYmF6cXV4X19fX2FiY2RlZmdo"


def _question(text: str = AWKWARD) -> ShownMessage:
    choices = (ShownChoice("yes", "Kyllä ✓"), ShownChoice("tea", "Tee\u2028", picked=True))
    return ShownMessage("q.how", text, choices, True)


def test_answers_are_written_as_json_dumps_writes_them() -> None:
    question = _question()
    shown = (
        ShownOperator("Anna ‹tuki›", AWKWARD),
        ShownMessage("q.plain", "Hei"),
        question,
        ShownHandoff("asked", "normal", "flow"),
        ShownEnd(erase=True),
    )
    for sender in (ANNA, BEN):
        items = answer(sender, shown)
        assert answer_json(items) == json.dumps(items, ensure_ascii=False)
    assert answer_json([]) == "[]"
    assert json.loads(answer_json(answer(ANNA, (question,)))) == [
        {
            "recipient_id": ANNA,
            "text": AWKWARD,
            "buttons": [
                {"title": "Kyllä ✓", "payload": "/choice:yes"},
                {"title": "Tee\u2028", "payload": "/choice:tea", "picked": True},
            ],
        }
    ]


def test_one_message_in_two_conversations_differs_only_in_its_recipient() -> None:
    question = _question()
    anna, ben = answer(ANNA, (question,)), answer(BEN, (question,))
    assert anna[0]["buttons"] is ben[0]["buttons"]  # made once
    assert answer_json(anna) == answer_json(ben).replace(BEN, ANNA)
    assert ANNA not in answer_json(ben)
    assert question.forms is not None and len(question.forms) == 1


def test_each_message_keeps_its_own_part() -> None:
    first, second = _question("Hello Anna"), _question("Hello Ben")
    answer(ANNA, (first,))
    assert json.loads(answer_json(answer(BEN, (second,))))[0]["text"] == "Hello Ben"


@given(st.text(), st.text(), st.text())
def test_any_text_is_written_as_json_dumps_writes_it(sender: str, text: str, label: str) -> None:
    items = answer(sender, (ShownMessage("k", text, (ShownChoice(label, label),)),))
    items.append({"recipient_id": sender, "text": label})
    assert answer_json(items) == json.dumps(items, ensure_ascii=False)


def test_a_newer_waiting_notice_replaces_the_ones_not_yet_given_over_rest() -> None:
    """The thirty-ninth retest: after ten minutes of waiting, a REST answer began with seven
    queued notices ("You are number 1 in line" five times). Only the newest says where the
    request stands; an operator's words and other messages stay, in order."""
    first = ShownMessage(HandoffKeys.QUEUE_POSITION + "_here", "You are number 2 in line.")
    words = ShownOperator("Anna", "I'm here")
    second = ShownMessage(HandoffKeys.STILL_WAITING, "Your request is still open.")
    third = ShownMessage(HandoffKeys.QUEUE_POSITION, "You are number 1 in line.")
    pending = with_newer_notices([], [first])
    pending = with_newer_notices(pending, [words])
    pending = with_newer_notices(pending, [second])
    pending = with_newer_notices(pending, [third])
    assert pending == [words, third]
