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
        "--coverage", action="store_true", help="report which nodes the tests pass through"
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
    if args.coverage:
        print("node coverage:")
        for flow in node_coverage(loaded.program, results):
            missing = f" (not visited: {', '.join(flow.missing)})" if flow.missing else ""
            print(f"  {flow.flow}: {flow.visited}/{flow.total} nodes, {flow.percent:.0f}%{missing}")
    return 1 if failed or not results else 0
