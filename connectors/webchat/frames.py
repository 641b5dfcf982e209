"""The WebSocket's frames (docs/protocol.md), and their JSON.

A message's frame is built and encoded once per rendered message: the renderer gives the same
``ShownMessage`` to every conversation a message without parameters is said in
(``Renderer.message``), so the buttons of a question many people are at are written once,
not once a turn.
"""

from __future__ import annotations

from redirection_bot.api import ShownChoice, ShownMessage, TextLink

from .json_text import json_array, to_json
from .plan_card import PlanCard

Frame = dict[str, object]

_FRAMES = object()
"""What names the web chat's frames among the forms a message keeps (``ShownMessage``)."""


class EncodedFrame(dict[str, object]):
    """A message's frame with its JSON text, made once per rendered message and shown in
    every conversation that message is said in: never changed once made."""

    __slots__ = ("json_text",)
    json_text: str


def message_frame(item: ShownMessage) -> Frame:
    """The frame of a message, made and encoded once per message."""
    kept = item.kept_form(_FRAMES)
    if isinstance(kept, EncodedFrame):
        return kept
    frame = EncodedFrame(
        {
            "type": "message",
            "text": item.text,
            "choices": choice_list(item.choices),
            "expects_text": item.expects_text,
            "links": link_list(item.links),
        }
    )
    frame.json_text = to_json(frame)
    item.keep_form(_FRAMES, frame)
    return frame


def frames_json(frames: list[Frame]) -> str:
    """``frames`` as ``json.dumps(frames, ensure_ascii=False)`` writes them (its separators),
    each message's frame as it was encoded when made (``message_frame``)."""
    parts = [f.json_text if type(f) is EncodedFrame else to_json(f) for f in frames]
    return json_array(parts)


def choice_list(choices: tuple[ShownChoice, ...]) -> list[dict[str, object]]:
    """Choices for a frame; a point on a number scale has its ``number``, a checklist item
    already picked has ``picked`` (docs/protocol.md)."""
    return [_choice_frame(choice) for choice in choices]


def _choice_frame(choice: ShownChoice) -> dict[str, object]:
    frame: dict[str, object] = {"id": choice.id, "label": choice.label}
    if choice.number is not None:
        frame["number"] = choice.number
    if choice.picked:
        frame["picked"] = True
    return frame


def card_frame(card: PlanCard) -> Frame:
    """The plan as one ``card`` frame: a title, then sections of a heading and lines."""
    return {
        "type": "card",
        "title": card.title.text,
        "sections": [
            {
                "heading": None if section.heading is None else section.heading.text,
                "items": [
                    {"text": item.text, "links": link_list(item.links)} for item in section.items
                ],
            }
            for section in card.sections
        ],
    }


def link_list(links: tuple[TextLink, ...]) -> list[dict[str, str]]:
    return [{"text": link.text, "href": link.href} for link in links]
