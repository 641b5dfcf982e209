"""``redirection-bot outcomes``: change between first and later visits, by quarter, as CSV.

Cells under 10 are hidden, and a second cell where one alone would be (docs/evaluation.md).
By default only quarters that have ended are written, so that two exports never differ by
one person's visit; ``--to-date`` adds the running quarter, for the operator's own checks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from redirection_bot.commands import evaluation

NAME = "outcomes"
SUMMARY = "export change between first and later visits as CSV (cells below 10 hidden)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    evaluation.add_arguments(parser)
    parser.add_argument(
        "--to-date",
        action="store_true",
        help="include the quarter still running (not for a research partner: see docs/evaluation.md)",
    )


def run(args: argparse.Namespace) -> int:
    from redirection_bot.operations.outcomes import export_outcomes_csv  # noqa: PLC0415

    today = dt.datetime.now(dt.UTC).date()
    export_outcomes_csv(
        evaluation.stored_counts(args), sys.stdout, today, completed_only=not args.to_date
    )
    return 0
