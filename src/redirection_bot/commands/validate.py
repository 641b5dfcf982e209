"""``redirection-bot validate``: check the program; exit 1 if it has errors."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from redirection_bot.cli import print_diagnostics, sources_from


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="print errors only, not warnings")
    parser.add_argument(
        "--format",
        choices=("text", "json", "sarif"),
        default="text",
        help="text (file:line:column lines), json, or sarif (SARIF 2.1.0, for CI and "
        "code-review pages)",
    )


def run(args: argparse.Namespace) -> int:
    from redirection_bot.program.load import check_program  # noqa: PLC0415
    from redirection_bot.turn.actions import registered_action_names  # noqa: PLC0415

    loaded, diagnostics = check_program(
        sources_from(args), registered_action_names(), dt.date.today()
    )
    shown = diagnostics.errors if args.quiet else diagnostics.items
    errors, warnings = len(diagnostics.errors), len(diagnostics.warnings)
    if args.format != "text":
        from redirection_bot.language.diagnostics_formats import (  # noqa: PLC0415
            diagnostics_json,
            diagnostics_sarif,
        )

        formatter = diagnostics_json if args.format == "json" else diagnostics_sarif
        print(formatter(shown))
        return 1 if errors else 0
    print_diagnostics(shown, sys.stdout)
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
