"""My plan as one card with headings, in a real Chromium, with JavaScript on and off, on a
phone-sized and a desktop screen."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_webchat_browser import Served, Visit, served, until

pytestmark = pytest.mark.browser
__all__ = ["served"]  # the module's server, shared with the whole-conversation tests

PHONE = {"width": 375, "height": 812}
LAPTOP = {"width": 1280, "height": 800}


async def to_my_plan(visit: Visit, javascript: bool) -> None:
    await visit.start()
    page = visit.page
    for label in (
        "Okay, go on",
        "Okay, go on",
        "I'm curious about this program",
        "No thanks",
        "Show me the menu",
        "My plan",
    ):
        await page.get_by_role("button", name=label).first.click()
        if not javascript:
            await page.wait_for_load_state()
    if javascript:
        await until(page, "document.querySelector('#transcript li.card h2') !== null")


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
async def test_my_plan_is_one_card_with_headings(
    browser: Any, served: Served, javascript: bool
) -> None:
    visit = await Visit.open(browser, served, javascript)
    await to_my_plan(visit, javascript)
    page = visit.page
    cards = page.locator("#transcript li.card")
    assert await cards.count() == 1
    card = cards.first
    assert await card.locator("h2").inner_text() == "My plan"
    headings = await card.locator("h3").all_inner_texts()
    assert "If I am in crisis, or have thoughts of ending my life, I contact:" in headings
    # The plan's lines are in the card, not bubbles of their own.
    bubbles = " ".join(await page.locator("#transcript > li.bot").all_inner_texts())
    assert "If I am in crisis" not in bubbles and "Where I started" not in bubbles
    assert "Where I started" in await card.inner_text()
    assert await card.locator("a[href^='tel:']").count() >= 1  # numbers to tap
    for viewport in (PHONE, LAPTOP):
        await page.set_viewport_size(viewport)
        box = await card.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
        wider = await page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not wider  # nothing to scroll sideways
    await page.emulate_media(media="print")
    assert await card.is_visible()
    assert not await page.locator(".choices").first.is_visible()
    await visit.context.close()
