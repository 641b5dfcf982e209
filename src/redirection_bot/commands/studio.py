"""``redirection-bot studio``: a local web page to see, play and check the program while
writing it (docs/authoring.md, "The studio"). It reads the files and never writes them."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from redirection_bot.cli import sources_from

if TYPE_CHECKING:
    from aiohttp import web

DEFAULT_TESTS = Path("tests/conversations")
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8765, help="the port (default: 8765)")
    parser.add_argument(
        "--tests",
        type=Path,
        default=DEFAULT_TESTS,
        help=f"conversation tests for the coverage page (default: {DEFAULT_TESTS})",
    )


def allowed_hosts(host: str, port: int) -> frozenset[str] | None:
    """The ``Host`` headers a studio on this address answers (None: any, when it is not
    bound to the loopback interface, where DNS rebinding is not what protects it)."""
    try:
        loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        return None
    return frozenset(f"{name}:{port}" for name in (*LOOPBACK_NAMES, host))


def run(args: argparse.Namespace) -> int:
    from redirection_bot.studio.app import StudioSettings, create_app  # noqa: PLC0415
    from redirection_bot.turn.actions import registered_action_names  # noqa: PLC0415

    settings = StudioSettings(sources_from(args), args.tests, allowed_hosts(args.host, args.port))
    app = create_app(settings, registered_action_names())
    return asyncio.run(_serve(app, args.host, args.port))


async def _serve(app: web.Application, host: str, port: int) -> int:
    """Serve the studio until Ctrl+C; say its address once it listens (a port already taken
    is said as ``serve`` says it, not as a traceback)."""
    from redirection_bot.operations.listening import http_address, listen, runner  # noqa: PLC0415

    started = runner(app)
    await started.setup()
    port = await listen(started, host, port, "the studio", "--port")
    print(f"studio: {http_address(host, port)}  (Ctrl+C to stop)", file=sys.stderr, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await started.cleanup()
    return 0
