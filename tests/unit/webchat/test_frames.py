"""The WebSocket's frames: a message's frame is made and encoded once, and the bytes sent are
those ``json.dumps(frames, ensure_ascii=False)`` writes."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from redirection_bot.api import ShownChoice, ShownMessage, TextLink
from redirection_bot_connectors.webchat.frames import Frame, frames_json, message_frame

AWKWARD = 'Soita 112 "nyt" \\ ‹tänään›\u2028\u2029\x00\x1f 😀 \ud83d'


def _message(text: str = AWKWARD) -> ShownMessage:
    choices = (
        ShownChoice("yes", "Kyllä ✓"),
        ShownChoice("7", "7", 7),
        ShownChoice("tea", "Tee\u2028", picked=True),
    )
    return ShownMessage("q.how", text, choices, True, (TextLink("112", "tel:112"),))


def test_frames_are_written_as_json_dumps_writes_them() -> None:
    message = _message()
    frames: list[Frame] = [
        {"type": "you", "text": AWKWARD},
        message_frame(message),
        message_frame(ShownMessage("q.bye", "Hei hei")),
        {"type": "state", "choices": [], "expects_text": False, "waiting": None, "entries": 3},
    ]
    assert frames_json(frames) == json.dumps(frames, ensure_ascii=False)
    assert frames_json([message_frame(message)]) == json.dumps(
        [message_frame(_message())], ensure_ascii=False
    )
    assert frames_json([]) == "[]"
    assert json.loads(frames_json(frames))[1] == {
        "type": "message",
        "text": AWKWARD,
        "choices": [
            {"id": "yes", "label": "Kyllä ✓"},
            {"id": "7", "label": "7", "number": 7},
            {"id": "tea", "label": "Tee\u2028", "picked": True},
        ],
        "expects_text": True,
        "links": [{"text": "112", "href": "tel:112"}],
    }


@given(st.text(), st.text())
def test_any_text_is_written_as_json_dumps_writes_it(text: str, label: str) -> None:
    message = ShownMessage("k", text, (ShownChoice(label, label),))
    frames: list[Frame] = [{"type": "notice", "text": label}, message_frame(message)]
    assert frames_json(frames) == json.dumps(frames, ensure_ascii=False)


def test_a_message_keeps_one_frame_and_each_message_its_own() -> None:
    message = _message()
    first = message_frame(message)
    assert message_frame(message) is first
    assert message.forms is not None and len(message.forms) == 1
    other = message_frame(_message("Something else"))
    assert other is not first and other["text"] == "Something else"
    assert message.kept_form(object()) is None  # another channel's name finds nothing
