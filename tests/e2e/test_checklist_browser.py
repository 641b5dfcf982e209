"""A checklist pick can be taken off, and shows as picked, in a real Chromium with JavaScript
on and off."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_webchat_browser import Served, Visit, served, until

pytestmark = pytest.mark.browser
__all__ = ["served"]  # the module's server, shared with the whole-conversation tests


async def press(visit: Visit, javascript: bool, name: str) -> None:
    page = visit.page
    if javascript:
        before = await page.locator("#transcript li").count()
    await page.get_by_role("button", name=name, exact=True).first.click()
    if javascript:
        await until(page, f"document.querySelectorAll('#transcript li').length > {before}")
    else:
        await page.wait_for_load_state()


async def say(visit: Visit, javascript: bool, text: str) -> None:
    page = visit.page
    if javascript:
        before = await page.locator("#transcript li").count()
    await page.fill("#message", text)
    await page.press("#message", "Enter")
    if javascript:
        await until(page, f"document.querySelectorAll('#transcript li').length > {before}")
    else:
        await page.wait_for_load_state()


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
async def test_a_picked_item_is_marked_and_taken_off_when_pressed_again(
    browser: Any, served: Served, javascript: bool
) -> None:
    visit = await Visit.open(browser, served, javascript)
    await visit.start()
    for label in (
        "Okay, go on",
        "Okay, go on",
        "I'm curious about this program",
        "No thanks",
        "Show me the menu",
    ):
        await press(visit, javascript, label)
    await press(visit, javascript, "My reasons for change")
    await press(visit, javascript, "Skip this question")
    await say(visit, javascript, "8")
    await say(visit, javascript, "8")
    page = visit.page
    guilt = page.locator(".choices button", has_text="Guilt and shame")
    assert await guilt.get_attribute("aria-pressed") is None
    await press(visit, javascript, "Guilt and shame")
    # Still offered, and pressed (the new choices may land just after the new message).
    await until(
        page,
        "[...document.querySelectorAll('.choices button')].some(b => "
        "b.textContent.includes('Guilt and shame') && b.getAttribute('aria-pressed') === 'true')",
    )
    guilt = page.locator(".choices button", has_text="Guilt and shame")
    assert "✓" in await guilt.inner_text()
    await guilt.click()
    if not javascript:
        await page.wait_for_load_state()
    await until(
        page,
        "[...document.querySelectorAll('.choices button')].some(b => "
        "b.textContent.includes('Guilt and shame') && !b.hasAttribute('aria-pressed'))",
    )
    await visit.context.close()
