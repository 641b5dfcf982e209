"""Web chat benchmark: the bot's WebSocket and REST channels against a raw aiohttp echo.

Run: ``python bench/web.py`` (``--quick`` for a short run). In one run and one process
tree it starts two servers, each in a process of its own:

- a raw aiohttp server that echoes every WebSocket message and answers the REST path with
  the message it was sent (the floor: what aiohttp alone costs);
- the bot, started as ``redirection-bot serve`` with the shipped program and the memory store.

The same client (this process) drives both with 100 and 1,000 concurrent sessions through a
scripted, button-driven conversation (each turn picks the first choice offered), and prints
turns per second and p50/p99 latency for each, and their ratio. It prints how long each
process took from starting to serving its first page (each alone: the bot at its first start
and after restarts, with its loaded program kept), and the resident memory of each at
start, after 400 REST conversations (kept in the memory store; the scripted person never
reaches a custom action) and once one conversation has run one (which loads rasa-sdk, and
the sanic it imports). Then it opens 10,000
WebSockets to each server, each with a started conversation on the bot, and prints the
resident memory per idle connected session.

Targets (docs/performance.md, issue 18): REST at least 0.7x the floor with p99 at most 1.5x the
floor's; WebSocket at least 0.5x the echo; at most 64 MB resident after 400 conversations;
the first page in under 0.5 s; under 10 KB per idle session.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

REPOSITORY = Path(__file__).resolve().parent.parent
TURNS_PER_SESSION = 10
REST_PATH = "/webhooks/rest/webhook"
IDLE_SESSIONS = 10_000
THINK_SECONDS = 2.0
KEPT_CONVERSATIONS = 400


# --- the raw echo server ----------------------------------------------------------------------


def run_echo_server(port: int) -> None:
    async def echo_ws(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        async for message in ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                await ws.send_str(message.data)
        return ws

    async def echo_rest(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        return web.json_response([{"recipient_id": body["sender"], "text": body["message"]}])

    async def health(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/ws", echo_ws)
    app.router.add_post(REST_PATH, echo_rest)
    app.router.add_get("/", health)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# --- processes --------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path | None = None
    started: float = field(default_factory=time.perf_counter)
    first_page_seconds: float = 0.0
    """From starting the process to the first page served."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_kb(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def server_environment(folder: Path) -> dict[str, str]:
    """As deployed: Python keeps compiled modules (this machine's PYTHONDONTWRITEBYTECODE would
    recompile the bot's modules at every start), and ``serve`` keeps its loaded program (in the
    bench's folder)."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**environment, "REDIRECTION_BOT_PROGRAM_CACHE": str(folder / "kept")}


def start_echo(folder: Path) -> Server:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve-echo", str(port)],
        stdout=subprocess.DEVNULL,
        env=server_environment(folder),
    )
    return Server("raw aiohttp echo", process, port)


def start_bot(folder: Path) -> Server:
    port = free_port()
    config = folder / "bench.yaml"
    config.write_text(
        f"connectors:\n  webchat:\n    port: {port}\n"
        f"limits:\n  messages_per_minute: 1000000\n  max_sessions: {IDLE_SESSIONS * 3}\n"
        "admin:\n  enabled: false\n",
        encoding="utf-8",
    )
    script = Path(sys.executable).parent / "redirection-bot"
    with (folder / "bot.log").open("w") as log:
        process = subprocess.Popen(
            [str(script), "serve", "--config", str(config)],
            cwd=REPOSITORY,
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=server_environment(folder),
        )
    return Server("the bot", process, port, folder / "bot.log")


async def wait_ready(server: Server) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(server.url + "/") as response:
                    if response.status == 200:
                        server.first_page_seconds = time.perf_counter() - server.started
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.01)  # the first page's time is known to within 10 ms
    said = server.log.read_text() if server.log is not None else ""
    raise TimeoutError(f"{server.name} did not start\n{said}")


# --- clients ----------------------------------------------------------------------------------


@dataclass
class Result:
    turns: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.turns / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def next_request(frames: list[dict[str, Any]]) -> dict[str, Any]:
    """The scripted person: press the first choice offered, else ask to repeat."""
    for frame in reversed(frames):
        if frame.get("type") == "state" and frame.get("choices"):
            return {"type": "choice", "id": frame["choices"][0]["id"]}
    return {"type": "command", "command": "repeat"}


async def ws_run(url: str, sessions: int, bot: bool, think: float = 0.0) -> Result:
    """``sessions`` WebSockets open and started, then all play their turns at once; with
    ``think`` seconds (on average) between a session's turns, as people take."""
    latencies: list[float] = []
    line = StartingLine(sessions)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as client:

        async def one() -> None:
            async with client.ws_connect(url + "/ws", compress=0, max_msg_size=0) as ws:
                request: dict[str, Any] = {"type": "start"}
                await ws.send_str(json.dumps(request))
                frames = json.loads((await ws.receive()).data) if bot else []
                if not bot:
                    await ws.receive()
                await line.wait()
                for _ in range(TURNS_PER_SESSION):
                    if think:
                        await asyncio.sleep(random.uniform(0, 2 * think))
                    request = next_request(frames) if bot else {"type": "choice", "id": "go_on"}
                    started = time.perf_counter()
                    await ws.send_str(json.dumps(request))
                    answer = await ws.receive()
                    latencies.append(time.perf_counter() - started)
                    frames = json.loads(answer.data) if bot else []

        elapsed = await line.race([asyncio.create_task(one()) for _ in range(sessions)])
    return Result(len(latencies), elapsed, latencies)


class StartingLine:
    """Sessions get ready (connected, conversation started) and then all go at once, so that
    only the turns are timed."""

    def __init__(self, sessions: int) -> None:
        self.sessions = sessions
        self.ready = 0
        self.all_ready = asyncio.Event()
        self.go = asyncio.Event()

    async def wait(self) -> None:
        self.ready += 1
        if self.ready == self.sessions:
            self.all_ready.set()
        await self.go.wait()

    async def race(self, tasks: list[asyncio.Task[None]]) -> float:
        """Start the turns when everyone is ready; the seconds they took."""
        ready = asyncio.create_task(self.all_ready.wait())
        await asyncio.wait([ready, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        started = time.perf_counter()
        self.go.set()
        await asyncio.gather(*tasks)
        return time.perf_counter() - started


async def ask_for_services(url: str) -> None:
    """One REST conversation that asks for help and picks the first country, so that the
    services directory's custom action runs (the scripted person never reaches one)."""
    async with aiohttp.ClientSession() as client:
        sender = secrets.token_hex(16)
        answer: list[dict[str, Any]] = []
        for typed in ("hello", "/help", None):
            buttons = [b for item in answer for b in item.get("buttons", [])]
            body = {"sender": sender, "message": typed or buttons[0]["payload"]}
            async with client.post(url + REST_PATH, json=body) as response:
                answer = await response.json()


async def rest_run(url: str, sessions: int, bot: bool) -> Result:
    latencies: list[float] = []
    line = StartingLine(sessions)
    connector = aiohttp.TCPConnector(limit=sessions)
    async with aiohttp.ClientSession(connector=connector) as client:

        async def post(sender: str, message: str) -> list[dict[str, Any]]:
            body = {"sender": sender, "message": message}
            async with client.post(url + REST_PATH, json=body) as response:
                answer: list[dict[str, Any]] = await response.json()
                return answer

        async def one(index: int) -> None:
            sender = secrets.token_hex(16)  # a REST sender is a credential: 128 random bits
            answer = await post(sender, "hello")
            await line.wait()
            for _ in range(TURNS_PER_SESSION):
                buttons = [b for item in answer for b in item.get("buttons", [])]
                message = buttons[0]["payload"] if buttons else "/repeat"
                started = time.perf_counter()
                answer = await post(sender, message)
                latencies.append(time.perf_counter() - started)

        elapsed = await line.race([asyncio.create_task(one(i)) for i in range(sessions)])
    return Result(len(latencies), elapsed, latencies)


async def idle_memory(server: Server, count: int, bot: bool) -> tuple[int, int]:
    """Resident memory (KB) before and after ``count`` open, started, idle WebSockets."""
    before = server.rss_kb()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as client:
        sockets: list[aiohttp.ClientWebSocketResponse] = []
        for start in range(0, count, 500):
            batch = await asyncio.gather(
                *(
                    client.ws_connect(server.url + "/ws", compress=0, heartbeat=None)
                    for _ in range(start, min(count, start + 500))
                )
            )
            for ws in batch:
                await ws.send_str(json.dumps({"type": "start"}))
            await asyncio.gather(*(ws.receive() for ws in batch))
            sockets.extend(batch)
        await asyncio.sleep(2)  # let the server settle
        after = server.rss_kb()
        await asyncio.gather(*(ws.close() for ws in sockets))
    return before, after


# --- the run ----------------------------------------------------------------------------------


def show(label: str, bot: Result, echo: Result) -> None:
    print(
        f"  {label}: bot {bot.per_second:,.0f} turns/s (p50 {bot.percentile(0.5):.1f} ms, "
        f"p99 {bot.percentile(0.99):.1f} ms); raw echo {echo.per_second:,.0f} turns/s "
        f"(p50 {echo.percentile(0.5):.1f} ms, p99 {echo.percentile(0.99):.1f} ms); "
        f"bot/echo throughput {bot.per_second / echo.per_second:.2f}"
    )


async def bench(quick: bool) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    idle = 1000 if quick else IDLE_SESSIONS
    version, cores = sys.version.split()[0], os.cpu_count()
    print(
        f"Web chat benchmark: {TURNS_PER_SESSION} turns a session, Python {version}, {cores} cores"
    )
    with tempfile.TemporaryDirectory() as folder:
        await first_pages(Path(folder))
        async with running(Path(folder)) as (echo, bot):
            print(
                f"resident memory at start: bot {bot.rss_kb() / 1024:.1f} MB; "
                f"raw echo {echo.rss_kb() / 1024:.1f} MB"
            )
            runs: list[tuple[str, Callable[[str, int, bool], Awaitable[Result]]]] = [
                ("WebSocket, every session sending again as soon as answered", ws_run),
                ("REST, likewise", rest_run),
            ]
            for title, run in runs:
                print(title)
                for sessions in (100, 1000):
                    echo_result = await run(echo.url, sessions, False)
                    bot_result = await run(bot.url, sessions, True)
                    show(f"{sessions:>5} sessions", bot_result, echo_result)
            print(
                f"WebSocket, 1,000 sessions each taking {THINK_SECONDS:.0f} s on average between turns"
            )
            echo_result = await ws_run(echo.url, 1000, False, THINK_SECONDS)
            bot_result = await ws_run(bot.url, 1000, True, THINK_SECONDS)
            show(" 1000 sessions", bot_result, echo_result)
        # Fresh processes: memory freed after the load above would hide what sockets cost.
        async with running(Path(folder)) as (echo, bot):
            for server, is_bot in ((echo, False), (bot, True)):
                for _ in range(KEPT_CONVERSATIONS // 100):
                    await rest_run(server.url, 100, is_bot)
            print(
                f"resident memory after {KEPT_CONVERSATIONS} REST conversations of "
                f"{TURNS_PER_SESSION + 1} turns (kept in the memory store): bot "
                f"{bot.rss_kb() / 1024:.1f} MB; raw echo {echo.rss_kb() / 1024:.1f} MB"
            )
            await ask_for_services(bot.url)
            print(
                "  and once one conversation has run a custom action (the services directory, "
                f"so rasa-sdk is loaded): bot {bot.rss_kb() / 1024:.1f} MB"
            )
        async with running(Path(folder)) as (echo, bot):
            for server, is_bot in ((echo, False), (bot, True)):
                before, after = await idle_memory(server, idle, is_bot)
                print(
                    f"idle connected sessions ({idle:,}), {server.name}: "
                    f"{(after - before) / idle:.1f} KB each "
                    f"({before / 1024:.1f} MB -> {after / 1024:.1f} MB)"
                )
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def first_pages(folder: Path, starts: int = 3) -> None:
    """From starting the process to its first page, each server started alone: the bot's first
    start (nothing kept yet), then restarts (its loaded program kept); the median of ``starts``."""

    async def started(start: Callable[[Path], Server]) -> float:
        server = start(folder)
        try:
            await wait_ready(server)
        finally:
            server.stop()
        return server.first_page_seconds * 1000

    echo = sorted([await started(start_echo) for _ in range(starts)])[starts // 2]
    first = await started(start_bot)
    again = sorted([await started(start_bot) for _ in range(starts)])[starts // 2]
    print(
        f"first page after starting the process: bot {again:.0f} ms after a restart "
        f"({first:.0f} ms at its first start, with nothing kept); raw echo {echo:.0f} ms"
    )


@contextlib.asynccontextmanager
async def running(folder: Path) -> AsyncIterator[tuple[Server, Server]]:
    echo, bot = start_echo(folder), start_bot(folder)
    try:
        await wait_ready(echo)
        await wait_ready(bot)
        await asyncio.sleep(1)
        yield echo, bot
    finally:
        echo.stop()
        bot.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="1,000 idle sockets, not 10,000")
    parser.add_argument("--serve-echo", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_echo:
        run_echo_server(args.serve_echo)
        return
    asyncio.run(bench(args.quick))


if __name__ == "__main__":
    main()
