"""``redirection-bot actions``: the custom actions behind rasa-sdk's own action server."""

from __future__ import annotations

import argparse

from redirection_bot.cli import load


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=5055, help="the port (default: 5055)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)"
    )


def run(args: argparse.Namespace) -> int:
    from redirection_bot.turn.action_server import serve_actions  # noqa: PLC0415

    serve_actions(load(args), args.host, args.port)
    return 0
