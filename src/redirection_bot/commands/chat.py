"""``redirection-bot chat``: a conversation in this terminal (or JSON lines with --json)."""

from __future__ import annotations

import argparse
import asyncio

from redirection_bot.cli import load, memory_runtime, unknown_locale


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--locale", help="the language to start in (default: the program's)")
    parser.add_argument(
        "--json", action="store_true", help="JSON lines on stdin/stdout (docs/protocol.md)"
    )


def run(args: argparse.Namespace) -> int:
    from redirection_bot.serving.connector import ConnectorContext, load_connector  # noqa: PLC0415

    loaded = load(args)
    if unknown_locale(loaded, args.locale):
        return 2
    runtime = memory_runtime(loaded)
    connector_class = load_connector("console")

    async def chat() -> int:
        options = connector_class.options_schema(json=args.json, locale=args.locale)
        context = ConnectorContext(runtime, options)
        return await connector_class(context).run()

    return asyncio.run(chat())
