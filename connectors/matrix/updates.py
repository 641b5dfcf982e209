"""What a sync brings, as plain typed items: the bot's logic never sees a raw Matrix event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class PersonText:
    """A text message from the person."""

    event_id: str
    text: str


@dataclass(frozen=True, slots=True)
class PersonOther:
    """A message the bot cannot read as text (an image, a file, a sticker)."""

    event_id: str


@dataclass(frozen=True, slots=True)
class Undecryptable:
    """An encrypted message whose key has not arrived (yet)."""

    event_id: str
    source: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OwnJoin:
    """The bot joined the room: what came before is history it must not answer."""

    event_id: str


@dataclass(frozen=True, slots=True)
class RoomText:
    """A text message in a room the bot shares with several people (a helpline's operator
    room): who sent it, and the thread it belongs to (a thread's root, or the message it
    replies to)."""

    event_id: str
    sender: str
    text: str
    thread_root: str | None = None


@dataclass(frozen=True, slots=True)
class Reaction:
    """Someone reacted to a message (``target``) with ``key`` (an emoji or a word)."""

    event_id: str
    sender: str
    target: str
    key: str


Item = PersonText | PersonOther | Undecryptable | OwnJoin | RoomText | Reaction


@dataclass(frozen=True, slots=True)
class Invite:
    room_id: str
    is_direct: bool
    """The inviter marked the room as a direct chat (``is_direct`` on the invite)."""


@dataclass(frozen=True, slots=True)
class RoomBatch:
    """What happened in one joined room since the last sync."""

    room_id: str
    members: int
    """Joined and invited members, the bot included, after this batch."""
    encrypted: bool
    items: tuple[Item, ...]
    limited: bool = False
    """More happened than the sync returned: older items must be fetched from ``prev_batch``."""
    prev_batch: str | None = None


@dataclass(frozen=True, slots=True)
class SyncBatch:
    token: str
    invites: tuple[Invite, ...] = ()
    rooms: tuple[RoomBatch, ...] = ()
    left: tuple[str, ...] = ()
    """Rooms the bot is no longer in (it left, was kicked, or the invite was withdrawn)."""


def reply_stripped(body: str, content: dict[str, Any]) -> str:
    """The person's own words of a reply, without the quoted message clients put before them."""
    relation = content.get("m.relates_to")
    if not (isinstance(relation, dict) and "m.in_reply_to" in relation):
        return body
    lines = body.split("\n")
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    if lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)
