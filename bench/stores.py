"""Session store benchmark: turns per second with memory, SQLite and Redis, in the same run.

Run: ``python bench/stores.py`` (``--webchat`` also measures real ``redirection-bot serve``
processes through the web chat's REST channel: one instance with each store, then two
instances against one Redis, each person's turns alternating between them). It starts its
own redis-server on a free loopback port.

Every figure is printed beside the memory store measured in the same run, so that the ratios
mean something on any machine. Targets (docs/performance.md): Redis at least half the
throughput of memory on one instance; two instances at least 1.6 times one.

Each simulated person has a conversation of 21 turns (a start, then ten rounds of two
answers); ``--people`` of them talk at once. SQLite and Redis run as in production: sealed
with AES-GCM under hashed names, Redis with its cross-instance lock.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from redirection_bot.authoring.testing import RasaActionRunner, load, write_program
from redirection_bot.engine import ChoicePicked, Event, Start
from redirection_bot.operations.crypto import Keyring
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store import SessionStore
from redirection_bot.store.encrypted import encrypted
from redirection_bot.store.memory import MemoryStore
from redirection_bot.turn.runtime import Runtime

ROUNDS = 10
TURNS_PER_PERSON = 1 + 2 * ROUNDS

LOOP_FLOW = """\
flow: main
start: ask
nodes:
  ask:
    say: main.question
    input: mood
    next: again
  again:
    say: main.again
    choices:
      - id: again
        label: main.again_label
        next: ask
      - id: done
        label: main.done_label
        next: bye
  bye:
    say: main.bye
    end: true
"""

LOOP_TEXTS = """\
en:
  question: "How are you?"
  mood_good: "Good"
  mood_bad: "Bad"
  again: "Once more?"
  again_label: "Again"
  done_label: "Done"
  bye: "Bye, you said %{mood}."
"""


def script() -> list[Event]:
    events: list[Event] = [Start()]
    for _ in range(ROUNDS):
        events += [ChoicePicked("good"), ChoicePicked("again")]
    return events


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, seconds: float, what: str) -> None:
    """Return once something listens on ``port`` of 127.0.0.1."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not start")


class RedisProcess:
    """A throwaway redis-server on loopback, without persistence."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.port = free_port()
        options = ["--save", "", "--appendonly", "no", "--dir", str(folder)]
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", *options],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port, 20, "redis-server")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


async def run_people(runtime: Runtime, people: int, tag: str) -> float:
    """Turns per second for ``people`` conversations at once."""
    events = script()

    async def person(n: int) -> None:
        for event in events:
            await runtime.handle(f"{tag}-{n}", event)

    started = time.perf_counter()
    await asyncio.gather(*(person(n) for n in range(people)))
    return people * TURNS_PER_PERSON / (time.perf_counter() - started)


async def in_process(loaded: LoadedProgram, people: int, folder: Path, redis_url: str) -> None:
    from redirection_bot.store.redis import RedisStore
    from redirection_bot.store.sqlite import SqliteStore

    keyring = Keyring.generate()
    makers: dict[str, Callable[[], SessionStore]] = {
        "memory": MemoryStore,
        "sqlite (encrypted)": lambda: encrypted(SqliteStore(folder / "bench.sqlite3"), keyring),
        "redis (encrypted, locked)": lambda: encrypted(RedisStore.from_url(redis_url), keyring),
    }
    print(f"In one process, {people} people at once, {TURNS_PER_PERSON} turns each (best of 4):")
    stores = {name: make() for name, make in makers.items()}
    runtimes = {
        name: Runtime(loaded, store, RasaActionRunner(loaded)) for name, store in stores.items()
    }
    rates: dict[str, float] = dict.fromkeys(runtimes, 0.0)
    for name, runtime in runtimes.items():
        await run_people(runtime, 5, f"warm-{name}")
    for n in range(4):  # the stores take turns: a slow minute does not fall on one only
        for name, runtime in runtimes.items():
            rates[name] = max(rates[name], await run_people(runtime, people, f"{name}-{n}"))
    for store in stores.values():
        await store.close()
    baseline = rates["memory"]
    for name, rate in rates.items():
        print(f"  {name:28} {rate:9.0f} turns/s   {rate / baseline:5.2f}x memory")


class ServeProcess:
    """One `redirection-bot serve` with the web chat on a free port."""

    def __init__(self, folder: Path, store: dict[str, object], environment: dict[str, str]):
        import json

        self.port = free_port()
        config = folder / f"serve-{self.port}.yaml"
        config.write_text(
            json.dumps(
                {
                    "connectors": {"webchat": {"port": self.port}},
                    "store": store,
                    "limits": {"messages_per_minute": 100000, "max_sessions": 1000000},
                    "admin": {"enabled": False},
                }
            )
        )
        command = [str(Path(sys.executable).parent / "redirection-bot"), "serve"]
        self.process = subprocess.Popen(
            [*command, "--config", str(config)],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, 30, "serve")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/rest/webhook"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(20)


async def rest_load(urls: list[str], people: int, tag: str) -> float:
    """Turns per second through the REST channel; person n's turn i goes to urls[i % len]."""
    import aiohttp

    messages = ["/session_start"] + ["/choice:good", "/choice:again"] * ROUNDS
    connector = aiohttp.TCPConnector(limit=people)
    async with aiohttp.ClientSession(connector=connector) as client:

        async def person(n: int) -> None:
            sender = secrets.token_hex(16)  # 128 random bits, as the channel asks
            for turn, message in enumerate(messages):
                body = {"sender": sender, "message": message}
                async with client.post(urls[turn % len(urls)], json=body) as response:
                    assert response.status == 200, response.status
                    await response.read()

        started = time.perf_counter()
        await asyncio.gather(*(person(n) for n in range(people)))
        return people * len(messages) / (time.perf_counter() - started)


def through_webchat(program_root: Path, folder: Path, redis_url: str, people: int) -> None:
    import json
    import os

    from redirection_bot.operations.crypto import new_key_text

    environment = {
        **os.environ,
        "REDIRECTION_BOT_DIALOGUES": str(program_root / "dialogues"),
        "REDIRECTION_BOT_LOCALES": str(program_root / "locales"),
        "REDIRECTION_BOT_STORE__KEYS": json.dumps([new_key_text()]),
    }
    redis_store = {"backend": "redis", "url": redis_url, "prefix": "bench:"}
    scenarios: list[tuple[str, list[dict[str, object]]]] = [
        ("memory, one instance", [{"backend": "memory"}]),
        ("sqlite, one instance", [{"backend": "sqlite", "path": str(folder / "w.sqlite3")}]),
        ("redis, one instance", [redis_store]),
        ("redis, two instances", [redis_store, redis_store]),
    ]
    print(f"Through the web chat (REST), {people} people at once, {TURNS_PER_PERSON} turns each:")
    print(
        "  (every server runs at once and the scenarios take turns, best of 4 rounds each, so that"
    )
    print("  a slow minute of a shared machine does not fall on one scenario only)")
    servers = {
        name: [ServeProcess(folder, store, environment) for store in stores]
        for name, stores in scenarios
    }
    try:
        urls = {name: [server.url for server in started] for name, started in servers.items()}
        for name, addresses in urls.items():
            asyncio.run(rest_load(addresses, 5, f"warm-{name}"))
        rates: dict[str, float] = dict.fromkeys(urls, 0.0)
        for n in range(4):
            for name, addresses in urls.items():
                rate = asyncio.run(rest_load(addresses, people, f"{name}-{n}"))
                rates[name] = max(rates[name], rate)
    finally:
        for started in servers.values():
            for server in started:
                server.stop()
    baseline = rates[scenarios[0][0]]
    one_redis = rates["redis, one instance"]
    for name, rate in rates.items():
        extra = (
            f"   {rate / one_redis:5.2f}x one redis instance"
            if name == "redis, two instances"
            else ""
        )
        print(f"  {name:28} {rate:9.0f} turns/s   {rate / baseline:5.2f}x memory{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--webchat", action="store_true", help="also through real serve processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        program_root = folder / "program"
        loaded = load(
            write_program(
                folder / "program", flows={"main": LOOP_FLOW}, locales={"main.en.yml": LOOP_TEXTS}
            )
        )
        redis = RedisProcess(folder)
        try:
            asyncio.run(in_process(loaded, args.people, folder, redis.url))
            if args.webchat:
                through_webchat(program_root, folder, redis.url, args.people)
        finally:
            redis.stop()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
