"""``redirection-bot outcomes``: change between first and later visits, by quarter, as CSV.

Cells under 10 are hidden, and a second cell where one alone would be (docs/evaluation.md).
By default only quarters that have ended are written, so that two exports never differ by
one person's visit; ``--to-date`` adds the running quarter, for the operator's own checks.
The admin listener's ``/outcomes.csv`` is the same export (``OutcomeExport``).
"""

from __future__ import annotations

import argparse
import sys

from redirection_bot.commands import evaluation


def add_arguments(parser: argparse.ArgumentParser) -> None:
    evaluation.add_arguments(parser)
    parser.add_argument(
        "--to-date",
        action="store_true",
        help="include the quarter still running (not for a research partner: see docs/evaluation.md)",
    )


def run(args: argparse.Namespace) -> int:
    from redirection_bot.operations.outcomes import OutcomeExport  # noqa: PLC0415

    # the admin listener's /outcomes.csv is written by the same OutcomeExport
    text = evaluation.read_counts(
        args, lambda counts: OutcomeExport(counts).csv(completed_only=not args.to_date)
    )
    sys.stdout.write(text)
    return 0
