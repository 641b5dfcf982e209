"""Booking a chat with a counsellor in a real Chromium on a phone-sized screen, JavaScript off
and on: the person taps the button that shows their clock's time, then the one that shows a
free time, and sees their six words, the time booked and that no reminder can come. With the
book's clock moved into the slot, a fresh page with the words brings them to the counsellor.
Once in Finnish. The words never reach the log."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from redirection_bot.handoff.appointments import AppointmentBook, Slot
from redirection_bot.handoff.desk import HandoffDesk
from redirection_bot.operations.config import AppointmentSettings, AppointmentSlotSettings
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store.memory import MemoryStore
from redirection_bot.store.relay import MemoryRelay
from redirection_bot.store.resume import ResumeVault, word_list
from redirection_bot.turn.actions import RasaActionRunner
from redirection_bot.turn.runtime import Runtime
from redirection_bot_connectors.webchat import WebChatOptions, create_app
from tests.e2e.test_checklist_browser import press, say
from tests.e2e.test_webchat_browser import Served, Visit, until
from tests.integration.handoff.conftest import handoff_settings

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
NOON = dt.datetime(2030, 3, 4, 12, 0, tzinfo=dt.UTC).timestamp()  # a Monday
SLOTS = (
    AppointmentSlotSettings("tue-en", "2030-03-05T15:00:00Z", 45, "en"),
    AppointmentSlotSettings("wed-en", "2030-03-06T18:00:00Z", 45, "en"),
    AppointmentSlotSettings("tue-fi", "2030-03-05T15:00:00Z", 45, "fi"),
)
# six words of any list, accents included ("kesäkuu")
WORDS = {
    "en": re.compile(r"Your words are: ([^\W\d_]+(?: [^\W\d_]+){5})"),
    "fi": re.compile(r"Sanasi ovat: ([^\W\d_]+(?: [^\W\d_]+){5})"),
}


class Clock:
    """The appointment book's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = NOON

    def __call__(self) -> float:
        return self.now


@dataclass
class Booking:
    served: Served
    clock: Clock
    desk: HandoffDesk
    runtime: Runtime


@contextlib.asynccontextmanager
async def booking_chat(shipped: LoadedProgram) -> AsyncIterator[Booking]:
    """The web chat on a free port over a runtime with a helpline and an appointment book
    whose clock the test holds (the way ``tests/unit/turn/test_runtime_appointments.py`` does)."""
    clock = Clock()
    store = MemoryStore()
    desk = HandoffDesk(handoff_settings("test", {}), store, MemoryRelay())
    book = AppointmentBook(AppointmentSettings(slots=SLOTS), store, clock)
    runtime = Runtime(
        shipped,
        store,
        RasaActionRunner(shipped),
        resume=ResumeVault(store, cost=2**4),
        desk=desk,
        appointments=book,
    )
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(runtime, WebChatOptions())))
    await client.start_server()
    stop = asyncio.Event()
    ticking = asyncio.create_task(desk.run(runtime, stop))
    try:
        url = str(client.make_url("")).rstrip("/")
        yield Booking(Served(url, Path(os.devnull)), clock, desk, runtime)
    finally:
        stop.set()
        await ticking
        await client.close()
        await desk.relay.close()


async def open_phone(browser: Any, served: Served, javascript: bool) -> Visit:
    visit = await Visit.open(browser, served, javascript)
    await visit.page.set_viewport_size(PHONE)
    await visit.start()
    if javascript:
        await visit.page.wait_for_selector("body.live")
    return visit


async def shows(visit: Visit, text: str) -> None:
    """Wait for ``text`` itself (with script on, a turn's messages arrive one by one)."""
    await until(visit.page, f"document.body.innerText.includes({text!r})")


async def buttons(visit: Visit) -> list[str]:
    return [
        " ".join(t.split()) for t in await visit.page.locator("#choices button").all_inner_texts()
    ]


async def to_the_clocks(visit: Visit, javascript: bool, talk: str, book: str, choose: str) -> None:
    """From the welcome to the booking's clocks: "Talk to a person", then book."""
    await press(visit, javascript, (await buttons(visit))[0])
    await visit.page.locator('button[name="command"][value="help"]').click()
    if not javascript:
        await visit.page.wait_for_load_state()
    await shows(visit, talk)
    await visit.page.locator('#choices button[value="appointment"]').click()
    await shows(visit, book)
    await press(visit, javascript, choose)


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
async def test_a_person_taps_their_time_books_and_comes_back_to_the_counsellor(
    browser: Any, shipped: LoadedProgram, javascript: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with booking_chat(shipped) as booking:
        visit = await open_phone(browser, booking.served, javascript)
        await to_the_clocks(
            visit, javascript, "talk to a trained person", "six words", "Choose a time"
        )
        await shows(visit, "Which of these is the time on your clock now?")
        # the time now on the four English clocks (UTC-8, UTC-5, UTC, UTC+1), on the buttons
        assert (await buttons(visit))[:4] == ["04:00", "07:00", "12:00", "13:00"]
        await press(visit, javascript, "07:00")
        await shows(visit, "Which time suits you?")
        assert await buttons(visit) == [
            "Tuesday 5 March, 10:00",
            "Wednesday 6 March, 13:00",
            "None of these suit me",
        ]
        before = caplog.text
        await press(visit, javascript, "Tuesday 5 March, 10:00")
        await shows(visit, "We cannot remind you")
        page_text = await visit.page.inner_text("body")
        assert "You 07:00" in " ".join(await visit.lines())  # the person's side, as tapped
        assert "Booked: Tuesday 5 March at 10:00 your time, for 45 minutes." in page_text
        found = WORDS["en"].search(page_text)
        assert found, page_text[-600:]
        words = found.group(1).strip()
        assert len(words.split()) == 6
        await visit.context.close()

        booking.clock.now = Slot.from_settings(SLOTS[0]).start - 5 * 60
        back = await open_phone(browser, booking.served, javascript)
        await say(back, javascript, words)
        await shows(back, "It's your booked time")
        assert len(await booking.desk.queue("helpline")) == 1  # the counsellor's ticket
        await back.context.close()

    logged = caplog.text
    assert "appointment booked" in logged  # the log was read: its events, not the words
    assert words not in logged
    for word in words.split():  # a word the log said anyway before (an event's name) proves nothing
        if not re.search(rf"\b{word}\b", before):
            assert not re.search(rf"\b{word}\b", logged), word


async def test_in_finnish_the_buttons_show_the_time_the_finnish_way(
    browser: Any, shipped: LoadedProgram
) -> None:
    async with booking_chat(shipped) as booking:
        visit = await open_phone(browser, booking.served, javascript=False)
        await visit.page.get_by_role("button", name="Suomi").click()
        await visit.page.wait_for_selector('html[lang="fi"]')
        await to_the_clocks(visit, False, "koulutetun ihmisen", "kuusi sanaa", "Valitse aika")
        # the Finnish clocks are UTC, UTC+1, UTC+2, UTC+3
        assert (await buttons(visit))[:4] == ["12:00", "13:00", "14:00", "15:00"]
        await press(visit, False, "14:00")
        assert (await buttons(visit))[0] == "tiistaina 5. maaliskuuta, klo 17:00"
        await press(visit, False, "tiistaina 5. maaliskuuta, klo 17:00")
        page_text = await visit.page.inner_text("body")
        assert "Varattu: tiistaina 5. maaliskuuta klo 17:00 sinun aikaasi" in page_text
        found = WORDS["fi"].search(page_text)
        assert found, page_text[-600:]
        assert all(word in word_list("fi") for word in found[1].split())  # Finnish words
        assert "Emme voi muistuttaa sinua" in page_text
        await visit.context.close()


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
async def test_erasing_after_booking_says_the_appointment_was_cancelled(
    browser: Any, shipped: LoadedProgram, javascript: bool
) -> None:
    async with booking_chat(shipped) as booking:
        visit = await open_phone(browser, booking.served, javascript)
        await to_the_clocks(
            visit, javascript, "talk to a trained person", "six words", "Choose a time"
        )
        await shows(visit, "Which of these is the time on your clock now?")
        await press(visit, javascript, "07:00")
        await shows(visit, "Which time suits you?")
        await press(visit, javascript, "Tuesday 5 March, 10:00")
        await shows(visit, "We cannot remind you")
        await visit.page.get_by_role("button", name="Erase my conversation").click()
        await visit.page.wait_for_url(re.compile(r"erased=booking"))
        notice = await visit.page.locator(".notice").inner_text()
        assert "Your conversation has been erased." in notice
        assert "Your appointment was cancelled too" in notice
        book = booking.runtime.appointments
        assert book is not None
        assert "tue-en" in [slot.id for slot, _left in await book.free("en")]  # free again
        await visit.context.close()
