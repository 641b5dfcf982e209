"""What the bot says, as Matrix message content: a plain ``body`` and an escaped HTML
``formatted_body``, choices as a numbered list.

One turn becomes one Matrix message, so that a question and its choices arrive together and
a busy homeserver's rate limit is met as rarely as possible; so does what a handoff shows
between turns, where a helpline operator's words come under a label naming them. Every text
is escaped here: the rendered texts may hold the person's own words, an operator's words
and name.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any

from redirection_bot.api import Shown, ShownChoice, ShownMessage, ShownOperator

HTML_FORMAT = "org.matrix.custom.html"
INLINE_SEPARATOR = " · "
PICKED_MARK = "✓ "


def turn_content(
    shown: Iterable[Shown],
    extra: Iterable[str] = (),
    operator_label: Callable[[str], str] | None = None,
) -> dict[str, Any] | None:
    """One ``m.text`` message for a turn's messages (and channel texts after them), or None.
    With ``operator_label`` (an operator's name -> the label their words go under), an
    operator's words are shown too."""
    plain: list[str] = []
    formatted: list[str] = []
    for item in shown:
        if isinstance(item, ShownMessage):
            plain.append(_plain_message(item))
            formatted.append(_html_message(item))
        elif isinstance(item, ShownOperator) and operator_label is not None:
            label = operator_label(item.name)
            plain.append(f"{label}\n{item.text}")
            formatted.append(
                f"<p><strong>{_html_text(label)}</strong><br>{_html_text(item.text)}</p>"
            )
    for text in extra:
        plain.append(text)
        formatted.append(f"<p>{_html_text(text)}</p>")
    if not plain:
        return None
    return {
        "msgtype": "m.text",
        "body": "\n\n".join(plain),
        "format": HTML_FORMAT,
        "formatted_body": "".join(formatted),
    }


def notice_content(text: str) -> dict[str, Any]:
    """A channel text on its own (a room that became a group, an unreadable message)."""
    content = turn_content((), (text,))
    assert content is not None
    return content


def plan_text_content(text: str) -> dict[str, Any]:
    """The plan as a message, where the homeserver does not take the file."""
    return notice_content(text.strip())


def file_content(
    filename: str, size: int, url: str | None, encrypted_file: dict[str, Any] | None
) -> dict[str, Any]:
    """An ``m.file`` message for an uploaded text file (``file`` in encrypted rooms)."""
    content: dict[str, Any] = {
        "msgtype": "m.file",
        "body": filename,
        "filename": filename,
        "info": {"mimetype": "text/plain", "size": size},
    }
    if encrypted_file is not None:
        content["file"] = encrypted_file
    else:
        content["url"] = url
    return content


def _plain_message(message: ShownMessage) -> str:
    if not message.choices:
        return message.text
    if _values_only(message):
        return f"{message.text}\n{INLINE_SEPARATOR.join(c.label for c in message.choices)}"
    lines = [message.text]
    lines += [f"{number}. {_mark(choice)}{choice.label}" for number, choice in _numbered(message)]
    return "\n".join(lines)


def _html_message(message: ShownMessage) -> str:
    paragraph = f"<p>{_html_text(message.text)}</p>"
    if not message.choices:
        return paragraph
    if _values_only(message):
        values = INLINE_SEPARATOR.join(_html_text(c.label) for c in message.choices)
        return f"{paragraph}<p>{values}</p>"
    items = "".join(
        f"<li>{_mark(choice)}{_html_text(choice.label)}</li>" for _, choice in _numbered(message)
    )
    return f"{paragraph}<ol>{items}</ol>"


def _values_only(message: ShownMessage) -> bool:
    """Choices that are their own labels (a scale from 0 to 10) are shown on one line, not
    numbered: there the person types the value itself, and "1." before "0" would mislead."""
    return bool(message.choices) and all(c.label == c.id for c in message.choices)


def _mark(choice: ShownChoice) -> str:
    """A checklist item already picked is ticked (sending its number again takes it off)."""
    return PICKED_MARK if choice.picked else ""


def _numbered(message: ShownMessage) -> Iterable[tuple[int, ShownChoice]]:
    return enumerate(message.choices, start=1)


def _html_text(text: str) -> str:
    return "<br>".join(html.escape(line, quote=True) for line in text.split("\n"))
