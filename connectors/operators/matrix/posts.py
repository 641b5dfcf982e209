"""What the operator room is told: desk events as Matrix messages (plain ``body`` and an
escaped ``formatted_body``), and the thread they belong to.

The words are the helpline staff's own texts, ``locales/operators.<locale>.yml``, in the
channel's language (``texts.OperatorTexts``). Everything that came from a person, and every
operator's name, is escaped (``content.turn_content``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from redirection_bot.api import (
    ConversationShared,
    DeskEvent,
    PersonWrote,
    TicketChanged,
    TicketOpened,
)

from ...matrix.content import turn_content
from .texts import OperatorTexts

SAID = {"program": "said.program", "person": "said.person"}
"""Who said a line of the conversation so far -> its text."""


def ticket_lines(event: TicketOpened, texts: OperatorTexts) -> list[str]:
    since = dt.datetime.fromtimestamp(event.requested_at, dt.UTC).strftime("%H:%M UTC")
    waiting = texts.say("ticket.waiting", since=since, position=str(event.position))
    if event.fallback_given:
        waiting += " " + texts.say("ticket.fallback_given")
    return [
        texts.say(
            "ticket.opened",
            ticket=event.ticket,
            urgency=texts.label("urgency", event.urgency),
            reason=texts.label("reason", event.reason),
        ),
        texts.say(
            "ticket.where", language=event.locale, module=event.module, asked_in=event.asked_in
        ),
        texts.say("ticket.risks", risks=texts.risks(event.risks)),
        waiting,
        texts.say("ticket.to_claim"),
    ]


def event_lines(event: DeskEvent, names: dict[str, str], texts: OperatorTexts) -> list[str]:
    """The lines one desk event is told as (``names``: operators' ids -> their names)."""
    if isinstance(event, TicketOpened):
        return ticket_lines(event, texts)
    if isinstance(event, TicketChanged):
        operator = event.operator or texts.say("someone")
        if event.operator in names:
            operator = f"{names[event.operator]} ({event.operator})"
        return [
            texts.change(
                event.change,
                operator=operator,
                risks=texts.risks(event.risks),
                urgency=texts.label("urgency", event.urgency),
            )
        ]
    if isinstance(event, PersonWrote):
        if event.risks:
            return [
                texts.say("said.person_at_risk", text=event.text, risks=texts.risks(event.risks))
            ]
        return [texts.say("said.person", text=event.text)]
    assert isinstance(event, ConversationShared)
    lines = [texts.say("conversation_so_far")]
    for who, text in event.lines:
        if who == "risk":
            lines.append(texts.say("said.not_kept", risks=_risk_labels(text, texts)))
        elif who in SAID:
            lines.append(texts.say(SAID[who], text=text))
        else:
            lines.append(f"{who}: {text}")
    return lines


def _risk_labels(categories: str, texts: OperatorTexts) -> str:
    """A shared line's risk categories (``"suicide, distress"``) by their labels."""
    return texts.risks(tuple(code.strip() for code in categories.split(",") if code.strip()))


def post_content(lines: list[str], thread_root: str | None) -> dict[str, Any]:
    """A message of ``lines``, in the thread of ``thread_root`` when there is one."""
    content = turn_content((), lines)
    assert content is not None
    if thread_root is not None:
        content["m.relates_to"] = {
            "rel_type": "m.thread",
            "event_id": thread_root,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": thread_root},
        }
    return content
