"""Attack: requests that two readers would read two ways (an outside attack).

``{"message": "hi", "message": "/stop"}`` was taken as "/stop" (Python keeps the last key; a
proxy, a log or a filter in front of the service may read the first); two ``Idempotency-Key``
headers, or one and a different ``message_id``, were taken by the first (a resend carrying the
other applied the message twice); a WebSocket handshake of the 2011 drafts (version 8) was
accepted. Each is now refused, saying what to send, and the conversation carries on.
"""

from __future__ import annotations

import secrets

import pytest

from tests.integration.handoff.conftest import Setup
from tests.integration.handoff.platform import Platform
from tests.security.conftest import WEBHOOK, Client, rest
from tests.security.test_broken_input import live_start, told_unreadable_and_going_on

TWICE = "one key twice"


async def test_a_key_given_twice_over_rest_is_refused_and_nothing_is_applied(
    client: Client,
) -> None:
    sender = secrets.token_hex(16)
    await rest(client, sender, "hello")
    _status, before = await rest(client, sender, "/repeat")
    body = b'{"sender": "' + sender.encode() + b'", "message": "ok", "message": "/stop"}'
    response = await client.post(WEBHOOK, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400 and TWICE in (await response.json())["error"]
    status, after = await rest(client, sender, "/repeat")  # not erased, not moved on
    assert status == 200 and after == before


async def test_a_key_given_twice_over_the_websocket_is_a_notice_and_the_socket_stays(
    client: Client,
) -> None:
    ws, _token = await live_start(client)
    await ws.send_str('{"type": "text", "text": "ok", "type": "command", "command": "erase"}')
    await told_unreadable_and_going_on(client, ws)
    await ws.close()


async def test_a_key_given_twice_to_the_signed_operator_webhook_is_refused(
    helpline: Setup, platform: Platform
) -> None:
    body = b'{"id": "x", "type": "duty", "on_duty": true, "on_duty": false, "operator": {}}'
    status, answer = await platform.post_signed(body)
    assert status == 400 and TWICE in answer["error"]


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        ([("Idempotency-Key", "first-1"), ("Idempotency-Key", "second-2")], None),
        ([("Idempotency-Key", "first-1")], "second-2"),
    ],
    ids=["two headers", "a header and another field"],
)
async def test_two_different_idempotency_keys_are_refused_and_nothing_is_applied(
    client: Client, headers: list[tuple[str, str]], field: str | None
) -> None:
    sender = secrets.token_hex(16)
    await rest(client, sender, "hello")
    _status, before = await rest(client, sender, "/repeat")
    body: dict[str, str] = {"sender": sender, "message": "/stop"}
    if field is not None:
        body["message_id"] = field
    response = await client.post(WEBHOOK, json=body, headers=headers)
    assert response.status == 400 and "not two" in (await response.json())["error"]
    status, after = await rest(client, sender, "/repeat")
    assert status == 200 and after == before


async def test_the_same_key_as_header_and_field_is_one_key(client: Client) -> None:
    sender = secrets.token_hex(16)
    await rest(client, sender, "hello")
    body = {"sender": sender, "message": "/repeat", "message_id": "same-1"}
    first = await client.post(WEBHOOK, json=body, headers={"Idempotency-Key": "same-1"})
    again = await client.post(WEBHOOK, json=body, headers={"Idempotency-Key": "same-1"})
    assert first.status == again.status == 200
    assert await first.json() == await again.json()


@pytest.mark.parametrize("version", ["8", "7", "12"])
async def test_a_websocket_handshake_of_a_draft_version_is_told_the_one_spoken(
    client: Client, version: str
) -> None:
    response = await client.get(
        "/ws",
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": version,
        },
    )
    assert response.status == 426
    assert response.headers["Sec-WebSocket-Version"] == "13"
