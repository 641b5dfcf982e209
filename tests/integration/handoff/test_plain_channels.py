"""A handoff seen without the live page: the chat as plain HTML forms (JavaScript off, as in
Tor Browser "Safest") and the Rasa-compatible REST channel. The operator's words reach the
person at the next refresh or answer, the person's reach the operator, and the program
says nothing of its own while the operator has the conversation."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from redirection_bot.handoff.desk import Operator, Outcome
from redirection_bot.handoff.wire import PersonWrote, TicketOpened
from redirection_bot.program.load import LoadedProgram
from tests.helpers import sender_id
from tests.integration.handoff.conftest import Setup, handoff_settings, running
from tests.integration.webchat.conftest import Page, choose, page_at, press, say, start

WIDGET = sender_id("widget-1")
ANNA = Operator("@anna:helpline.example", "Anna")
Client = TestClient[Any, Any]


def text(setup: Setup, key: str, **params: str) -> str:
    return setup.runtime.loaded.catalog.render(key, "en", params)


async def fresh(client: Client, page: Page) -> Page:
    """The page as it is drawn again (its waiting frame shows the same meanwhile)."""
    return await page_at(client, await client.get(f"/c/{page.token}"))


def shown(page: Page) -> str:
    return "\n".join(line for _kind, line in page.lines)


async def test_with_javascript_off_the_person_and_the_operator_talk_and_the_program_resumes(
    shipped: LoadedProgram,
) -> None:
    async with running(shipped, handoff_settings("test", {})) as setup:
        line = await setup.operators()
        client = setup.client
        await line.service.duty(ANNA.ref, True)
        page = await start(client)
        page = await choose(client, page, text(setup, "welcome.go_on"))
        page = await page_at(client, await press(client, page, "command", command="help"))
        page = await choose(client, page, text(setup, "support.ask_person"))
        assert text(setup, "handoff.available_now") in shown(page)
        # The page holds a frame that will fetch what comes (the page itself never reloads).
        assert 'class="waiting-frame"' in page.html and 'http-equiv="refresh"' not in page.html
        frame = await client.get(f"/c/{page.token}/waiting?since={len(page.lines)}")
        assert '<meta http-equiv="refresh"' in await frame.text()
        (opened,) = await line.told(TicketOpened)
        assert isinstance(opened, TicketOpened)

        assert await line.service.claim(opened.ticket, ANNA) is Outcome.APPLIED
        outcome = await line.service.write(opened.ticket, ANNA, "I'm here. Take your time.", "m1")
        assert outcome is Outcome.APPLIED
        page = await fresh(client, page)
        assert "Anna from our support team has joined" in shown(page)
        said = f"{text(setup, 'handoff.from_operator', operator='Anna')} I'm here. Take your time."
        assert said in shown(page)  # labelled with the name the person was told, not the program's

        before = len(page.lines)
        page = await say(client, page, "thank you, I was not sure anyone would answer")
        with_anna = page
        (wrote,) = await line.told(PersonWrote)
        assert isinstance(wrote, PersonWrote)
        assert wrote.text == "thank you, I was not sure anyone would answer"
        new = [line for kind, line in page.lines[before:] if kind == "bot"]
        assert new == []  # the program is silent while Anna has the conversation

        assert await line.service.close(opened.ticket, ANNA) is Outcome.APPLIED
        page = await fresh(client, page)
        assert text(setup, "handoff.operator_left") in shown(page)
        assert text(setup, "engine.handoff_ended") in shown(page)
        assert 'class="waiting-frame"' not in page.html
        assert page.choices()  # the program asks its question again

        # A reply typed to Anna on the page drawn while she had the conversation, sent after
        # she closed (the page shows the close only at its frame's next refresh): out of date,
        # never the answer to the program's question (the forty-sixth attack: in the plan).
        before = len(page.lines)
        after = await say(client, with_anna, "thanks for the talk")
        assert text(setup, "webchat.stale_form") in shown(after)
        assert not any("thanks for the talk" in line for _kind, line in after.lines[before:])
        assert await setup.runtime.state(f"web:{page.token}") is not None
        await line.stop()


async def test_over_rest_the_operators_words_come_with_the_next_answer(
    shipped: LoadedProgram,
) -> None:
    async with running(shipped, handoff_settings("test", {})) as setup:
        line = await setup.operators()
        client = setup.client

        async def post(message: str) -> list[dict[str, Any]]:
            response = await client.post(
                "/webhooks/rest/webhook", json={"sender": WIDGET, "message": message}
            )
            assert response.status == 200
            answer: list[dict[str, Any]] = await response.json()
            return answer

        await line.service.duty(ANNA.ref, True)
        await post("hello")
        await post("/choice:go_on")
        await post("/help")
        asked = await post("/choice:person")
        assert any(m.get("custom", {}).get("type") == "handoff" for m in asked)
        (opened,) = await line.told(TicketOpened)
        assert isinstance(opened, TicketOpened)
        assert await line.service.claim(opened.ticket, ANNA) is Outcome.APPLIED
        assert await line.service.write(opened.ticket, ANNA, "Hello, I'm Anna.", "m1") is (
            Outcome.APPLIED
        )

        answer = await post("hello?")
        operator = [m for m in answer if m.get("custom", {}).get("type") == "operator"]
        assert [m["text"] for m in operator] == ["Hello, I'm Anna."]
        assert operator[0]["custom"] == {"type": "operator", "name": "Anna"}
        wrote = await line.told(PersonWrote)
        assert [w.text for w in wrote if isinstance(w, PersonWrote)] == ["hello?"]

        assert await line.service.close(opened.ticket, ANNA) is Outcome.APPLIED
        after = [m.get("text") for m in await post("ok")]
        assert text(setup, "handoff.operator_left") in after
        assert text(setup, "engine.handoff_ended") in after
        await line.stop()
