"""Resume words in a real Chromium, JavaScript off and on: the person is told that "Leave now"
keeps the copy the words open, "Leave now" keeps it, and "Erase my conversation" deletes it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.test_webchat_browser import Served, Visit, served, until
from tests.integration.webchat.test_resume_words import TO_THE_WORDS

pytestmark = pytest.mark.browser
__all__ = ["served"]  # the served web chat, shared with the other browser tests

WORDS = re.compile(r"Your words are: ([^\W\d_]+(?: [^\W\d_]+){5})")


async def pick(visit: Visit, choice: str, javascript: bool) -> None:
    bots = "document.querySelectorAll('#transcript li.bot').length"
    before = await visit.page.evaluate(bots)
    await visit.page.locator(f'#choices button[value="{choice}"]').click()
    if javascript:
        await until(visit.page, f"{bots} > {before}")
    else:
        await visit.page.wait_for_load_state()


async def say(visit: Visit, text: str, javascript: bool) -> None:
    box = visit.page.get_by_label("Your message")
    await box.fill(text)
    await box.press("Enter")
    if javascript:
        await until(visit.page, "document.querySelectorAll('#transcript li.bot').length > 3")
    else:
        await visit.page.wait_for_load_state()


async def come_back(browser: Any, served: Served, words: str, javascript: bool) -> Visit:
    visit = await Visit.open(browser, served, javascript=javascript)
    await visit.start()
    if javascript:
        await visit.page.wait_for_selector("body.live")
    await say(visit, words, javascript)
    return visit


@pytest.mark.parametrize("javascript", [False, True], ids=["no-javascript", "javascript"])
async def test_leave_now_keeps_the_words_working_and_erase_ends_them(
    browser: Any, served: Served, javascript: bool
) -> None:
    visit = await Visit.open(browser, served, javascript=javascript)
    await visit.start()
    if javascript:
        await visit.page.wait_for_selector("body.live")
    for choice in TO_THE_WORDS:
        await pick(visit, choice, javascript)
    if javascript:  # the turn's messages arrive one by one: wait for the words themselves
        await until(visit.page, "document.body.innerText.includes('Your words are:')")
    shown = "\n".join(await visit.lines())
    found = WORDS.search(shown)
    assert found, shown[-600:]
    words = found.group(1).strip()
    assert "“Leave now” closes this conversation, but these words still open" in shown
    note = visit.page.locator(".leave-note")
    assert await note.is_visible()
    assert "If you got words to come back later" in await note.inner_text()
    await visit.page.get_by_role("button", name="Leave now").click()
    await visit.page.wait_for_url(re.compile(r"/blank$"))
    await visit.context.close()

    back = await come_back(browser, served, words, javascript)
    await until(back.page, "document.body.textContent.includes('Welcome back')")
    await back.page.get_by_role("button", name="Erase my conversation").click()
    await back.page.wait_for_url(re.compile(r"erased=1"))
    await back.context.close()

    again = await come_back(browser, served, words, javascript)
    await until(again.page, "document.body.textContent.includes('I could not open a saved')")
    assert not any("Welcome back" in line for line in await again.lines())
    await again.context.close()
