"""`redirection-bot actions` serves the same actions over rasa-sdk's own action server."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from redirection_bot.engine import new_state
from redirection_bot.program.load import LoadedProgram
from redirection_bot.turn.actions import ActionCall, action_call_payload, rasa_domain
from tests.helpers import REPOSITORY, bot_command, free_port, wait_until


@pytest.fixture(scope="module")
def action_server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [*bot_command(), "actions", "--port", str(port)],
        cwd=REPOSITORY,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError):
            return process.poll() is not None

    try:
        wait_until(healthy, 30, "the action server to answer")
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        yield url
    finally:
        process.terminate()
        process.wait(10)


def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{url}/webhook",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.slow
def test_a_real_action_call(action_server: str, shipped: LoadedProgram) -> None:
    state = replace(new_state(shipped.program), slots={"importance": 7, "reasons": "my family"})
    payload = action_call_payload(
        shipped.program,
        ActionCall("action_plan_summary", state, "x1"),
        rasa_domain(shipped.program),
    )
    status, body = post(action_server, payload)
    assert status == 200
    responses = body["responses"]
    said = [r["response"] for r in responses]
    assert said[:4] == ["plan.title", "plan.part", "plan.reasons", "plan.importance"]
    # Then the services for one's own thoughts and, under their own heading, the crisis lines.
    assert "plan.own_behaviour" in said and "plan.closing" in said
    assert responses[2]["reasons"] == {"slot": "reasons"}
    assert body["events"] == []


@pytest.mark.slow
def test_the_action_list_and_an_unknown_action(action_server: str, shipped: LoadedProgram) -> None:
    with urllib.request.urlopen(f"{action_server}/actions", timeout=5) as response:
        names = {item["name"] for item in json.loads(response.read())}
    assert {"action_plan_summary", "action_services"} <= names
    state = new_state(shipped.program)
    payload = action_call_payload(
        shipped.program, ActionCall("action_nope", state, "x1"), rasa_domain(shipped.program)
    )
    status, _body = post(action_server, payload)
    assert status == 404
