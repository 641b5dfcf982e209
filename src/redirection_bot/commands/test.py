"""``redirection-bot test``: run the clinicians' conversation tests."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from redirection_bot.cli import load, memory_runtime, print_diagnostics

if TYPE_CHECKING:
    from redirection_bot.conversation_tests import ScriptResult

NAME = "test"
SUMMARY = "run conversation tests (YAML scripts)"
DEFAULT_TESTS = Path("tests/conversations")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", type=Path, help=f"test files or folders (default: {DEFAULT_TESTS})"
    )
    parser.add_argument(
        "--coverage",
        action="store_true",
        help="report, per flow, the nodes the tests pass through and the choices they take",
    )
    parser.add_argument(
        "--coverage-html",
        type=Path,
        metavar="DIR",
        help="also write the coverage report as DIR/index.html",
    )


def run(args: argparse.Namespace) -> int:
    import sys  # noqa: PLC0415

    from redirection_bot.conversation_tests import (  # noqa: PLC0415
        find_test_files,
        load_scripts,
        node_coverage,
        run_script,
    )
    from redirection_bot.diagnostics import Diagnostics  # noqa: PLC0415

    loaded = load(args)
    files = find_test_files(args.paths or [DEFAULT_TESTS])
    diagnostics = Diagnostics()
    scripts = [script for path in files for script in load_scripts(path, diagnostics)]
    if diagnostics.has_errors():
        print_diagnostics(diagnostics.items, sys.stdout)
        return 1
    runtime = memory_runtime(loaded)

    async def run_all() -> list[ScriptResult]:
        return [await run_script(runtime, script) for script in scripts]

    results = asyncio.run(run_all())
    failed = 0
    for result in results:
        if result.passed:
            print(f"PASS {result.script.span.format()} {result.script.name}")
        else:
            failed += 1
            where = (
                result.failure_span.format() if result.failure_span else result.script.span.format()
            )
            print(f"FAIL {where}: {result.script.name}: {result.failure}")
    print(f"{len(results) - failed} passed, {failed} failed")
    coverage = node_coverage(loaded.program, results)
    if args.coverage:
        print("coverage (nodes visited, choices taken):")
        for flow in coverage:
            print(
                f"  {flow.flow}: {flow.visited}/{flow.total} nodes, {flow.percent:.0f}%; "
                f"{flow.choices_picked}/{flow.choices_total} choices, {flow.choices_percent:.0f}%"
            )
            if flow.missing:
                print(f"    nodes not visited: {', '.join(flow.missing)}")
            if flow.missing_choices:
                print(f"    choices not taken: {', '.join(flow.missing_choices)}")
    if args.coverage_html is not None:
        from redirection_bot.coverage_report import coverage_html  # noqa: PLC0415

        args.coverage_html.mkdir(parents=True, exist_ok=True)
        page = args.coverage_html / "index.html"
        title = f"{loaded.program.id} {loaded.program.version}"
        page.write_text(coverage_html(coverage, results, title), encoding="utf-8")
        print(f"coverage report: {page}")
    return 1 if failed or not results else 0
