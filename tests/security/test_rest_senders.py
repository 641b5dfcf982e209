"""Attack: guess a REST sender, read that person's plan and erase it.

The sender was the conversation's only credential and could be anything: whoever posted
``{"sender": "abc", "message": "/plan"}`` got the plan of the person who used "abc" (the
docs' own example), and "/stop" erased it. Now a sender must carry 128 random bits, or the
server issues one."""

from __future__ import annotations

import secrets
import uuid

import pytest

from redirection_bot_connectors.webchat.sessions import TOKEN_PATTERN
from tests.integration.webchat.conftest import runtime_of
from tests.security.conftest import WEBHOOK, Client, rest

GUESSABLE = ["abc", "user-1", "tester", "a" * 40, "ab" * 20, str(uuid.uuid4())]


@pytest.mark.parametrize("sender", GUESSABLE)
async def test_a_guessable_sender_is_refused_with_a_clear_json_error(
    client: Client, sender: str
) -> None:
    for message in ("hello", "/plan", "/stop"):
        status, answer = await rest(client, sender, message)
        assert status == 400
        assert "128 random bits" in answer["error"]
    assert await runtime_of(client).state("rest:" + sender) is None


async def test_a_server_issued_sender_cannot_be_guessed_and_carries_the_conversation(
    client: Client,
) -> None:
    status, first = await rest(client, None, "hello")  # a widget that names no sender
    assert status == 200
    issued = first[0]["recipient_id"]
    assert TOKEN_PATTERN.match(issued)  # 192 bits, like a web conversation's token
    assert all(item["recipient_id"] == issued for item in first)
    _status, later = await rest(client, issued, first[-1]["buttons"][0]["payload"])
    assert later[0]["text"] != first[0]["text"]  # the same conversation, one step on
    _status, other = await rest(client, None, "hello")
    assert other[0]["recipient_id"] != issued


@pytest.mark.parametrize("make", [lambda: secrets.token_hex(16), lambda: secrets.token_urlsafe(22)])
async def test_a_widgets_own_random_sender_works_and_another_cannot_reach_it(
    client: Client, make: object
) -> None:
    assert callable(make)
    mine = make()
    status, first = await rest(client, mine, "hello")
    assert status == 200 and first[0]["recipient_id"] == mine
    stranger = secrets.token_hex(16)
    _status, plan = await rest(client, stranger, "/plan")
    _status, stopped = await rest(client, stranger, "/stop")
    assert await runtime_of(client).state("rest:" + mine) is not None
    assert mine not in str(plan) + str(stopped)


async def test_bodies_without_a_message_are_still_refused(client: Client) -> None:
    response = await client.post(WEBHOOK, json={"sender": secrets.token_hex(16)})
    assert response.status == 400 and '"message"' in (await response.json())["error"]
