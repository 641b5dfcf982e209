"""The self-assessment as a person meets it, in a real Chromium at 375x812 and 1280x800 with
JavaScript on and off, and in w3m: a checklist whose picked items stay offered (pressed, tinted,
ticked, every label starting at the same place, focus kept on the item pressed), the 0-10 scale
with "I'd rather not say" (the numbers stay one row, the skip below them), and My plan as one
card; axe-core (WCAG 2.2 A and AA) on each. Screenshots of the checklist and the card go to
``docs/screenshots/``."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest

from tests.e2e.test_checklist_browser import press
from tests.e2e.test_webchat_browser import SCREENSHOTS, Served, Visit, axe_violations, served, until
from tests.helpers import require_ci

pytestmark = pytest.mark.browser
__all__ = ["served"]  # the module's server, shared with the whole-conversation tests

PHONE = {"width": 375, "height": 812}
LAPTOP = {"width": 1280, "height": 800}
SIZES = (("mobile", PHONE), ("desktop", LAPTOP))
TO_THE_CHECKLIST = (
    "Okay, go on",
    "Okay, go on",
    "I'm curious about this program",
    "No thanks",
    "Show me the menu",
    "A self-assessment of my use",
    "Let's begin",
    "About once a week",
)
PICKED = ("It happens more often", "It's harder to stop once I start")
SKIP = "I'd rather not say"


async def walk(visit: Visit, javascript: bool, labels: tuple[str, ...]) -> None:
    for label in labels:
        if javascript:
            await until(visit.page, "!document.getElementById('choices').hidden")
        await press(visit, javascript, label)
    if javascript:
        await until(visit.page, "!document.getElementById('choices').hidden")


async def choice_boxes(page: Any) -> list[dict[str, Any]]:
    """Each offered choice: its label, whether it is pressed, and where the button, its tick
    and the first letter of its label are on the screen."""
    found: list[dict[str, Any]] = await page.evaluate(
        """() => [...document.querySelectorAll('#choices li button')].map(button => {
            const box = (r) => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                                 width: r.width, height: r.height});
            const text = [...button.childNodes].filter(n => n.nodeType === 3).pop();
            const range = document.createRange();
            range.setStart(text, 0);
            range.setEnd(text, 1);
            const mark = button.querySelector('.mark');
            return {label: text.data.trim(), pressed: button.getAttribute('aria-pressed'),
                    number: button.parentElement.classList.contains('number'),
                    button: box(button.getBoundingClientRect()),
                    text: box(range.getBoundingClientRect()),
                    mark: mark ? box(mark.getBoundingClientRect()) : null,
                    background: getComputedStyle(button).backgroundColor};
        })"""
    )
    return found


async def sideways(page: Any) -> bool:
    return bool(await page.evaluate("document.documentElement.scrollWidth > window.innerWidth"))


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
async def test_picked_items_stay_offered_ticked_and_every_label_lines_up(
    browser: Any, served: Served, javascript: bool
) -> None:
    visit = await Visit.open(browser, served, javascript)
    page = visit.page
    await visit.start()
    await walk(visit, javascript, TO_THE_CHECKLIST + PICKED)
    await page.mouse.move(0, 0)  # no hover tint on the last button pressed
    for name, size in SIZES:
        await page.set_viewport_size(size)
        choices = await choice_boxes(page)
        assert [c["label"] for c in choices if c["pressed"] == "true"] == list(PICKED)
        assert len(choices) == 5  # picked items are still offered, to be taken off
        starts = {round(c["text"]["left"]) for c in choices}
        assert len(starts) == 1, choices  # ticked or not, each label starts at the same place
        for choice in choices:
            mark = choice["mark"]
            if choice["pressed"]:
                assert mark is not None and mark["width"] > 0  # the tick is shown
                assert choice["button"]["left"] < mark["left"]
                assert mark["right"] <= choice["text"]["left"]  # before the label, not on it
                assert abs(mark["top"] - choice["text"]["top"]) < 4  # on the label's line
            else:
                assert mark is None
            assert choice["button"]["height"] >= 44 and choice["button"]["right"] <= size["width"]
        tints = {c["pressed"]: c["background"] for c in choices}
        assert tints["true"] != tints[None]  # a picked item looks pressed, not only bold
        assert not await sideways(page)
        if not javascript:
            await page.screenshot(path=str(SCREENSHOTS / f"webchat-checklist-{name}.png"))
    assert await axe_violations(browser, page.url.split("#", 1)[0], javascript) == []
    await visit.context.close()


async def test_the_keyboard_stays_on_the_checklist_item_it_pressed(
    browser: Any, served: Served
) -> None:
    visit = await Visit.open(browser, served, javascript=True)
    page = visit.page
    await visit.start()
    await walk(visit, True, TO_THE_CHECKLIST)
    third = page.get_by_role("button", name=PICKED[1], exact=True)
    await third.focus()
    before = await page.locator("#transcript li").count()
    await page.keyboard.press("Enter")
    await until(page, f"document.querySelectorAll('#transcript li').length > {before}")
    await until(page, "!document.getElementById('choices').hidden")
    focused = await page.evaluate(
        "[document.activeElement.textContent, document.activeElement.getAttribute('aria-pressed')]"
    )
    assert focused == ["✓ " + PICKED[1], "true"]  # Enter again would take it off
    # A new question, not the same list again: focus is on its first choice.
    await page.get_by_role("button", name="That's all", exact=True).focus()
    await page.keyboard.press("Enter")
    await page.get_by_role("button", name="10", exact=True).wait_for()
    await until(page, "document.activeElement.textContent === '0'")
    await visit.context.close()


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
async def test_the_urge_scale_stays_one_row_with_the_skip_below_it(
    browser: Any, served: Served, javascript: bool
) -> None:
    visit = await Visit.open(browser, served, javascript)
    page = visit.page
    await visit.start()
    await walk(visit, javascript, (*TO_THE_CHECKLIST, "None of these"))
    assert any("how strong have urges" in line for line in await visit.lines())
    for _, size in SIZES:
        await page.set_viewport_size(size)
        choices = await choice_boxes(page)
        numbers = [c["button"] for c in choices if c["number"]]
        others = [c for c in choices if not c["number"]]
        assert [c["label"] for c in choices if c["number"]] == [str(n) for n in range(11)]
        assert len({round(box["top"]) for box in numbers}) == 1, numbers  # 0 to 10: one row
        assert all(box["width"] >= 24 and box["height"] >= 24 for box in numbers)  # WCAG 2.5.8
        assert all(box["right"] <= size["width"] for box in numbers)
        assert [c["label"] for c in others] == [SKIP]
        skip = others[0]["button"]
        assert skip["top"] >= max(box["bottom"] for box in numbers)  # below the scale, apart
        assert skip["right"] <= size["width"] and skip["height"] >= 44
        assert not await sideways(page)
    assert await axe_violations(browser, page.url.split("#", 1)[0], javascript) == []
    await press(visit, javascript, SKIP)
    await until(
        page,
        "[...document.querySelectorAll('#transcript li.bot')].some(li => "
        "li.textContent.includes('Take from the next questions whatever helps'))",
    )
    await visit.context.close()


TO_MY_PLAN = (
    "None of these",
    "6",
    "A few hours",
    "When I feel low or stressed",
    "That's all",
    "Blocking software or filters",
    "That's all",
    "See my plan",
)


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
async def test_my_plan_after_the_self_assessment_is_one_readable_card(
    browser: Any, served: Served, javascript: bool
) -> None:
    visit = await Visit.open(browser, served, javascript)
    page = visit.page
    await visit.start()
    await walk(visit, javascript, TO_THE_CHECKLIST + TO_MY_PLAN)
    if javascript:
        await until(page, "document.querySelector('#transcript li.card h2') !== null")
    card = page.locator("#transcript li.card").last
    text = await card.inner_text()
    assert "When I feel low or stressed" in text and "Blocking software or filters" in text
    for name, size in SIZES:
        await page.set_viewport_size(size)
        box = await card.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= size["width"]
        assert not await sideways(page)
        if not javascript:
            # The picture is of the card alone: on a screen shorter than the card, the message
            # box (which stays at the bottom of the screen) would be drawn over it.
            tall = {"width": size["width"], "height": round(box["height"]) + size["height"]}
            await page.set_viewport_size(tall)
            await card.screenshot(path=str(SCREENSHOTS / f"webchat-plan-card-{name}.png"))
            await page.set_viewport_size(size)
    assert await axe_violations(browser, page.url.split("#", 1)[0], javascript) == []
    await visit.context.close()


def w3m_lines(url: str) -> list[str]:
    w3m = shutil.which("w3m")
    if w3m is None:
        require_ci("w3m is not installed (apt-get install w3m)")
        raise AssertionError("unreachable")
    dump = subprocess.run(
        [w3m, "-dump", "-cols", "80", "-O", "UTF-8", url],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    return [line.strip(" •*□") for line in dump.splitlines()]  # w3m's bullets


async def test_w3m_shows_the_ticks_and_the_card_line_by_line(browser: Any, served: Served) -> None:
    visit = await Visit.open(browser, served, javascript=False)
    await visit.start()
    await walk(visit, False, TO_THE_CHECKLIST + PICKED)
    url = visit.page.url.split("#", 1)[0]
    lines = w3m_lines(url)
    for label in PICKED:
        assert "✓ " + label in lines, lines  # ticked, alone on its line
    for label in ("I spend more time on it", "That's all", "None of these"):
        assert label in lines, lines
    await walk(visit, False, TO_MY_PLAN)
    lines = w3m_lines(url)
    assert "My plan" in lines
    # The card's headings and items each on a line of their own, not run together.
    assert "If I am in crisis, or have thoughts of ending my life, I contact:" in lines, lines
    assert any(line.startswith("Where I started:") for line in lines), lines
    await visit.context.close()
