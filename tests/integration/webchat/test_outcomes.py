"""Outcome measures over REST on a real server: a first visit with the questions, resume words,
a return with them, and what the export (the `outcomes` command, over the real counts file)
shows: nothing under 10, and the change once ten people have come back."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from tests.helpers import bot_command, sender_id
from tests.integration.webchat.conftest import text_of

from redirection_bot.authoring.testing import RasaActionRunner
from redirection_bot.operations.config import LimitSettings
from redirection_bot.operations.evaluation import SqliteCounts
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store.memory import MemoryStore
from redirection_bot.turn.runtime import Runtime
from redirection_bot_connectors.webchat import WebChatOptions, create_app

Client = TestClient[Any, Any]
WORDS = re.compile(r"Your words are: ([^\n<]+)")
TO_THE_QUESTIONS = ("go_on", "go_on", "curious", "agree")
WHO5_ITEMS = 5


@pytest.fixture
async def served(shipped: LoadedProgram, tmp_path: Path) -> AsyncIterator[tuple[Client, Path]]:
    counts_file = tmp_path / "sessions.sqlite3"
    runtime = Runtime(
        shipped, MemoryStore(), RasaActionRunner(shipped), evaluation=SqliteCounts(counts_file)
    )
    # going back through every question and answering again is more than 30 messages a minute
    options = WebChatOptions(limits=LimitSettings(messages_per_minute=120))
    client: Client = TestClient(TestServer(create_app(runtime, options)))
    await client.start_server()
    yield client, counts_file
    await client.close()


async def rest(client: Client, sender: str, message: str) -> list[dict[str, Any]]:
    response = await client.post(
        "/webhooks/rest/webhook", json={"sender": sender, "message": message}
    )
    assert response.status == 200, await response.text()
    answer: list[dict[str, Any]] = await response.json()
    return answer


def texts(answer: list[dict[str, Any]]) -> str:
    return "\n".join(str(item.get("text", "")) for item in answer)


async def answer_all(client: Client, sender: str, days: str, wellbeing: str) -> str:
    """Answer every question: days, hours (skipped), urge 5, confidence 5, the WHO-5."""
    await rest(client, sender, days)
    await rest(client, sender, "/choice:skip")
    await rest(client, sender, "5")
    await rest(client, sender, "5")
    for _ in range(WHO5_ITEMS):
        answer = await rest(client, sender, f"/choice:{wellbeing}")
    return texts(answer)


async def words_for(client: Client, sender: str) -> str:
    """From the end of the questions (the curious person's choice) to resume words."""
    shown = ""
    for choice in ("menu", "pause", "keep_my_place", "give"):
        shown += texts(await rest(client, sender, f"/choice:{choice}"))
    found = WORDS.search(shown)
    assert found, shown
    await rest(client, sender, "/stop")
    return found.group(1).strip()


async def first_visit(client: Client, name: str) -> str:
    """A person answers at the start (7 days, the lowest wellbeing), takes words, leaves."""
    sender = sender_id(name)
    await rest(client, sender, "/session_start")
    for choice in TO_THE_QUESTIONS:
        await rest(client, sender, f"/choice:{choice}")
    thanked = await answer_all(client, sender, "7", "at_no_time")
    assert text_of(client, "outcomes.thanks") in thanked
    return await words_for(client, sender)


async def come_back(client: Client, name: str, words: str) -> str:
    """A person comes back with their words and answers again (no days, high wellbeing)."""
    sender = sender_id(name)
    await rest(client, sender, "/session_start")
    back = await rest(client, sender, words)
    assert back[0]["text"] == text_of(client, "resume.restored")
    assert text_of(client, "outcomes.offer_again") in texts(back)
    await rest(client, sender, "/choice:agree")
    thanked = await answer_all(client, sender, "0", "most_of_the_time")
    assert text_of(client, "outcomes.thanks") in thanked
    return thanked


def export(counts_file: Path, tmp_path: Path) -> list[dict[str, str]]:
    config = tmp_path / "config.yaml"
    config.write_text(f"store:\n  backend: sqlite\n  path: {counts_file}\n", encoding="utf-8")
    done = subprocess.run(
        [*bot_command(), "outcomes", "--config", str(config), "--to-date"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return list(csv.DictReader(io.StringIO(done.stdout)))


async def test_a_return_counts_the_change_and_the_export_hides_it_until_ten(
    served: tuple[Client, Path], tmp_path: Path
) -> None:
    client, counts_file = served
    words = [await first_visit(client, f"person {n}") for n in range(10)]

    # The first person comes back: asked again, and the question they were at comes after.
    after = await come_back(client, "back 0", words[0])
    assert text_of(client, "menu.paused") in after  # then the question they had left at
    rows = export(counts_file, tmp_path)
    change = [r for r in rows if r["kind"] == "change" and r["measure"] == "days"]
    assert change == [
        {"quarter": change[0]["quarter"], "measure": "days", "kind": "change",
         "first": "6-7", "now": "0", "count": "<10"}
    ]  # fmt: skip
    first = [r for r in rows if r["kind"] == "first" and r["measure"] == "days"]
    assert [r["count"] for r in first] == ["10"]  # ten first answers: shown
    assert all(r["count"] == "<10" or int(r["count"]) >= 10 for r in rows)  # never 1 to 9

    for n in range(1, 10):
        await come_back(client, f"back {n}", words[n])
    rows = export(counts_file, tmp_path)
    by_measure = {(r["measure"], r["kind"]): r for r in rows if r["kind"] == "change"}
    assert by_measure[("days", "change")]["count"] == "10"
    assert (by_measure[("days", "change")]["first"], by_measure[("days", "change")]["now"]) == (
        "6-7",
        "0",
    )
    assert by_measure[("wellbeing", "change")]["first"] == "0-7"
    assert by_measure[("wellbeing", "change")]["now"] == "13-25"
    assert ("hours", "change") not in by_measure  # skipped: nothing counted


async def test_no_thanks_counts_only_the_no_and_a_return_asks_nothing(
    served: tuple[Client, Path], tmp_path: Path
) -> None:
    client, counts_file = served
    sender = sender_id("declines")
    await rest(client, sender, "/session_start")
    for choice in ("go_on", "go_on", "curious"):
        await rest(client, sender, f"/choice:{choice}")
    declined = await rest(client, sender, "/choice:no_thanks")
    assert text_of(client, "outcomes.declined") in texts(declined)
    assert text_of(client, "welcome.overview") in texts(declined)
    words = await words_for(client, sender)

    other = sender_id("declines, back")
    await rest(client, other, "/session_start")
    back = texts(await rest(client, other, words))
    assert text_of(client, "outcomes.offer_again") not in back
    rows = export(counts_file, tmp_path)
    assert [(r["measure"], r["kind"], r["now"], r["count"]) for r in rows] == [
        ("consent", "first", "declined", "<10")
    ]


async def test_agreeing_again_in_the_same_visit_counts_once(
    served: tuple[Client, Path], tmp_path: Path
) -> None:
    """Ten people answer, go back to the consent question, agree again and answer otherwise:
    the export counts ten yes and ten first answers, and no change (it was one visit)."""
    client, counts_file = served
    offer = text_of(client, "outcomes.offer")
    for n in range(10):
        sender = sender_id(f"twice {n}")
        await rest(client, sender, "/session_start")
        for choice in TO_THE_QUESTIONS:
            await rest(client, sender, f"/choice:{choice}")
        await answer_all(client, sender, "7", "at_no_time")
        for _ in range(15):  # back, question by question, to the consent question
            if offer in texts(await rest(client, sender, "back")):
                break
        else:
            pytest.fail("going back never reached the consent question")
        await rest(client, sender, "/choice:agree")
        thanked = await answer_all(client, sender, "0", "most_of_the_time")
        assert text_of(client, "outcomes.thanks") in thanked
    rows = export(counts_file, tmp_path)
    counted = {(r["measure"], r["kind"], r["first"], r["now"]): r["count"] for r in rows}
    assert counted[("consent", "first", "", "agreed")] == "10"
    assert counted[("days", "first", "6-7", "")] == "10"
    assert ("days", "first", "0", "") not in counted
    assert not [key for key in counted if key[1] in ("change", "return")]
