"""The outcome questions in a real Chromium, JavaScript on and off: every answer is a button,
the thanks comes after the last WHO-5 item, and the welcome goes on where it was."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_checklist_browser import press
from tests.e2e.test_webchat_browser import Served, Visit, served, until

pytestmark = pytest.mark.browser
__all__ = ["served"]


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
async def test_the_questions_are_answered_with_buttons_and_the_program_goes_on(
    browser: Any, served: Served, javascript: bool
) -> None:
    visit = await Visit.open(browser, served, javascript)
    await visit.start()
    for label in ("Okay, go on", "Okay, go on", "I'm curious about this program"):
        await press(visit, javascript, label)
    page = visit.page
    # The turn's messages arrive one by one with script on: wait for the question itself.
    await until(page, "document.body.innerText.includes('would you answer a few short questions')")
    for label in ("Yes, I'll answer", "3", "Less than an hour", "4", "7"):
        await press(visit, javascript, label)
    for label in ("Most of the time", "Some of the time", "At no time", "All of the time"):
        await press(visit, javascript, label)
    await press(visit, javascript, "More than half of the time")
    await until(page, "document.body.innerText.includes('Your answers have been counted')")
    # the welcome goes on where it was: start the program, or the menu
    await until(page, "document.body.innerText.includes('Show me the menu')")
    await visit.context.close()
