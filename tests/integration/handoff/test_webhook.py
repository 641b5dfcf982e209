"""A helpline platform connected by signed webhooks, end to end: a person in the web chat,
the platform's operator claiming, both writing, the operator closing, the program resuming;
bad signatures, stale and replayed requests refused; nothing lost while the platform fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from redirection_bot.handoff.channel import ChannelContext
from redirection_bot.program.load import LoadedProgram
from redirection_bot_connectors.operators.webhook import WebhookChannel
from redirection_bot_connectors.operators.webhook.options import WebhookOptions
from tests.integration.handoff.conftest import (
    Setup,
    channel_context,
    handoff_settings,
    running,
)
from tests.integration.handoff.platform import PLATFORM_SECRET, Platform

SECRET = PLATFORM_SECRET
ANNA = {"id": "op-17", "name": "Anna"}


def text(setup: Setup, key: str) -> str:
    return setup.runtime.loaded.catalog.render(key, "en")


@pytest.fixture
async def helpline(loaded: LoadedProgram, platform: Platform) -> AsyncIterator[Setup]:
    options = WebhookOptions(
        url=platform.url, secret=SECRET, port=0, max_backoff_seconds=0.2
    ).checked()
    async with running(loaded, handoff_settings("webhook", options)) as setup:
        channel = WebhookChannel(channel_context(setup, options))
        setup.start_channel(channel)
        await asyncio.wait_for(channel.listening.wait(), 10)
        platform.bot_url = f"http://127.0.0.1:{channel.port}/handoff/webhook"
        yield setup
        setup.check_channels()


async def test_a_whole_handoff_over_the_webhook(helpline: Setup, platform: Platform) -> None:
    page, token = await helpline.page()
    status, _ = await platform.send({"type": "duty", "operator": ANNA, "on_duty": True})
    assert status == 200
    await page.ask_for_a_person()
    await page.text_frame(text(helpline, "handoff.available_now"))
    (ticket,) = await platform.wait_for("ticket")
    assert ticket["service"] == "helpline" and ticket["locale"] == "en"
    assert ticket["reason"] == "asked" and ticket["urgency"] == "normal"
    assert token not in str(platform.received)  # no session token, no connector identity

    early = {"type": "message", "ticket": ticket["ticket"], "operator": ANNA, "text": "Hello?"}
    assert await platform.send(early) == (200, {"result": "not_claimed"})  # not sent
    status, answer = await platform.send(
        {"type": "claim", "ticket": ticket["ticket"], "operator": ANNA}
    )
    assert (status, answer) == (200, {"result": "applied"})
    joined = await page.text_frame("Anna from our support team has joined")
    assert joined["type"] == "message"
    state = await page.until(lambda f: f.get("type") == "state")
    assert "handoff:share" in [c["id"] for c in state["choices"]]
    await page.send({"type": "choice", "id": "handoff:share"})
    (conversation,) = await platform.wait_for("conversation")
    assert any(line["who"] == "program" for line in conversation["lines"])

    await page.send({"type": "text", "text": "I don't know where to start"})
    (person,) = await platform.wait_for("person")
    assert person["text"] == "I don't know where to start"

    status, answer = await platform.send(
        {"type": "message", "ticket": ticket["ticket"], "operator": ANNA, "text": "Take your time."}
    )
    assert answer == {"result": "applied"}
    said = await page.until(lambda f: f.get("type") == "operator")
    assert said["text"] == "Take your time."

    status, answer = await platform.send(
        {"type": "close", "ticket": ticket["ticket"], "operator": ANNA, "return_to": "coping"}
    )
    assert answer == {"result": "applied"}
    await page.text_frame(text(helpline, "handoff.operator_left"))
    await page.text_frame(text(helpline, "engine.handoff_ended"))
    state = await page.until(lambda f: f.get("type") == "state")
    assert state["choices"] and not state["choices"][0]["id"].startswith("handoff:")
    status, answer = await platform.send(
        {"type": "close", "ticket": ticket["ticket"], "operator": ANNA}
    )
    assert answer == {"result": "duplicate"}  # a close after a close changes nothing
    changes = [e["change"] for e in platform.received if e["type"] == "update"]
    assert changes == ["claimed", "shared", "closed"]
    assert platform.refused_signatures == 0
    ids = [event["id"] for event in platform.received]
    assert len(ids) == len(set(ids))


async def test_bad_signatures_stale_and_replayed_requests_are_refused(
    helpline: Setup, platform: Platform
) -> None:
    duty = {"id": "req-1", "type": "duty", "operator": ANNA, "on_duty": True}
    status, answer = await platform.send(duty, secret="another secret, not the shared one")
    assert (status, answer) == (401, {"error": "bad_signature"})
    status, answer = await platform.send(duty, skew=-3600)
    assert (status, answer) == (401, {"error": "stale"})
    status, answer = await platform.send(
        duty, secret="another secret, not the shared one", skew=-3600
    )
    assert (status, answer) == (401, {"error": "bad_signature"})  # the signature first
    body, headers = platform.signed(duty)
    assert await platform.post(body, headers) == (200, {"result": "applied"})
    assert await platform.post(body, headers) == (409, {"error": "replayed"})
    tampered = body.replace(b"true", b"false")
    assert (await platform.post(tampered, headers))[0] == 401
    assert await helpline.desk.on_duty_count("helpline") == 1
    status, answer = await platform.send({"type": "claim", "ticket": "T-NOSUCHXX"})
    assert status == 400 and "operator" in answer["error"]


async def test_nothing_is_lost_while_the_platform_fails(
    helpline: Setup, platform: Platform
) -> None:
    platform.failing = 3
    page, _token = await helpline.page()
    await page.ask_for_a_person()
    await page.text_frame(text(helpline, "handoff.nobody_available"))
    (ticket,) = await platform.wait_for("ticket")
    await page.send({"type": "choice", "id": "handoff:back"})
    await platform.wait_for("update", change="withdrawn")
    assert [e["type"] for e in platform.received] == ["ticket", "update"]
    assert platform.failing == 0 and ticket["fallback_given"]


async def test_the_platform_asking_to_slow_down_is_heard(
    helpline: Setup, platform: Platform
) -> None:
    platform.failing, platform.retry_after = 1, "1"
    page, _token = await helpline.page()
    await page.ask_for_a_person()
    await platform.wait_for("ticket")
    refused, delivered = platform.attempts[0], platform.attempts[1]
    # The bot's own backoff here is 0.2 s at most: it waited because the platform asked.
    assert delivered - refused >= 0.9


async def test_a_channel_that_restarts_goes_on_from_where_it_was(
    loaded: LoadedProgram, platform: Platform
) -> None:
    options = WebhookOptions(
        url=platform.url, secret=SECRET, port=0, max_backoff_seconds=0.2
    ).checked()
    async with running(loaded, handoff_settings("webhook", options)) as setup:
        service = setup.desk.service("helpline", setup.runtime)

        async def start() -> tuple[WebhookChannel, asyncio.Event, asyncio.Task[int]]:
            stop = asyncio.Event()
            channel = WebhookChannel(ChannelContext(service, options, stop))
            task = asyncio.create_task(channel.run())
            await asyncio.wait_for(channel.listening.wait(), 10)
            return channel, stop, task

        _channel, stop, task = await start()
        first, _ = await setup.page()
        await first.ask_for_a_person()
        await platform.wait_for("ticket")
        stop.set()
        assert await asyncio.wait_for(task, 10) == 0

        second, _ = await setup.page()  # a request while the channel is down
        await second.ask_for_a_person()
        _channel, stop, task = await start()
        tickets = await platform.wait_for("ticket", count=2)
        assert len({t["ticket"] for t in tickets}) == 2
        ids = [event["id"] for event in platform.received]
        assert len(ids) == len(set(ids))  # nothing delivered twice
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_an_unknown_type_is_named_and_every_type_is_listed(
    helpline: Setup, platform: Platform
) -> None:
    every = (
        "claim, message, close, transfer, duty, "
        "slots, bookings, add_slot, remove_slot, cancel_booking, no_show"
    )
    for request in (
        {"type": "frobnicate"},
        {"type": "frobnicate", "ticket": "T-NOSUCHXX", "operator": ANNA},
        {"ticket": "T-NOSUCHXX", "operator": ANNA},
    ):
        status, answer = await platform.send(request)
        assert (status, answer) == (400, {"error": f'"type" must be one of {every}'})
    status, answer = await platform.send({"type": "claim", "operator": ANNA})
    assert (status, answer) == (400, {"error": '"ticket" must be a text of 1 to 40 characters'})


async def test_half_a_character_from_the_platform_is_refused_and_the_bot_carries_on(
    helpline: Setup, platform: Platform
) -> None:
    """The sixteenth attack: a claim whose operator id held a lone surrogate ("op-\\ud83d", what
    a JavaScript platform sends when it cuts an emoji in two) was applied, then the event
    carrying it could not be sent and the whole process stopped (with Redis, at every restart
    too). A request id with one was a 500."""
    page, _token = await helpline.page()
    await platform.send({"type": "duty", "operator": ANNA, "on_duty": True})
    await page.ask_for_a_person()
    (ticket,) = await platform.wait_for("ticket")
    halved = {"id": "op-\ud83d", "name": "Anna"}
    whole = " must be a text of whole characters (no half characters)"
    for request, field in (
        ({"type": "claim", "ticket": ticket["ticket"], "operator": halved}, "id"),
        ({"type": "duty", "operator": halved, "on_duty": True}, "id"),
        ({"id": "req-\udc00", "type": "claim", "ticket": ticket["ticket"], "operator": ANNA}, "id"),
        ({"type": "claim", "ticket": "T-\ud83d", "operator": ANNA}, "ticket"),
    ):
        assert await platform.send(request) == (400, {"error": f'"{field}"{whole}'})
    blank = {
        "type": "message",
        "ticket": ticket["ticket"],
        "operator": ANNA,
        "text": "\u0007\u200b",
    }
    status, _answer = await platform.send(
        {"type": "claim", "ticket": ticket["ticket"], "operator": ANNA}
    )
    assert status == 200
    assert (await platform.send(blank))[0] == 400  # nothing the person could read
    # The bot is still there, and the claim that was whole went through.
    await page.text_frame("Anna from our support team has joined")
    assert await platform.send({"type": "duty", "operator": ANNA, "on_duty": False}) == (
        200,
        {"result": "applied"},
    )
