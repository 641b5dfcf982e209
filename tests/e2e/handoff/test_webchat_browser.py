"""A handoff in a real Chromium: a person on the web chat's live page asks for a person, an
operator claims and writes, and the page shows their words at once, labelled with their
name; with JavaScript off the same words arrive at the page's next refresh. The page during
a handoff passes axe-core (WCAG 2.2 A and AA) in both modes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from redirection_bot.handoff.desk import Operator, Outcome
from redirection_bot.handoff.wire import TicketOpened
from redirection_bot.program.load import LoadedProgram
from tests.e2e.test_webchat_browser import Served, Visit, axe_violations, until
from tests.integration.handoff.conftest import Setup, handoff_settings, running

pytestmark = pytest.mark.browser

ANNA = Operator("@anna:helpline.example", "Anna")
WORDS = "Hello, I'm Anna. Take all the time you need."


def text(setup: Setup, key: str, **params: str) -> str:
    return setup.runtime.loaded.catalog.render(key, "en", params)


async def ask_for_a_person(visit: Visit, setup: Setup) -> str:
    """Start, answer the first question, then "Talk to a person" twice; the ticket."""
    page = visit.page
    await page.locator("#choices button").first.click()
    await page.locator('button[name="command"][value="help"]').click()
    await (
        page.locator("#choices")
        .get_by_role("button", name=text(setup, "support.ask_person"))
        .click()
    )
    line = await setup.operators()
    (opened,) = await line.told(TicketOpened)
    await line.stop()
    assert isinstance(opened, TicketOpened)
    return opened.ticket


@pytest.mark.parametrize("javascript", [True, False], ids=["live", "no-javascript"])
async def test_an_operators_words_reach_the_page_and_it_stays_accessible(
    browser: Any, shipped: LoadedProgram, javascript: bool
) -> None:
    async with running(shipped, handoff_settings("test", {})) as setup:
        service = setup.desk.service("helpline", setup.runtime)
        await service.duty(ANNA.ref, True)
        url = str(setup.client.make_url("")).rstrip("/")
        visit = await Visit.open(browser, Served(url, Path(os.devnull)), javascript=javascript)
        chat_url = await visit.start()
        if javascript:
            await visit.page.wait_for_selector("body.live")
        ticket = await ask_for_a_person(visit, setup)
        assert await service.claim(ticket, ANNA) is Outcome.APPLIED
        assert await service.write(ticket, ANNA, WORDS, "m1") is Outcome.APPLIED
        if javascript:
            await until(visit.page, "document.querySelector('#transcript li.operator') !== null")
        else:
            await visit.page.reload()  # what the page's meta refresh does by itself
        said = visit.page.locator("#transcript li.operator")
        assert " ".join((await said.inner_text()).split()) == (
            f"{text(setup, 'handoff.from_operator', operator='Anna')} {WORDS}"
        )
        assert await axe_violations(browser, chat_url, javascript=javascript) == []
        assert visit.other_sites() == []
        await visit.context.close()


async def test_without_scripting_what_the_person_types_while_waiting_is_never_emptied(
    scriptless_browser: Any, shipped: LoadedProgram
) -> None:
    """The nineteenth retest (Chromium with scripting off in its settings): the page
    refreshed itself every 15 s while the person waited, and emptied the text box. Only the
    frame above it refreshes now, and the operator's words appear there."""
    settings = handoff_settings("test", {})
    async with running(shipped, settings) as setup:
        service = setup.desk.service("helpline", setup.runtime)
        await service.duty(ANNA.ref, True)
        url = str(setup.client.make_url("")).rstrip("/")
        served = Served(url, Path(os.devnull))
        visit = await Visit.open(scriptless_browser, served, javascript=True)
        await visit.start()
        ticket = await ask_for_a_person(visit, setup)
        box = visit.page.locator("#message")
        await box.fill("half of what I wanted to say")
        frame = visit.page.frame_locator("iframe.waiting-frame")
        await frame.locator("p.waiting").wait_for()
        assert await service.claim(ticket, ANNA) is Outcome.APPLIED
        assert await service.write(ticket, ANNA, WORDS, "m1") is Outcome.APPLIED
        await frame.locator("li.operator").wait_for(timeout=25_000)  # the frame's refresh
        assert WORDS in await frame.locator("li.operator").inner_text()
        assert await box.input_value() == "half of what I wanted to say"
        assert visit.other_sites() == []
        await visit.context.close()
