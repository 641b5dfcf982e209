"""The Rasa-compatible REST channel: what Rasa's widgets and tools send and expect."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from tests.helpers import sender_id
from tests.integration.webchat.conftest import Serve, runtime_of, text_of

from redirection_bot.operations.config import LimitSettings

Client = TestClient[Any, Any]
WEBHOOK = "/webhooks/rest/webhook"
TESTER = sender_id("tester")


async def post(client: Client, message: str, sender: str = TESTER, **extra: Any) -> Any:
    response = await client.post(WEBHOOK, json={"sender": sender, "message": message, **extra})
    assert response.status == 200, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


async def test_answers_in_rasas_shape_with_buttons(client: Client) -> None:
    answer = await post(client, "hello")
    assert answer[0] == {"recipient_id": TESTER, "text": text_of(client, "welcome.hello")}
    buttons = answer[-1]["buttons"]
    assert buttons and all(set(b) == {"title", "payload"} for b in buttons)
    assert all(b["payload"].startswith("/choice:") for b in buttons)


async def test_sending_a_buttons_payload_picks_that_choice(client: Client) -> None:
    first = await post(client, "hello")
    payload = first[-1]["buttons"][0]["payload"]
    by_payload = await post(client, payload)
    other = await post(client, "hello", sender=sender_id("other"))
    by_title = await post(client, other[-1]["buttons"][0]["title"], sender=sender_id("other"))
    assert [m.get("text") for m in by_payload] == [m.get("text") for m in by_title]
    assert by_payload[0]["text"] != first[0]["text"]


async def test_commands_as_payloads(client: Client) -> None:
    await post(client, "hello")
    spanish = await post(client, "/language:es")
    assert spanish[0]["text"] == text_of(client, "engine.choose_language", "es") or any(
        m.get("text") for m in spanish
    )
    assert runtime_of(client) is not None
    state = await runtime_of(client).state("rest:" + TESTER)
    assert state is not None and state.locale == "es"
    helped = await post(client, "/help")
    assert helped[0]["text"] == text_of(
        client, "support.no_team", "es"
    )  # no helpline is connected here
    restarted = await post(client, "/restart")
    assert restarted[0]["text"] == text_of(client, "welcome.hello", "es")
    fresh = await post(client, "/session_start")
    assert fresh[0]["text"] == text_of(client, "welcome.hello", "es")
    plan = await post(client, "/plan")
    assert len(plan) == 1 and plan[0]["text"]


async def test_stop_erases_the_conversation(client: Client) -> None:
    await post(client, "hello")
    answer = await post(client, "/stop")
    assert answer[-1] == {"recipient_id": TESTER, "custom": {"type": "end", "erase": True}}
    assert await runtime_of(client).state("rest:" + TESTER) is None


async def test_the_first_message_can_choose_the_language(client: Client) -> None:
    answer = await post(client, "hei", sender=sender_id("finn"), metadata={"locale": "fi"})
    assert answer[0]["text"] == text_of(client, "welcome.hello", "fi")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"{not json", "send JSON"),
        (b'\xff{"sender": "a", "message": "b"}', "send JSON"),
        (b"[]", "send an object"),
        (b'{"sender": 5, "message": "hi"}', '"sender"'),
        (b'{"sender": "", "message": "hi"}', '"sender"'),
        (b'{"sender": "a\\u0000b", "message": "hi"}', '"sender"'),
        (b'{"sender": "a", "message": 5}', '"message"'),
    ],
)
async def test_malformed_requests_get_a_clear_error(
    client: Client, body: bytes, problem: str
) -> None:
    response = await client.post(WEBHOOK, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert problem in (await response.json())["error"]


async def test_limits_are_answered_as_messages(serve: Serve) -> None:
    client = await serve(limits=LimitSettings(messages_per_minute=1, max_sessions=1))
    await post(client, "hello")
    assert await post(client, "again") == [
        {"recipient_id": TESTER, "text": text_of(client, "webchat.rate_limited")}
    ]
    newcomer = sender_id("newcomer")  # a full process makes room: nobody is turned away
    welcome = await post(client, "hello", sender=newcomer)
    assert welcome[0] == {"recipient_id": newcomer, "text": text_of(client, "welcome.hello")}


async def test_leave_now_and_erase_work_over_the_rate_limit(serve: Serve) -> None:
    """Attack 7: after a burst, "/stop", "leave now" and "/erase" were answered "you are
    sending messages too fast" and nothing was erased."""
    client = await serve(limits=LimitSettings(messages_per_minute=1))
    for leaving in ("/stop", "leave now", "/erase"):
        await post(client, "hello")
        assert await post(client, "again") == [
            {"recipient_id": TESTER, "text": text_of(client, "webchat.rate_limited")}
        ]
        answer = await post(client, leaving)
        assert any(item.get("custom", {}).get("type") == "end" for item in answer), leaving
        assert await post(client, "/plan") != [], leaving  # a new, empty conversation


async def test_browsers_on_other_sites_are_refused_unless_allowed(serve: Serve) -> None:
    client = await serve(allowed_origins=("https://widget.example",))
    body = {"sender": TESTER, "message": "hi"}
    refused = await client.post(WEBHOOK, json=body, headers={"Origin": "https://evil.example"})
    assert refused.status == 403
    assert "Access-Control-Allow-Origin" not in refused.headers
    allowed = await client.post(WEBHOOK, json=body, headers={"Origin": "https://widget.example"})
    assert allowed.status == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://widget.example"
    preflight = await client.options(WEBHOOK, headers={"Origin": "https://widget.example"})
    assert preflight.status == 204 and preflight.headers["Access-Control-Allow-Methods"] == "POST"


async def test_the_channel_can_be_switched_off(serve: Serve) -> None:
    client = await serve(rest=False)
    response = await client.post(WEBHOOK, json={"sender": "a", "message": "hi"})
    assert response.status in (404, 405)
