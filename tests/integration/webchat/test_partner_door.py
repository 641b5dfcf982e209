"""The door from partner platforms on a real server: ``/?from=<partner>`` with the forms, the
WebSocket and REST start parameters, and the funnel the operator reads at the admin listener."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from tests.helpers import sender_id
from tests.integration.webchat.conftest import Page, choose, page_at, press, text_of

from redirection_bot.authoring.testing import RasaActionRunner
from redirection_bot.operations.evaluation import MemoryCounts
from redirection_bot.operations.metrics import Metrics, admin_app
from redirection_bot.operations.partners import Partner, PartnerSettings
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store.memory import MemoryStore
from redirection_bot.turn.runtime import Runtime
from redirection_bot_connectors.webchat import WebChatOptions, create_app

Client = TestClient[Any, Any]
PARTNERS = PartnerSettings((Partner("example_site", "es"), Partner("other_site")), 3)


@pytest.fixture
async def door(shipped: LoadedProgram) -> AsyncIterator[tuple[Client, Client]]:
    """The web chat with two partners declared, and its admin listener."""
    runtime = Runtime(
        shipped,
        MemoryStore(),
        RasaActionRunner(shipped),
        metrics=Metrics(),
        evaluation=MemoryCounts(),
        partners=PARTNERS,
    )
    assert runtime.metrics is not None
    chat: Client = TestClient(TestServer(create_app(runtime, WebChatOptions())))
    admin: Client = TestClient(TestServer(admin_app(runtime.metrics, runtime.funnel)))
    await chat.start_server()
    await admin.start_server()
    yield chat, admin
    await chat.close()
    await admin.close()


async def funnel(admin: Client) -> list[str]:
    response = await admin.get("/partners.csv")
    assert response.status == 200 and response.content_type == "text/csv"
    return [line.split(",", 1)[1] for line in (await response.text()).splitlines()[1:]]


async def landing(client: Client, address: str) -> Page:
    response = await client.get(address)
    return await page_at(client, response)


async def test_the_forms_path_opens_the_door_and_the_operator_sees_the_funnel(
    door: tuple[Client, Client],
) -> None:
    chat, admin = door
    pages = [await landing(chat, "/?from=other_site") for _ in range(3)]
    assert pages[0].form("start")["hidden"] == {"locale": "en", "from": "other_site"}
    started = await page_at(chat, await press(chat, pages[0], "start"))
    assert "other_site" not in started.url and "from" not in started.url
    assert any(text_of(chat, "door.hello") in line for _kind, line in started.lines)
    assert not any(text_of(chat, "welcome.hello") in line for _kind, line in started.lines)
    after = await choose(chat, started, text_of(chat, "door.go_on"))
    welcome = await choose(chat, after, text_of(chat, "door.start_program"))
    assert any(text_of(chat, "welcome.hello") in line for _kind, line in welcome.lines)
    assert "other_site" not in welcome.html
    assert await funnel(admin) == ["other_site,shown,3", "other_site,started,<3"]


async def test_the_partners_language_is_the_pages_unless_the_person_chose(
    door: tuple[Client, Client],
) -> None:
    chat, _admin = door
    spanish = await landing(chat, "/?from=example_site")
    assert spanish.form("start")["hidden"]["locale"] == "es"
    assert "from=example_site" in spanish.html  # the language links keep the door
    finnish = await landing(chat, "/?from=example_site&lang=fi")
    started = await page_at(chat, await press(chat, finnish, "start"))
    assert any(text_of(chat, "door.hello", "fi") in line for _kind, line in started.lines)


@pytest.mark.parametrize(
    "address",
    [
        "/?from=unknown_site",
        "/?from=OTHER_SITE",
        "/?from=%3Cscript%3Ealert(1)%3C/script%3E",
        "/?from=" + "a" * 3000,
        "/?from=other_site%00",
    ],
)
async def test_an_unknown_partner_is_the_normal_welcome_never_echoed_or_logged(
    door: tuple[Client, Client], address: str, caplog: pytest.LogCaptureFixture
) -> None:
    chat, admin = door
    with caplog.at_level(logging.DEBUG):
        page = await landing(chat, address)
        value = address.split("=", 1)[1]
        assert value not in page.html and "from" not in page.form("start")["hidden"]
        started = await page_at(
            chat, await chat.post("/start", data={"locale": "en", "from": value})
        )
    assert any(text_of(chat, "welcome.hello") in line for _kind, line in started.lines)
    assert value not in caplog.text and "unknown_site" not in caplog.text
    assert await funnel(admin) == []


async def test_the_websocket_start_parameter(door: tuple[Client, Client]) -> None:
    chat, admin = door
    ws = await chat.ws_connect("/ws")
    await ws.send_json({"type": "start", "from": "example_site"})
    frames = json.loads((await ws.receive(timeout=10)).data)
    texts = [frame["text"] for frame in frames if frame["type"] == "message"]
    assert texts[0] == text_of(chat, "door.hello", "es")
    await ws.close()
    plain = await chat.ws_connect("/ws")
    await plain.send_json({"type": "start", "from": "nobody_here"})
    frames = json.loads((await plain.receive(timeout=10)).data)
    assert [f["text"] for f in frames if f["type"] == "message"][0] == text_of(
        chat, "welcome.hello"
    )
    await plain.close()
    assert await funnel(admin) == ["example_site,started,<3"]


async def test_the_rest_start_parameter_counts_the_funnel(door: tuple[Client, Client]) -> None:
    chat, admin = door

    async def post(sender: str, message: str, **extra: Any) -> Any:
        response = await chat.post(
            "/webhooks/rest/webhook", json={"sender": sender, "message": message, **extra}
        )
        assert response.status == 200
        return await response.json()

    for n in range(3):
        sender = sender_id(f"door{n}")
        answer = await post(sender, "hello", metadata={"from": "other_site", "locale": "en"})
        assert answer[0]["text"] == text_of(chat, "door.hello")
        await post(sender, "/choice:go_on")
        await post(sender, "/choice:services")  # the services directory: reached help
        await post(sender, "/choice:go_on")
    unknown = await post(sender_id("plain"), "hello", metadata={"from": "someone_else"})
    assert unknown[0]["text"] == text_of(chat, "welcome.hello")
    assert await funnel(admin) == ["other_site,started,3", "other_site,reached_help,3"]
