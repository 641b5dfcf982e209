"""The emergency advice on a phone, in a real Chromium at 375x812, with JavaScript off and on:
after "yes, I'm in danger now" the advice (call the emergency number) is on screen, whole and
not under the bar at the top, once the country question that follows it has arrived; and the
old choices are not offered beside it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e import test_webchat_browser
from tests.e2e.test_webchat_browser import Served, Visit, until

pytestmark = pytest.mark.browser
served = test_webchat_browser.served  # the same server fixture: `redirection-bot serve`

PHONE = {"width": 375, "height": 812}
DISCLOSURE = "i want to kill myself"
IN_DANGER = "Yes, I'm in danger now"
ADVICE = "Please call 112 or 911 or the emergency number where you are now"
COUNTRY = "Then I'll show you crisis lines"
LINE_WITH = (
    "[...document.querySelectorAll('#transcript li.bot')].find(li => li.textContent.includes(%r))"
)


async def box_in_view(page: Any, text: str) -> dict[str, float]:
    """The bounding box of the bot's line holding ``text``, with the visible area below the
    sticky bar."""
    found: dict[str, float] = await page.evaluate(
        f"""() => {{
            const line = {LINE_WITH % text};
            const box = line.getBoundingClientRect();
            const bar = document.querySelector('.bar').getBoundingClientRect();
            return {{top: box.top, bottom: box.bottom, barBottom: bar.bottom,
                     height: window.innerHeight}};
        }}"""
    )
    return found


@pytest.mark.parametrize("javascript", [False, True], ids=["no-javascript", "javascript"])
async def test_the_emergency_advice_stays_on_a_phone_screen(
    browser: Any, served: Served, javascript: bool
) -> None:
    context = await browser.new_context(java_script_enabled=javascript, viewport=PHONE)
    visit = Visit(context, await context.new_page(), served)
    page = visit.page
    await visit.start()
    if javascript:
        await page.wait_for_selector("body.live")
    await page.get_by_label("Your message").fill(DISCLOSURE)
    await page.get_by_label("Your message").press("Enter")
    danger = page.get_by_role("button", name=IN_DANGER)
    await danger.wait_for()
    await danger.click()
    if javascript:
        # While the reply comes in, line by line, the old choices are gone.
        await until(page, f"Boolean({LINE_WITH % ADVICE})")
        old = page.get_by_role("button", name=IN_DANGER)
        assert await old.count() == 0 or not await old.is_visible()
        await until(page, f"Boolean({LINE_WITH % COUNTRY})")
        await until(page, "!document.getElementById('choices').hidden")
    else:
        await page.wait_for_load_state()
    assert await page.get_by_role("button", name="United Kingdom").count() == 1
    assert await page.get_by_role("button", name=IN_DANGER).count() == 0
    box = await box_in_view(page, ADVICE)
    assert box["top"] >= box["barBottom"] - 1, box  # not under the bar
    assert box["bottom"] <= box["height"], box  # not below the screen
    # The crisis lines that follow: numbers to tap, and only where they stand alone (the
    # "988" of 988lifeline.org is part of a web address, not a number to call).
    await page.get_by_role("button", name="United States").click()
    if javascript:
        await until(page, f"Boolean({LINE_WITH % 'lifeline.org'})")
    else:
        await page.wait_for_load_state()
    touching: list[str] = await page.evaluate(
        """() => [...document.querySelectorAll('#transcript a[href^="tel:"]')]
            .filter(a => /^[0-9A-Za-z_@]/.test((a.nextSibling || {}).textContent || '')
                      || /[0-9A-Za-z_@]$/.test((a.previousSibling || {}).textContent || ''))
            .map(a => a.parentNode.textContent)"""
    )
    assert touching == []
    assert await page.locator("#transcript a[href='tel:988']").count() >= 1
    await visit.context.close()
