"""The web chat's layout as a person sees it, in a real Chromium at 375x812 and 1280x800 with
JavaScript on and off, and in w3m: a 0-10 scale in one compact row, the message box at the
bottom of the screen, old choices gone while new lines arrive, each answer a separate item in
a text browser, and an exit page that asks for nothing that is not there."""

from __future__ import annotations

import re
import shutil
import subprocess
import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.e2e import test_webchat_browser
from tests.e2e.test_webchat_browser import SCREENSHOTS, Served, Visit, until
from tests.helpers import require_ci
from tests.integration.webchat.test_resume_words import TO_THE_WORDS

pytestmark = pytest.mark.browser
served = test_webchat_browser.served  # the same server fixture: `redirection-bot serve`

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}
TO_THE_SCALE = ("Okay, go on", "Okay, go on", "I want to stop", "No thanks", "Skip this question")
SCALE_QUESTION = "how important is it to you to stop"


async def open_at_the_scale(
    browser: Any, served: Served, javascript: bool, size: dict[str, int]
) -> Visit:
    context = await browser.new_context(java_script_enabled=javascript, viewport=size)
    visit = Visit(context, await context.new_page(), served)
    await visit.start()
    for label in TO_THE_SCALE:
        if javascript:
            await visit.page.wait_for_selector("body.live")
            await until(visit.page, "!document.getElementById('choices').hidden")
        await visit.page.get_by_role("button", name=label, exact=True).click()
        if not javascript:
            await visit.page.wait_for_load_state()
    await visit.page.get_by_role("button", name="10", exact=True).wait_for()
    return visit


async def boxes(page: Any, selector: str) -> list[dict[str, float]]:
    found: list[dict[str, float]] = await page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].map(e => {
            const b = e.getBoundingClientRect();
            return {left: b.left, right: b.right, top: b.top, bottom: b.bottom, width: b.width,
                    height: b.height};
        })""",
        selector,
    )
    return found


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("javascript", [False, True], ids=["no-javascript", "javascript"])
async def test_a_0_to_10_scale_is_one_compact_row(
    browser: Any, served: Served, javascript: bool, size: dict[str, int]
) -> None:
    visit = await open_at_the_scale(browser, served, javascript, size)
    page = visit.page
    assert SCALE_QUESTION in " ".join(await visit.lines())
    buttons = await boxes(page, "#choices li.number button")
    assert len(buttons) == 11
    # "I'm not sure" (the twenty-first round) on a row of its own, under the points
    (not_sure,) = await boxes(page, "#choices li:not(.number) button")
    assert not_sure["top"] >= buttons[0]["bottom"]
    assert len({round(box["top"]) for box in buttons}) == 1, buttons  # one row
    assert all(box["right"] <= size["width"] for box in buttons)  # none off the screen
    assert all(box["width"] >= 24 and box["height"] >= 24 for box in buttons)  # WCAG 2.5.8
    assert buttons[-1]["right"] - buttons[0]["left"] <= 11 * 4.5 * 16  # compact, not stretched
    if not javascript:
        name = "mobile" if size is PHONE else "desktop"
        await page.screenshot(path=str(SCREENSHOTS / f"webchat-scale-{name}.png"))
    await page.get_by_role("button", name="8", exact=True).click()
    if javascript:
        await until(
            page,
            "[...document.querySelectorAll('#transcript li.you')].some(li => li.textContent.trim().endsWith(' 8'))",
        )
    else:
        await page.wait_for_load_state()
    assert "You 8" in await visit.lines()
    await visit.context.close()


@pytest.mark.parametrize("javascript", [False, True], ids=["no-javascript", "javascript"])
async def test_the_message_box_stays_at_the_bottom_of_a_phone_screen(
    browser: Any, served: Served, javascript: bool
) -> None:
    visit = await open_at_the_scale(browser, served, javascript, PHONE)
    page = visit.page
    for scroll in ("0", "document.body.scrollHeight / 2"):
        await page.evaluate(f"window.scrollTo(0, {scroll})")
        box = (await boxes(page, "#message"))[0]
        assert box["top"] > 0 and box["bottom"] <= PHONE["height"], box
        assert await page.get_by_label("Your message").is_visible()
    # The newest line is shown above the box, not under it.
    await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    question = await page.evaluate(
        """() => { const lines = document.querySelectorAll('#transcript li');
                   return lines[lines.length - 1].getBoundingClientRect().bottom; }"""
    )
    assert question <= (await boxes(page, ".dock"))[0]["top"] + 1
    await visit.context.close()


async def test_old_choices_are_hidden_while_new_lines_arrive(browser: Any, served: Served) -> None:
    visit = await open_at_the_scale(browser, served, True, PHONE)
    page = visit.page
    # Mutation records come in order: a new bot line was shown beside the choices when the
    # next change of the choices' `hidden` found it absent (or, with no next change, now).
    await page.evaluate(
        """() => {
            window.changes = [];
            new MutationObserver((records) => {
                for (const r of records) {
                    if (r.type === 'attributes' && r.target.id === 'choices') {
                        window.changes.push(['hidden', r.oldValue]);
                    }
                    for (const added of r.addedNodes || []) {
                        if (added.classList && added.classList.contains('bot')) {
                            window.changes.push(['line', null]);
                        }
                    }
                }
            }).observe(document.getElementById('main'), {
                childList: true, subtree: true, attributes: true,
                attributeFilter: ['hidden'], attributeOldValue: true});
        }"""
    )
    before = len(await visit.lines())
    await page.get_by_label("Your message").fill("eight")  # a number written as a word
    await page.get_by_label("Your message").press("Enter")
    await until(
        page,
        f"document.querySelectorAll('#transcript li').length > {before + 2}",
    )
    await until(page, "!document.getElementById('choices').hidden")
    shown_beside = await page.evaluate(
        """() => {
            const changes = window.changes;
            const choicesHiddenAfter = (i) => {
                for (let j = i + 1; j < changes.length; j += 1) {
                    if (changes[j][0] === 'hidden') { return changes[j][1] !== null; }
                }
                return document.getElementById('choices').hidden;
            };
            return changes.filter((c, i) => c[0] === 'line' && !choicesHiddenAfter(i)).length;
        }"""
    )
    assert shown_beside == 0
    assert "You eight" in await visit.lines()
    assert any("You chose 8" in line or "8" in line for line in (await visit.lines())[before + 1 :])
    await visit.context.close()


def post(url: str, data: dict[str, str]) -> tuple[str, str]:
    body = urllib.parse.urlencode(data).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=10) as response:
        return str(response.url).split("#", 1)[0], response.read().decode()


def test_w3m_shows_each_answer_as_a_separate_item(served: Served) -> None:
    w3m = shutil.which("w3m")
    if w3m is None:
        require_ci("w3m is not installed (apt-get install w3m)")
    url, page = post(served.url + "/start", {"locale": "en"})
    for choice in ("go_on", "go_on"):
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        url, page = post(url, {"csrf": csrf.group(1), "choice": choice})
    dump = subprocess.run(
        [w3m, "-dump", "-cols", "80", url], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    lines = [line.strip(" •*") for line in dump.splitlines()]
    for label in ("I'm curious about this program", "I want to cut down", "I want to stop"):
        assert label in lines, dump  # alone on its line, not run together with the others


def test_w3m_shows_a_message_s_line_breaks(served: Served) -> None:
    """The six words stand on a line of their own, not run into the next sentence."""
    w3m = shutil.which("w3m")
    if w3m is None:
        require_ci("w3m is not installed (apt-get install w3m)")
    url, page = post(served.url + "/start", {"locale": "en"})
    for choice in TO_THE_WORDS:
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        url, page = post(url, {"csrf": csrf.group(1), "choice": choice})
    # The page as it was drawn after the press: the words are shown once, to the page that
    # asked for them, and a page drawn again (w3m fetching the address) has a notice instead.
    dump = subprocess.run(
        [w3m, "-dump", "-T", "text/html", "-cols", "200", "-O", "UTF-8"],
        input=page,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    lines = [line.strip(" •*") for line in dump.splitlines()]
    found = [i for i, line in enumerate(lines) if "Your words are: " in line]
    assert found, dump
    at = found[0]
    assert len(lines[at].split("Your words are: ")[1].split()) == 6, lines[at]
    assert lines[at + 1].strip().startswith("Write them down somewhere private"), dump


async def test_the_exit_page_asks_for_nothing_missing(browser: Any, served: Served) -> None:
    for javascript in (False, True):
        context = await browser.new_context(java_script_enabled=javascript, viewport=PHONE)
        page = await context.new_page()
        statuses: list[tuple[str, int]] = []

        def seen(response: Any, into: list[tuple[str, int]] = statuses) -> None:
            into.append((response.url, response.status))

        page.on("response", seen)
        await page.goto(served.url + "/blank")
        await page.wait_for_load_state("networkidle")
        assert await page.title() == "New tab"
        assert [found for found in statuses if found[1] >= 400] == []
        await context.close()
