"""``redirection-bot evaluation``: the anonymous evaluation counts as CSV, small counts suppressed."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from redirection_bot.cli import configuration_refused
from redirection_bot.errors import ConfigError
from redirection_bot.operations.config import CONFIG_ENV

if TYPE_CHECKING:
    from redirection_bot.operations.evaluation import CountRow, EvaluationCounts

T = TypeVar("T")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None,
        help=f"the configuration `serve` uses (its `store` section; default ${CONFIG_ENV})",
    )


def read_counts(args: argparse.Namespace, read: Callable[[EvaluationCounts], Awaitable[T]]) -> T:
    """``read`` run over the counts store that ``--config`` names, closed after."""
    from redirection_bot.operations.config import read_settings  # noqa: PLC0415
    from redirection_bot.store.factory import open_counts  # noqa: PLC0415

    try:
        settings = read_settings(args.config, os.environ)
    except ConfigError as error:
        raise SystemExit(configuration_refused(error, "read")) from None

    async def run() -> T:
        counts = open_counts(settings.store)
        try:
            return await read(counts)
        finally:
            await counts.close()

    return asyncio.run(run())


def stored_counts(args: argparse.Namespace) -> list[CountRow]:
    """Every count row in the store that ``--config`` names (evaluation and outcomes alike)."""
    return read_counts(args, lambda counts: counts.rows())


def run(args: argparse.Namespace) -> int:
    from redirection_bot.operations.evaluation import export_csv  # noqa: PLC0415

    export_csv(stored_counts(args), sys.stdout)
    return 0
