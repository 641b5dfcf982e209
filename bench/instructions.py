"""Instructions a web chat turn costs the server: the bot against the raw echo, counted.

Run: ``python bench/instructions.py`` (``--other TREE`` to count another checkout's code too,
``--rounds N`` for more turns). Wall-clock figures on a shared VM move by up to 2.5x between
runs (docs/performance.md), too much to tell a 5% change; instructions do not. Each server
(``bench/web.py``'s raw aiohttp echo, the bot as ``redirection-bot serve`` with the shipped
program and the memory store, and with ``--other`` the bot run from another tree's code) runs
under valgrind's callgrind with its counting switched on only while the timed turns run,
after a warm-up round: the same scripted, button-driven conversations as bench/web.py, 100 at
once, over REST and over the WebSocket. It prints thousands of instructions per turn, and
the echo's count over the bot's: what throughput the bot would keep of the echo's if both
were bound by the server's CPU alone. Two counts of one tree differ by under 1%.

Needs valgrind (``apt-get install valgrind``); a run takes about a minute per server and
channel. Another tree runs with this checkout's virtualenv, its ``src/redirection_bot`` and
``connectors`` put first on ``PYTHONPATH`` (its own program files are served).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp

from web import (  # bench/web.py, beside this file
    REPOSITORY,
    TURNS_PER_SESSION,
    Server,
    free_port,
    rest_run,
    server_environment,
    ws_run,
)

SESSIONS = 100
COUNTED = re.compile(r"Collected : (\d+)")


def counted_server(
    folder: Path, port: int, command: list[str], cwd: Path, python_path: str | None
) -> Server:
    """``command`` under callgrind, counting nothing until told (``callgrind_control``)."""
    out = folder / f"callgrind.{len(list(folder.iterdir()))}"
    environment = server_environment(folder)
    environment["PYTHONHASHSEED"] = "0"  # the same dictionaries, so the same work, each run
    if python_path is not None:
        environment["PYTHONPATH"] = python_path
    log = folder / f"{out.name}.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={out}",
                *command,
            ],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=environment,
        )
    return Server(" ".join(command[1:]), process, port, log)


def bot_command(folder: Path, port: int) -> list[str]:
    config = folder / f"bench-{port}.yaml"
    config.write_text(
        f"connectors:\n  webchat:\n    port: {port}\n"
        "limits:\n  messages_per_minute: 1000000\n  max_sessions: 30000\n"
        "admin:\n  enabled: false\n",
        encoding="utf-8",
    )
    script = Path(sys.executable).parent / "redirection-bot"
    return [sys.executable, str(script), "serve", "--config", str(config)]


async def ready(server: Server, url: str) -> None:
    """Under callgrind a start takes tens of seconds."""
    async with aiohttp.ClientSession() as session:
        for _ in range(1200):
            if server.process.poll() is not None:
                said = server.log.read_text() if server.log else ""
                raise RuntimeError(f"the server stopped:\n{said}")
            try:
                async with session.get(url + "/") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
    raise TimeoutError("the server did not start in 10 minutes")


async def per_turn(server: Server, url: str, channel: str, bot: bool, rounds: int) -> float:
    """Thousands of instructions per turn over ``channel`` (rest or ws)."""
    run = rest_run if channel == "rest" else ws_run
    await run(url, SESSIONS, bot)  # warm-up: caches filled, code paths taken once
    control = ["callgrind_control", "--instr=on", str(server.process.pid)]
    subprocess.run(control, check=True, capture_output=True)
    for _ in range(rounds):
        await run(url, SESSIONS, bot)
    control[1] = "--instr=off"
    subprocess.run(control, check=True, capture_output=True)
    server.process.terminate()
    server.process.wait(timeout=600)
    assert server.log is not None
    found = COUNTED.search(server.log.read_text())
    if found is None:
        raise RuntimeError(f"callgrind printed no count:\n{server.log.read_text()}")
    # Each conversation's opening message (REST "hello", the WebSocket's start) is answered
    # too: bench/web.py times only the turns after it, here it is counted as one.
    turns = rounds * SESSIONS * (TURNS_PER_SESSION + 1)
    return int(found.group(1)) / turns / 1000


def tree_path(folder: Path, tree: Path) -> str:
    """A PYTHONPATH that imports ``tree``'s code under the installed names."""
    names = folder / "other-tree"
    names.mkdir()
    (names / "redirection_bot").symlink_to(tree / "src" / "redirection_bot")
    (names / "redirection_bot_connectors").symlink_to(tree / "connectors")
    return str(names)


async def count(folder: Path, what: str, channel: str, rounds: int, tree: Path | None) -> float:
    port = free_port()
    if what == "echo":
        command = [sys.executable, str(Path(__file__).parent / "web.py"), "--serve-echo", str(port)]
        server = counted_server(folder, port, command, REPOSITORY, None)
    else:
        python_path = tree_path(folder / channel, tree) if tree is not None else None
        command = bot_command(folder, port)
        server = counted_server(folder, port, command, tree or REPOSITORY, python_path)
    url = f"http://127.0.0.1:{port}"
    try:
        await ready(server, url)
        return await per_turn(server, url, channel, what != "echo", rounds)
    finally:
        if server.process.poll() is None:
            server.process.kill()


async def bench(rounds: int, other: Path | None) -> None:
    print(
        f"Instructions per turn (callgrind), {SESSIONS} conversations at once, "
        f"{rounds * SESSIONS * (TURNS_PER_SESSION + 1):,} turns a count (each conversation's "
        f"opening message included), Python {sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for channel, title in (("rest", "REST"), ("ws", "WebSocket")):
            (folder / channel).mkdir()
            echo = await count(folder, "echo", channel, rounds, None)
            bot = await count(folder, "bot", channel, rounds, None)
            line = (
                f"{title}: bot {bot:,.0f} k instructions a turn; raw echo {echo:,.0f} k; "
                f"echo/bot {echo / bot:.2f}"
            )
            if other is not None:
                theirs = await count(folder, "bot", channel, rounds, other)
                line += f"; {other}: {theirs:,.0f} k (this tree / that one {bot / theirs:.3f})"
            print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--other", type=Path, help="another checkout, to count its code too")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of 100 conversations")
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("bench/instructions.py needs valgrind: apt-get install valgrind")
    asyncio.run(bench(args.rounds, args.other.resolve() if args.other else None))


if __name__ == "__main__":
    main()
