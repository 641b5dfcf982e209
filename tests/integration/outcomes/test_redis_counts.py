"""Outcome counts from two instances on one real redis-server: people answer on one instance
and come back with their words on the other, every counter lands in the same day's counts, and
the export (the admin listener's `/outcomes.csv`, the same as the `outcomes` command's) reads
them all back: ten first answers, ten changes, ten yes at the start and ten on return."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from redirection_bot.authoring.testing import RasaActionRunner
from redirection_bot.engine import ChoicePicked, Event, Start, Text
from redirection_bot.operations.config import StoreSettings
from redirection_bot.operations.crypto import new_key_text
from redirection_bot.operations.metrics import Metrics, admin_app
from redirection_bot.operations.outcomes import OutcomeExport
from redirection_bot.program.load import LoadedProgram
from redirection_bot.program.render import ShownMessage
from redirection_bot.store.factory import open_counts, open_store
from redirection_bot.turn.runtime import Runtime
from tests.fixtures.redis import RedisServer

pytestmark = pytest.mark.redis

PEOPLE = 10
WORDS = re.compile(r"Your words are: ([^\n<]+)")
WHO5_ITEMS = 5


@pytest.fixture
async def two_runtimes(
    shipped: LoadedProgram, redis_server: RedisServer
) -> AsyncIterator[tuple[list[Runtime], StoreSettings]]:
    settings = StoreSettings(
        backend="redis",
        url=redis_server.url,
        prefix=f"outcomes-{uuid.uuid4().hex[:8]}:",
        keys=(new_key_text(),),
    )
    runtimes = [
        Runtime(
            shipped,
            open_store(settings),
            RasaActionRunner(shipped),
            metrics=Metrics(),
            evaluation=open_counts(settings),
        )
        for _ in range(2)
    ]
    yield runtimes, settings
    for runtime in runtimes:
        await runtime.close()


async def say(runtime: Runtime, session: str, *events: Event) -> list[ShownMessage]:
    """The messages the person is shown in reply to ``events``."""
    shown: list[ShownMessage] = []
    for event in events:
        reply = await runtime.handle(session, event)
        shown += [m for m in reply.shown if isinstance(m, ShownMessage)]
    return shown


def answers(days: str, wellbeing: str) -> list[Event]:
    """Days, hours skipped, urge 5, confidence 5, the five WHO-5 items."""
    return [
        Text(days),
        ChoicePicked("skip"),
        Text("5"),
        Text("5"),
        *[ChoicePicked(wellbeing)] * WHO5_ITEMS,
    ]


async def first_visit(runtime: Runtime, session: str) -> str:
    await say(runtime, session, Start(), *map(ChoicePicked, ("go_on", "go_on", "curious", "agree")))
    await say(runtime, session, *answers("7", "at_no_time"))
    shown = await say(
        runtime, session, *map(ChoicePicked, ("menu", "pause", "keep_my_place", "give"))
    )
    found = WORDS.search("\n".join(m.text for m in shown))
    assert found, shown
    return found.group(1).strip()


async def come_back(runtime: Runtime, session: str, words: str) -> None:
    shown = await say(runtime, session, Start(), Text(words))
    assert "outcomes.offer_again" in [m.key for m in shown]
    await say(runtime, session, ChoicePicked("agree"), *answers("0", "most_of_the_time"))


async def test_two_instances_add_to_one_days_counts_and_the_export_reads_them_back(
    two_runtimes: tuple[list[Runtime], StoreSettings],
) -> None:
    runtimes, settings = two_runtimes
    words = [await first_visit(runtimes[n % 2], f"first-{n}") for n in range(PEOPLE)]
    for n, phrase in enumerate(words):
        await come_back(runtimes[(n + 1) % 2], f"back-{n}", phrase)  # the other instance

    counts = open_counts(settings)
    try:
        stored = await counts.rows()
        from_command = await OutcomeExport(counts).csv(completed_only=False)
    finally:
        await counts.close()
    assert len({row.day for row in stored}) == 1  # one day's counters, both instances' adds
    metrics = runtimes[1].metrics
    assert metrics is not None
    admin: TestClient[Any, Any] = TestClient(
        TestServer(admin_app(metrics, runtimes[1].funnel, runtimes[1].outcomes))
    )
    await admin.start_server()
    try:
        response = await admin.get("/outcomes.csv?to-date")
        assert response.status == 200 and response.content_type == "text/csv"
        listened = await response.text()
        ended_only = await (await admin.get("/outcomes.csv")).text()
    finally:
        await admin.close()
    assert listened == from_command
    assert ended_only.splitlines() == ["quarter,measure,kind,first,now,count"]
    rows = {
        (r["measure"], r["kind"], r["first"], r["now"]): r["count"]
        for r in csv.DictReader(io.StringIO(listened))
    }
    assert rows[("consent", "first", "", "agreed")] == str(PEOPLE)
    assert rows[("consent", "return", "", "agreed")] == str(PEOPLE)
    assert rows[("days", "first", "6-7", "")] == str(PEOPLE)
    assert rows[("days", "change", "6-7", "0")] == str(PEOPLE)
    assert rows[("wellbeing", "change", "0-7", "13-25")] == str(PEOPLE)
    assert not any(measure == "hours" for measure, *_ in rows)  # skipped: nothing counted
