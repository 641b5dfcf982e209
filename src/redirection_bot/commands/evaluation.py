"""``redirection-bot evaluation``: the anonymous evaluation counts as CSV, small counts suppressed."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from redirection_bot.operations.config import CONFIG_ENV

NAME = "evaluation"
SUMMARY = "export the anonymous evaluation counts as CSV (counts below 10 suppressed)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None,
        help=f"the configuration `serve` uses (its `store` section; default ${CONFIG_ENV})",
    )


def run(args: argparse.Namespace) -> int:
    from redirection_bot.operations.config import read_settings  # noqa: PLC0415
    from redirection_bot.operations.evaluation import CountRow, export_csv  # noqa: PLC0415
    from redirection_bot.store.factory import open_counts  # noqa: PLC0415

    settings = read_settings(args.config, os.environ)

    async def rows() -> list[CountRow]:
        counts = open_counts(settings.store)
        try:
            return await counts.rows()
        finally:
            await counts.close()

    export_csv(asyncio.run(rows()), sys.stdout)
    return 0
