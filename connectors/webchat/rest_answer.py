"""The REST channel's answers, in the shape of Rasa's REST channel, and their JSON.

A message's part of an answer is built and encoded once per rendered message: the renderer
gives the same ``ShownMessage`` to every conversation a message without parameters is said
in (``Renderer.message``), so the buttons of a question many people are at are written once;
each answer puts only its own ``recipient_id`` in front.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redirection_bot.api import ResumeKeys, ShownChoice, ShownMessage

from .json_text import json_array, to_json

CHOICE_PAYLOAD = "/choice:"

Answer = list[dict[str, Any]]

_ANSWERS = object()
"""What names the REST channel's part among the forms a message keeps (``ShownMessage``)."""


def payload_for(choice_id: str) -> str:
    return CHOICE_PAYLOAD + choice_id


class MessageItem(dict[str, Any]):
    """A message in an answer, with the JSON of all of it after its ``recipient_id``;
    ``once``: it is shown once (the resume words), never kept for a resend."""

    __slots__ = ("json_tail", "once")
    json_tail: str
    once: bool


@dataclass(frozen=True, slots=True)
class _Encoded:
    """A message's part of every answer it is in: its buttons, and its JSON after the
    ``recipient_id`` (from the text on)."""

    buttons: list[dict[str, object]] | None
    json_tail: str


def message_item(sender: str, item: ShownMessage) -> MessageItem:
    """``item`` as an answer's message to ``sender``, its buttons made and encoded once."""
    kept = item.kept_form(_ANSWERS)
    if not isinstance(kept, _Encoded):
        buttons = [_button(choice) for choice in item.choices] if item.choices else None
        shown: dict[str, object] = {"text": item.text}
        if buttons is not None:
            shown["buttons"] = buttons
        kept = _Encoded(buttons, to_json(shown)[1:])  # from the text on: '"text": ...}'
        item.keep_form(_ANSWERS, kept)
    entry = MessageItem(recipient_id=sender, text=item.text)
    if kept.buttons is not None:
        entry["buttons"] = kept.buttons
    entry.json_tail = kept.json_tail
    entry.once = item.key == ResumeKeys.PHRASE
    return entry


def _button(choice: ShownChoice) -> dict[str, object]:
    """A Rasa button; a checklist item already picked says so in ``picked`` (pressing it
    again takes it off), which Rasa's own widgets ignore."""
    button: dict[str, object] = {"title": choice.label, "payload": payload_for(choice.id)}
    if choice.picked:
        button["picked"] = True
    return button


def answer_json(items: Answer) -> str:
    """``items`` as ``json.dumps(items, ensure_ascii=False)`` writes them (its separators),
    each message's part after its ``recipient_id`` as it was encoded when made."""
    parts = [
        '{"recipient_id": ' + to_json(item["recipient_id"]) + ", " + item.json_tail
        if type(item) is MessageItem
        else to_json(item)
        for item in items
    ]
    return json_array(parts)
