"""``redirection-bot outcomes``: change between first and later visits, by quarter, as CSV.

Cells under 10 are hidden, and a second cell where one alone would be (docs/evaluation.md).
By default only quarters that have ended are written, so that two exports never differ by
one person's visit; ``--to-date`` adds the running quarter, for the operator's own checks.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
from pathlib import Path

from redirection_bot.operations.config import CONFIG_ENV

NAME = "outcomes"
SUMMARY = "export change between first and later visits as CSV (cells below 10 hidden)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None,
        help=f"the configuration `serve` uses (its `store` section; default ${CONFIG_ENV})",
    )
    parser.add_argument(
        "--to-date",
        action="store_true",
        help="include the quarter still running (not for a research partner: see docs/evaluation.md)",
    )


def run(args: argparse.Namespace) -> int:
    from redirection_bot.operations.config import read_settings  # noqa: PLC0415
    from redirection_bot.operations.evaluation import CountRow  # noqa: PLC0415
    from redirection_bot.operations.outcomes import export_outcomes_csv  # noqa: PLC0415
    from redirection_bot.store.factory import open_counts  # noqa: PLC0415

    settings = read_settings(args.config, os.environ)

    async def rows() -> list[CountRow]:
        counts = open_counts(settings.store)
        try:
            return await counts.rows()
        finally:
            await counts.close()

    today = dt.datetime.now(dt.UTC).date()
    export_outcomes_csv(asyncio.run(rows()), sys.stdout, today, completed_only=not args.to_date)
    return 0
