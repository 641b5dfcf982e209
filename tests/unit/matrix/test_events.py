"""What the bot makes of each Matrix event: only the person's messages are answered."""

from __future__ import annotations

from typing import Any

from nio import Event

from redirection_bot_connectors.matrix.client import classify
from redirection_bot_connectors.matrix.updates import (
    OwnJoin,
    PersonOther,
    PersonText,
    Undecryptable,
    reply_stripped,
)

BOT = "@helpbot:example.org"
PERSON = "@someone:example.org"
ROOM = "!room:example.org"


def event(content: dict[str, Any], sender: str = PERSON, kind: str = "m.room.message") -> Any:
    return Event.parse_event(
        {
            "type": kind,
            "event_id": "$event",
            "sender": sender,
            "origin_server_ts": 1,
            "content": content,
        }
    )


def member(user: str, membership: str, previous: str | None = None) -> Any:
    source: dict[str, Any] = {
        "type": "m.room.member",
        "event_id": "$member",
        "sender": user,
        "state_key": user,
        "origin_server_ts": 1,
        "content": {"membership": membership},
    }
    if previous is not None:
        source["unsigned"] = {"prev_content": {"membership": previous}}
    return Event.parse_event(source)


def test_the_persons_text_is_answered() -> None:
    assert classify(event({"msgtype": "m.text", "body": "hello"}), BOT, ROOM) == PersonText(
        "$event", "hello"
    )
    emote = event({"msgtype": "m.emote", "body": "waves"})
    assert classify(emote, BOT, ROOM) == PersonText("$event", "waves")


def test_own_messages_notices_edits_and_other_events_are_not() -> None:
    assert classify(event({"msgtype": "m.text", "body": "mine"}, sender=BOT), BOT, ROOM) is None
    assert classify(event({"msgtype": "m.notice", "body": "a bot"}), BOT, ROOM) is None
    edit = {
        "msgtype": "m.text",
        "body": "* fixed",
        "m.new_content": {"msgtype": "m.text", "body": "fixed"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": "$old"},
    }
    assert classify(event(edit), BOT, ROOM) is None
    assert classify(event({"name": "A room"}, kind="m.room.name"), BOT, ROOM) is None
    assert classify(event({"body": "x"}, kind="org.example.custom"), BOT, ROOM) is None


def test_messages_the_bot_cannot_read_are_told_so() -> None:
    image = {"msgtype": "m.image", "body": "a.png", "url": "mxc://example.org/a"}
    assert classify(event(image), BOT, ROOM) == PersonOther("$event")
    assert classify(event({"msgtype": "m.text", "body": 42}), BOT, ROOM) == PersonOther("$event")
    assert classify(event({"no": "msgtype"}), BOT, ROOM) == PersonOther("$event")


def test_the_bots_own_join_marks_where_history_ends() -> None:
    assert classify(member(BOT, "join", "invite"), BOT, ROOM) == OwnJoin("$member")
    assert classify(member(BOT, "join", "join"), BOT, ROOM) is None  # a profile change
    assert classify(member(PERSON, "join", "invite"), BOT, ROOM) is None


def test_an_encrypted_message_without_its_key_is_kept_to_try_again() -> None:
    encrypted = event(
        {
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": "AwgA",
            "sender_key": "key",
            "device_id": "DEVICE",
            "session_id": "session",
        },
        kind="m.room.encrypted",
    )
    found = classify(encrypted, BOT, ROOM)
    assert isinstance(found, Undecryptable) and found.event_id == "$event"
    assert found.source["room_id"] == ROOM


def test_a_reply_is_read_without_the_quoted_message() -> None:
    reply = {"m.relates_to": {"m.in_reply_to": {"event_id": "$q"}}}
    body = "> <@helpbot:example.org> Where are you now?\n> 1. Cut down\n\n2"
    assert reply_stripped(body, reply) == "2"
    assert reply_stripped("> not a reply", {}) == "> not a reply"
