"""Metrics: what an operator's dashboard shows, and that no label can carry a person."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from redirection_bot.authoring.testing import RasaActionRunner, load, write_program
from redirection_bot.engine import ChoicePicked, Start, Text
from redirection_bot.operations.metrics import Metrics, UnsafeLabel, admin_app
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store.memory import MemoryStore
from redirection_bot.store.resume import ResumeVault
from redirection_bot.turn.runtime import Runtime
from tests.fixtures.programs import FLOWS, LOCALES, PROGRAM

SESSION = "webchat:0b9e-secret-session"
WORDS = "I keep thinking about it at night"


@pytest.fixture
def program(tmp_path: Path) -> LoadedProgram:
    return load(write_program(tmp_path, PROGRAM, FLOWS, LOCALES), tmp_path)


async def whole_module(program: LoadedProgram, metrics: Metrics) -> None:
    store = MemoryStore()
    runtime = Runtime(
        program,
        store,
        RasaActionRunner(program),
        resume=ResumeVault(store, cost=2**10),
        metrics=metrics,
    )
    await runtime.handle(SESSION, Start())
    await runtime.handle(SESSION, ChoicePicked("bad"))
    await runtime.handle(SESSION, Text(WORDS))
    await runtime.handle(SESSION, ChoicePicked("keep"))
    await runtime.handle(SESSION, ChoicePicked("yes_please"))
    await runtime.handle(SESSION, Text("help"))


def sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    found = re.search("^" + pattern, text, re.MULTILINE)
    assert found, f"{name} {labels} not in the metrics"
    return float(found.group(1))


async def test_turns_modules_phrases_and_handoffs_are_counted(program: LoadedProgram) -> None:
    metrics = Metrics()
    await whole_module(program, metrics)
    text = metrics.exposition().decode()
    assert sample(text, "redirection_bot_turns_total", event="choicepicked") == 3
    assert sample(text, "redirection_bot_turns_total", event="text") == 2
    assert sample(text, "redirection_bot_turn_seconds_count") == 6
    assert sample(text, "redirection_bot_sessions_active") == 1
    assert sample(text, "redirection_bot_module_starts_total", module="main") == 1
    assert sample(text, "redirection_bot_module_starts_total", module="keep_my_place") == 1
    assert sample(text, "redirection_bot_module_completions_total", module="keep_my_place") == 1
    assert sample(text, "redirection_bot_resume_phrases_total", outcome="given") == 1
    assert sample(text, "redirection_bot_handoffs_total", reason="asked", state="requested") == 1


async def test_nothing_personal_reaches_the_metrics(program: LoadedProgram) -> None:
    metrics = Metrics()
    await whole_module(program, metrics)
    text = metrics.exposition().decode()
    for private in ("0b9e", "secret", "night", "thinking", "webchat:"):
        assert private not in text
    for value in re.findall(r'="([^"]*)"', text):
        assert re.fullmatch(r"[a-z0-9_.+]{1,48}|\+Inf", value), value
    with pytest.raises(UnsafeLabel):
        metrics.safety_hit("I want to hurt myself")


async def test_the_admin_listener_serves_the_metrics(program: LoadedProgram) -> None:
    metrics = Metrics()
    await whole_module(program, metrics)
    async with TestClient(TestServer(admin_app(metrics), host="127.0.0.1")) as client:
        response = await client.get("/metrics")
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        assert "redirection_bot_turns_total" in await response.text()
        assert (await client.get("/")).status == 404


def test_sessions_long_gone_are_forgotten_without_anybody_asking(program: LoadedProgram) -> None:
    """A bot whose metrics are never scraped (no admin listener) must not keep a tag for every
    session it has ever seen: memory would grow for as long as it runs."""
    now = [0.0]
    metrics = Metrics(clock=lambda: now[0])
    for number in range(20_000):
        metrics.turn("text", 0.001, f"tag{number}", program.program, ())
        now[0] += 1.0  # a new session every second: at most 900 in any 15 minutes
    assert len(metrics._recent) < 4 * 1024
    assert metrics.active_sessions() == 900


def test_counting_does_not_load_prometheus_client(tmp_path: Path) -> None:
    """Turns are counted in plain dictionaries; the exposition library (with its HTTP server
    modules) is loaded only when an operator asks for the metrics."""
    script = (
        "import sys\n"
        "from redirection_bot.operations.metrics import Metrics\n"
        "metrics = Metrics()\n"
        "metrics.safety_hit('suicide'); metrics.turn_seconds.observe(0.01)\n"
        "assert 'prometheus_client' not in sys.modules\n"
        "assert b'redirection_bot_safety_hits_total{category=\"suicide\"} 1.0' in metrics.exposition()\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path)
