"""``redirection-bot lsp``: a language server for dialogues/ and locales/ on stdio, for any
editor that speaks the Language Server Protocol (docs/authoring.md, "In your editor")."""

from __future__ import annotations

import argparse
import sys

from redirection_bot.cli import sources_from


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stdio",
        action="store_true",
        help="talk over stdin/stdout (the default; for editors that pass it)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        from redirection_bot.lsp.server import create_server  # noqa: PLC0415
    except ImportError as error:
        print(
            f"error: the language server needs pygls ({error.name} is not installed): "
            "pip install 'redirection-bot[lsp]'",
            file=sys.stderr,
        )
        return 1
    from redirection_bot.turn.actions import registered_action_names  # noqa: PLC0415

    create_server(sources_from(args), registered_action_names()).start_io()
    return 0
