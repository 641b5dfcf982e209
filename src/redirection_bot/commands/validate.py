"""``redirection-bot validate``: check the program; exit 1 if it has errors."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from redirection_bot.cli import print_diagnostics, sources_from

NAME = "validate"
SUMMARY = "check the program; exit 1 if it has errors"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="print errors only, not warnings")


def run(args: argparse.Namespace) -> int:
    from redirection_bot.actions import registered_action_names  # noqa: PLC0415
    from redirection_bot.program.load import check_program  # noqa: PLC0415

    loaded, diagnostics = check_program(
        sources_from(args), registered_action_names(), dt.date.today()
    )
    print_diagnostics(diagnostics.errors if args.quiet else diagnostics.items, sys.stdout)
    errors, warnings = len(diagnostics.errors), len(diagnostics.warnings)
    if loaded is not None:
        program = loaded.program
        nodes = sum(len(flow.nodes) for flow in program.flows.values())
        print(
            f"{program.id} {program.version}: {len(program.flows)} flows, {nodes} nodes, "
            f"locales {', '.join(program.locales)}: {errors} error(s), {warnings} warning(s)"
        )
    else:
        print(f"{errors} error(s), {warnings} warning(s)")
    return 1 if errors else 0
