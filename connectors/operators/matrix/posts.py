"""What the operator room is told: desk events as Matrix messages (plain ``body`` and an
escaped ``formatted_body``), and the thread they belong to.

These are words for the helpline's own staff, not for the people seeking help, so they are
written here in English rather than in the program's texts. Everything that came from a
person is escaped (``content.notice_content``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from redirection_bot.handoff.wire import (
    ConversationShared,
    DeskEvent,
    PersonWrote,
    TicketChanged,
    TicketOpened,
)

from ...matrix.content import turn_content

CHANGES = {
    "claimed": "Claimed by {operator}. What they write in this thread goes to the person.",
    "closed": "Closed. The program has taken over again.",
    "withdrawn": "The person stopped waiting and went back to the program.",
    "ended": "The person ended the chat and went back to the program.",
    "left": "The person left, and their conversation was erased.",
    "expired": "The conversation expired.",
    "risk": "Risk raised during the handoff: {risks}.",
    "escalated": "Urgency raised to {urgency}.",
    "transferred": "Passed to {operator}.",
    "requeued": "Back in the queue: anyone on duty may claim it.",
    "fallback": (
        "Nobody claimed it in time: the person was given the services for their country and "
        "language and a short safety plan. They may still be waiting."
    ),
    "shared": "The person agreed that you read the conversation so far (the message above).",
    "not_shared": "The person chose not to share the conversation so far.",
}
WHO = {"program": "Program", "person": "Person"}


def ticket_lines(event: TicketOpened) -> list[str]:
    since = dt.datetime.fromtimestamp(event.requested_at, dt.UTC).strftime("%H:%M UTC")
    risks = ", ".join(event.risks) or "none"
    given = (
        " The person has already been given services and a safety plan."
        if (event.fallback_given)
        else ""
    )
    return [
        f"New request {event.ticket} · urgency: {event.urgency} · reason: {event.reason}",
        f"Language: {event.locale} · module: {event.module} (asked in {event.asked_in})",
        f"Risks raised: {risks}",
        f"Waiting since {since} · place in line: {event.position}.{given}",
        "To take it: react with ✋, or write !claim in this thread.",
    ]


def event_lines(event: DeskEvent, names: dict[str, str]) -> list[str]:
    """The lines one desk event is told as (``names``: operators' ids -> their names)."""
    if isinstance(event, TicketOpened):
        return ticket_lines(event)
    if isinstance(event, TicketChanged):
        template = CHANGES.get(event.change, "Changed: {change}.")
        operator = event.operator or "someone"
        if event.operator in names:
            operator = f"{names[event.operator]} ({event.operator})"
        return [
            template.format(
                operator=operator,
                risks=", ".join(event.risks) or "none",
                urgency=event.urgency,
                change=event.change,
            )
        ]
    if isinstance(event, PersonWrote):
        flags = f"  [risk: {', '.join(event.risks)}]" if event.risks else ""
        return [f"Person: {event.text}{flags}"]
    assert isinstance(event, ConversationShared)
    lines = ["The conversation so far:"]
    for who, text in event.lines:
        if who == "risk":
            lines.append(f"(a message that raised a risk was not kept: {text})")
        else:
            lines.append(f"{WHO.get(who, who)}: {text}")
    return lines


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
