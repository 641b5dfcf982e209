"""A person booking an appointment in the live web chat, and the book's clock moved by hand
(for the appointment tests over several instances, by webhook and in Matrix)."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator

from redirection_bot.handoff.appointments import AppointmentBook
from redirection_bot.operations.config import (
    AppointmentSettings,
    HandoffSettings,
    StoreSettings,
)
from redirection_bot.operations.crypto import new_key_text
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store.factory import open_relay, open_store
from tests.fixtures.redis import RedisServer
from tests.integration.handoff.conftest import LivePage, Setup, running

NOON = dt.datetime(2030, 3, 4, 12, 0, tzinfo=dt.UTC).timestamp()  # a Monday
WEDNESDAY = dt.datetime(2030, 3, 6, 18, 0, tzinfo=dt.UTC).timestamp()
PERSON_CLOCK = "13:00"
"""The time on the person's clock at NOON: they are at UTC+1, and see 18:00 UTC as 19:00."""
WORDS = re.compile(r"Your words are: ([^\W\d_]+(?: [^\W\d_]+){5})")


class Clock:
    """The appointment book's clock, shared by every instance, moved by the test."""

    def __init__(self) -> None:
        self.now = NOON

    def __call__(self) -> float:
        return self.now


def shared_redis(redis: RedisServer) -> StoreSettings:
    """Store settings for instances sharing ``redis`` (sealed, under a prefix of their own)."""
    prefix = f"appt-{uuid.uuid4().hex[:8]}:"
    return StoreSettings(backend="redis", url=redis.url, prefix=prefix, keys=(new_key_text(),))


@contextlib.asynccontextmanager
async def instance(
    loaded: LoadedProgram, settings: HandoffSettings, store: StoreSettings, clock: Clock
) -> AsyncIterator[tuple[Setup, AppointmentBook]]:
    """One instance of the bot on the shared store and relay, with its appointment book on
    ``clock``: (its runtime, desk and web chat; its book)."""
    opened = open_store(store)
    book = AppointmentBook(AppointmentSettings(), opened, clock)
    async with running(loaded, settings, opened, open_relay(store), book) as setup:
        yield setup, book


async def to_the_times(page: LivePage) -> None:
    """From the first question to the free times, typing the time on the person's clock."""
    for request in (
        {"type": "choice", "id": "go_on"},
        {"type": "command", "command": "help"},
        {"type": "choice", "id": "appointment"},
        {"type": "choice", "id": "book"},
        {"type": "choice", "id": "other"},
        {"type": "text", "text": PERSON_CLOCK},
    ):
        await page.until(lambda f: f.get("type") == "state")
        await page.send(request)


async def book_first_time(setup: Setup, shown: str) -> str:
    """A new person on ``setup``'s web chat books the first free time (which reads ``shown``
    in their own time, like "Wednesday 6 March, 19:00"); their six words."""
    page, _token = await setup.page()
    await to_the_times(page)
    await page.until(
        lambda f: (
            f.get("type") == "state"
            and {"id": "slot_1", "label": shown}
            in [{"id": c["id"], "label": c["label"]} for c in f.get("choices", [])]
        )
    )
    await page.send({"type": "choice", "id": "slot_1"})
    await page.text_frame(f"Booked: {shown.replace(',', ' at')} your time")
    found = WORDS.search((await page.text_frame("Your words are: "))["text"])
    assert found is not None
    words = found.group(1).strip()
    assert len(words.split()) == 6
    await page.ws.close()
    return words


async def come_back(setup: Setup, words: str) -> tuple[LivePage, str]:
    """A new visit on ``setup``'s web chat typing ``words`` first: (the page, its token)."""
    page, token = await setup.page()
    await page.until(lambda f: f.get("type") == "state")
    await page.send({"type": "text", "text": words})
    return page, token
