"""Several instances behave as one: two real `serve` processes against a real redis-server.

A conversation's turns alternate between the instances through the web chat's REST channel;
then one instance is killed with SIGKILL and the conversation goes on at the other; then
Redis restarts and the bot recovers with a clear message rather than a crash.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from redirection_bot.authoring.testing import write_program
from redirection_bot.operations.crypto import new_key_text
from tests.fixtures.programs import FLOWS, LOCALES, PROGRAM
from tests.fixtures.redis import RedisServer
from tests.helpers import REPOSITORY, bot_command, free_port, sender_id, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.slow]


class BotInstance:
    """One `redirection-bot serve` process with the web chat on a free port."""

    def __init__(self, folder: Path, config: Path, environment: dict[str, str]) -> None:
        self.folder = folder
        self.config = config
        self.environment = environment
        self.port = int(yaml.safe_load(config.read_text())["connectors"]["webchat"]["port"])
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = (self.folder / f"serve-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [*bot_command(), "serve", "--config", str(self.config)],
            env=self.environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: self.status("/healthz") == 200, 30, f"serve on {self.port} to start")

    def status(self, path: str) -> int | None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"serve exited; see {self.folder}")
        try:
            with urllib.request.urlopen(self.url + path, timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None

    def say(self, sender: str, message: str) -> tuple[int, list[dict[str, Any]]]:
        body = json.dumps({"sender": sender_id(sender), "message": message}).encode()
        request = urllib.request.Request(
            self.url + "/webhooks/rest/webhook",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return int(response.status), json.loads(response.read())
        except urllib.error.HTTPError as error:
            return int(error.code), json.loads(error.read() or b"[]")

    def texts(self, sender: str, message: str) -> list[str]:
        status, answer = self.say(sender, message)
        assert status == 200, (status, answer)
        return [item["text"] for item in answer if "text" in item]

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture
def instances(tmp_path: Path, redis_own: RedisServer) -> Iterator[list[BotInstance]]:
    # The web chat shows texts of its own (its error notice among them): the program has them.
    program = PROGRAM.replace("entry: main\n", "entry: main\ninterface_texts: [webchat]\n")
    webchat_texts = (REPOSITORY / "locales" / "webchat.en.yml").read_text(encoding="utf-8")
    locales = {**LOCALES, "webchat.en.yml": webchat_texts}
    sources = write_program(tmp_path / "program", program, FLOWS, locales)
    environment = {
        "REDIRECTION_BOT_DIALOGUES": str(sources.dialogues),
        "REDIRECTION_BOT_LOCALES": str(sources.locales),
    }
    yield from two_instances(tmp_path, redis_own, environment)


@pytest.fixture
def shipped_instances(tmp_path: Path, redis_own: RedisServer) -> Iterator[list[BotInstance]]:
    """Two instances of the shipped program on one Redis."""
    yield from two_instances(
        tmp_path,
        redis_own,
        {
            "REDIRECTION_BOT_DIALOGUES": str(REPOSITORY / "dialogues"),
            "REDIRECTION_BOT_LOCALES": str(REPOSITORY / "locales"),
        },
    )


def two_instances(
    tmp_path: Path, redis_own: RedisServer, program: dict[str, str]
) -> Iterator[list[BotInstance]]:
    environment = {
        **os.environ,
        **program,
        "REDIRECTION_BOT_STORE__KEYS": json.dumps([new_key_text()]),
    }
    made = []
    for n in range(2):
        config = tmp_path / f"bot-{n}.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "connectors": {"webchat": {"host": "127.0.0.1", "port": free_port()}},
                    "store": {"backend": "redis", "url": redis_own.url, "prefix": "two:"},
                    "admin": {"port": 0},
                }
            )
        )
        made.append(BotInstance(tmp_path, config, environment))
    try:
        for instance in made:
            instance.start()
        yield made
    finally:
        for instance in made:
            instance.stop()


def test_turns_alternate_between_instances_and_survive_a_killed_one(
    instances: list[BotInstance],
) -> None:
    one, two = instances
    assert one.texts("person", "/session_start") == ["How are you?"]
    assert two.texts("person", "/choice:bad") == ["What would you like to change?"]
    assert one.texts("person", "Go to bed before midnight") == ["That was the first module."]
    assert two.texts("person", "/choice:keep")[0].startswith("If you want to continue later")
    one.kill()
    assert two.texts("person", "/choice:not_now") == ["That was the first module."]
    assert two.texts("person", "/choice:onward") == ["Bye, you said Bad."]


def test_a_redis_restart_gets_a_clear_message_and_then_the_conversation_goes_on(
    instances: list[BotInstance], redis_own: RedisServer
) -> None:
    one, two = instances
    one.texts("another", "/session_start")
    one.texts("another", "/choice:good")
    redis_own.stop()
    status, answer = two.say("another", "Walk every evening")
    assert status == 503
    assert "try again" in json.dumps(answer).lower()
    assert two.status("/readyz") == 503 and two.status("/healthz") == 200
    redis_own.start()
    wait_until(lambda: two.status("/readyz") == 200, 30, "the instance to be ready again")
    assert two.texts("another", "Walk every evening") == ["That was the first module."]


async def test_sigterm_closes_live_chats_with_a_reconnect_hint_and_exits_cleanly(
    instances: list[BotInstance],
) -> None:
    import aiohttp

    one, two = instances
    async with aiohttp.ClientSession() as client, client.ws_connect(one.url + "/ws") as socket:
        await socket.send_json({"type": "start"})
        first = await socket.receive_json(timeout=10)
        assert any(frame.get("text") == "How are you?" for frame in first)
        assert one.process is not None
        one.process.send_signal(signal.SIGTERM)
        closing = await socket.receive(timeout=20)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert socket.close_code == 1012
    assert one.process.wait(20) == 0
    assert two.texts("someone", "/session_start") == ["How are you?"]


async def test_conversations_alternating_between_instances_always_continue_from_their_latest_turn(
    shipped_instances: list[BotInstance],
) -> None:
    """Twenty conversations at once, each sending its next message, as soon as it is answered,
    to the other instance; each presses the first answer offered. All take the same path, so
    any turn read from a stale copy shows as a conversation that differs from the others."""
    import asyncio

    import aiohttp

    async def conversation(client: aiohttp.ClientSession, index: int) -> list[str]:
        sender = sender_id(f"alternating {index}")
        message, seen = "hello", []
        for turn in range(14):
            url = shipped_instances[(index + turn) % 2].url + "/webhooks/rest/webhook"
            body = {"sender": sender, "message": message}
            async with client.post(url, json=body, timeout=aiohttp.ClientTimeout(30)) as answer:
                assert answer.status == 200, await answer.text()
                items = await answer.json()
            texts = [item["text"] for item in items if "text" in item]
            buttons = [button for item in items for button in item.get("buttons", [])]
            seen.append(" | ".join(texts))
            message = buttons[0]["payload"] if buttons else "/repeat"
        return seen

    async with aiohttp.ClientSession() as client:
        paths = await asyncio.gather(*(conversation(client, n) for n in range(20)))
    assert len(set(paths[0])) > 8  # the path goes somewhere: it is not one message repeated
    for path in paths[1:]:
        assert path == paths[0]
