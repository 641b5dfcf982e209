"""An operator's webhook configuration works from the command line: a real
``redirection-bot serve --port P --config FILE`` process, a helpline platform stub that
checks the bot's signatures, and a person on the REST channel who asks for a person.

The platform's signed requests are accepted and unsigned ones refused; the person's request
reaches the platform as a ticket, and their words reach it once an operator has claimed it;
nothing the person wrote, no conversation name and no secret shows in the process's logs."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from redirection_bot.program.load import LoadedProgram
from tests.helpers import REPOSITORY, async_wait_until, bot_command, free_port
from tests.integration.handoff.platform import PLATFORM_SECRET, Platform
from tests.integration.webchat.process import serve_until_it_ends, server_environment

SECRET = PLATFORM_SECRET
ANNA = {"id": "op-17", "name": "Anna"}
FIRST_WORDS = "hello, I have been struggling lately"
WORDS_FOR_ANNA = "I don't know where to start, it has been a hard week"


@dataclass
class Serve:
    process: subprocess.Popen[bytes]
    log: Path
    rest_url: str
    admin_url: str

    def logs(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def check_running(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.logs()}")

    async def say(self, sender: str, message: str, **extra: Any) -> list[dict[str, Any]]:
        """One message on the REST channel; the bot's answer."""
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.rest_url, json={"sender": sender, "message": message, **extra}) as got,
        ):
            assert got.status == 200, await got.text()
            answer: list[dict[str, Any]] = await got.json()
            return answer


@pytest.fixture
def serve(platform: Platform, tmp_path: Path) -> Iterator[Serve]:
    webchat_port, webhook_port, admin_port = free_port(), free_port(), free_port()
    config = tmp_path / "bot.yaml"
    config.write_text(
        f"""\
handoff:
  tick_seconds: 0.2
  services:
    helpline:
      channel: webhook
      locales: [en]
      options:
        url: {platform.url}
        secret: "{SECRET}"
        port: {webhook_port}
        max_backoff_seconds: 0.2
""",
        encoding="utf-8",
    )
    platform.bot_url = f"http://127.0.0.1:{webhook_port}/handoff/webhook"
    log = tmp_path / "serve.log"
    # --verbose: the events are logged, so that the test can see what the logs hold
    command = [*bot_command(), "--verbose", "serve", "--port", str(webchat_port)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--config", str(config)],
            cwd=REPOSITORY,
            env={**server_environment(), "REDIRECTION_BOT_ADMIN__PORT": str(admin_port)},
            stdout=output,
            stderr=output,
        )
    running = Serve(
        process,
        log,
        f"http://127.0.0.1:{webchat_port}/webhooks/rest/webhook",
        f"http://127.0.0.1:{admin_port}",
    )
    try:
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def until_listening(serve: Serve, platform: Platform) -> tuple[int, dict[str, Any]]:
    """The first signed request that the bot's webhook listener answers (it starts with serve)."""
    answered: list[tuple[int, dict[str, Any]]] = []

    async def duty_answered() -> bool:
        serve.check_running()
        try:
            answered.append(
                await platform.send({"type": "duty", "operator": ANNA, "on_duty": True})
            )
        except aiohttp.ClientConnectionError:
            return False
        return True

    await async_wait_until(duty_answered, 60, "the bot's webhook listener")
    return answered[0]


async def test_the_webhook_configuration_works_from_the_command_line(
    serve: Serve, platform: Platform, loaded: LoadedProgram
) -> None:
    assert await until_listening(serve, platform) == (200, {"result": "applied"})

    body = json.dumps({"id": "unsigned-1", "type": "duty", "operator": ANNA, "on_duty": False})
    unsigned = await platform.post(body.encode(), {"Content-Type": "application/json"})
    assert unsigned == (401, {"error": "bad_signature"})
    stale = await platform.send({"type": "duty", "operator": ANNA, "on_duty": False}, skew=-3600)
    assert stale == (401, {"error": "stale"})

    sender = "person-" + uuid.uuid4().hex
    await serve.say(sender, FIRST_WORDS, metadata={"locale": "en"})
    await serve.say(sender, "/choice:go_on")
    await serve.say(sender, "/help")
    answer = await serve.say(sender, "/choice:person")
    assert {"type": "handoff", "reason": "asked", "urgency": "normal"} in [
        item.get("custom") for item in answer
    ]
    available_now = loaded.catalog.render("handoff.available_now", "en")
    assert available_now in [item.get("text") for item in answer]  # Anna said she is on duty

    (ticket,) = await platform.wait_for("ticket")
    assert (ticket["service"], ticket["locale"], ticket["reason"]) == ("helpline", "en", "asked")
    claimed = await platform.send({"type": "claim", "ticket": ticket["ticket"], "operator": ANNA})
    assert claimed == (200, {"result": "applied"})
    await async_wait_until(
        lambda: _has(serve, sender, "Anna"), 20, "the person to hear that Anna has joined"
    )
    assert await serve.say(sender, WORDS_FOR_ANNA) == []  # the bot is silent: Anna has it
    (person,) = await platform.wait_for("person")
    assert person["text"] == WORDS_FOR_ANNA
    assert platform.refused_signatures == 0
    assert sender not in json.dumps(platform.received)

    serve.check_running()
    serve.process.send_signal(signal.SIGTERM)
    assert serve.process.wait(timeout=30) == 0
    logs = serve.logs()
    assert "webhook request refused" in logs  # events are logged...
    for private in (FIRST_WORDS, WORDS_FOR_ANNA, "struggling", sender, SECRET, ticket["ticket"]):
        assert private not in logs  # ...never what was said, who said it, or the secret


async def test_no_listener_of_serve_names_its_software(serve: Serve, platform: Platform) -> None:
    """The web chat, the admin listener and the webhook listener all answer ``Server: web``,
    whatever the answer (a page, a refusal, a path that does not exist, a request that
    cannot be parsed)."""
    await until_listening(serve, platform)
    chat = serve.rest_url.removesuffix("/webhooks/rest/webhook")
    unsigned = {"Content-Type": "application/json"}
    requests = [
        ("GET", chat + "/", None),
        ("GET", chat + "/nowhere", None),
        ("GET", serve.admin_url + "/metrics", None),
        ("GET", serve.admin_url + "/nowhere", None),
        ("POST", platform.bot_url, unsigned),  # refused: 401
        ("GET", platform.bot_url, None),  # not a method it answers: 405
        ("POST", platform.bot_url.removesuffix("/webhook") + "/nowhere", unsigned),
    ]
    seen = []
    async with aiohttp.ClientSession() as http:
        for method, url, headers in requests:
            async with http.request(method, url, data=b"{}", headers=headers) as answer:
                seen.append((url, answer.status, answer.headers.get("Server")))
    assert {status for _url, status, _server in seen} >= {200, 401, 404, 405}
    assert all(server == "web" for _url, _status, server in seen), seen
    body, headers = platform.signed(
        {"id": "req-h", "type": "duty", "operator": ANNA, "on_duty": True}
    )
    async with (
        aiohttp.ClientSession() as http,
        http.post(platform.bot_url, data=body, headers=headers) as answer,
    ):
        assert (answer.status, answer.headers.get("Server")) == (200, "web")
    for url in (chat, serve.admin_url, platform.bot_url):  # a request aiohttp cannot parse
        port = int(url.split(":")[2].split("/")[0])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n")
        head = (await asyncio.wait_for(reader.read(4096), 10)).split(b"\r\n\r\n")[0]
        writer.close()
        assert head.startswith(b"HTTP/1.0 400") and b"\r\nServer: web" in head, head
    assert "aiohttp" not in serve.logs() and "Python/" not in serve.logs()


async def _has(serve: Serve, sender: str, name: str) -> bool:
    """Whether the person's next answer (asked with a harmless /repeat) names ``name``."""
    answer = await serve.say(sender, "/repeat")
    return any(name in item.get("text", "") for item in answer)


def test_a_webhook_secret_too_short_stops_serve_with_a_located_error(tmp_path: Path) -> None:
    config = tmp_path / "bot.yaml"
    config.write_text(
        "handoff:\n  services:\n    helpline:\n      channel: webhook\n      options:\n"
        "        url: https://platform.example/events\n        secret: not-long-enough\n",
        encoding="utf-8",
    )
    done = serve_until_it_ends("--port", str(free_port()), "--config", str(config))
    assert done.returncode == 2
    assert (
        f"{config}:5:7: error: handoff.services.helpline.options.secret: a shared secret of at "
        "least 32 characters is needed" in done.stderr
    )
    assert "nothing was started" in done.stderr and "not-long-enough" not in done.stderr
