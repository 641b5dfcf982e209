"""``redirection-bot test``: run the clinicians' conversation tests."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from redirection_bot.cli import load, print_diagnostics

if TYPE_CHECKING:
    from collections.abc import Sequence

    from redirection_bot.authoring.conversation_coverage import FlowCoverage
    from redirection_bot.authoring.conversation_tests import ScriptResult
    from redirection_bot.dialogue.model import Program

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
    parser.add_argument(
        "--min-coverage",
        type=float,
        metavar="N",
        help="fail (exit 1) if the overall coverage (nodes, choices and `if` arms) is below "
        "N percent, for CI",
    )
    parser.add_argument(
        "--min-choice-coverage",
        type=float,
        metavar="N",
        help="fail (exit 1) if the tests take less than N percent of the choices of any one "
        "flow, for CI",
    )


def run(args: argparse.Namespace) -> int:
    import sys  # noqa: PLC0415

    from redirection_bot.authoring.conversation_coverage import (  # noqa: PLC0415
        coverage_total,
        flows_below,
        node_coverage,
    )
    from redirection_bot.authoring.conversation_tests import (  # noqa: PLC0415
        find_test_files,
        load_scripts,
        run_script,
        tests_runtime,
    )
    from redirection_bot.diagnostics import Diagnostics  # noqa: PLC0415

    loaded = load(args)
    files = find_test_files(args.paths or [DEFAULT_TESTS])
    diagnostics = Diagnostics()
    scripts = [script for path in files for script in load_scripts(path, diagnostics)]
    # A test written wrongly is reported and left out; the others still run.
    print_diagnostics(diagnostics.items, sys.stdout)
    runtime = tests_runtime(loaded, scripts)

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
    unreadable = len(diagnostics.errors)
    summary = f"{len(results) - failed} passed, {failed} failed"
    print(summary + (f"; {unreadable} problem(s) in the test files" if unreadable else ""))
    coverage = node_coverage(loaded.program, results)
    total = coverage_total(coverage)
    if args.coverage:
        _print_coverage(loaded.program, results, coverage)
    if args.coverage_html is not None:
        from redirection_bot.authoring.coverage_report import coverage_html  # noqa: PLC0415

        args.coverage_html.mkdir(parents=True, exist_ok=True)
        page = args.coverage_html / "index.html"
        title = f"{loaded.program.id} {loaded.program.version}"
        page.write_text(
            coverage_html(coverage, results, title, program=loaded.program), encoding="utf-8"
        )
        print(f"coverage report: {page}")
    below = args.min_coverage is not None and total.percent < args.min_coverage
    if args.min_coverage is not None:
        verdict = "below" if below else "meets"
        print(
            f"coverage {total.percent:.1f}% {verdict} the minimum of {args.min_coverage:g}% "
            "(passing tests only)"
        )
    thin = (
        [] if args.min_choice_coverage is None else flows_below(coverage, args.min_choice_coverage)
    )
    if args.min_choice_coverage is not None:
        _print_choice_minimum(thin, args.min_choice_coverage)
    return 1 if failed or unreadable or not results or below or thin else 0


def _print_choice_minimum(thin: Sequence[FlowCoverage], minimum: float) -> None:
    if not thin:
        print(f"choices: every flow meets the minimum of {minimum:g}% (passing tests only)")
        return
    for flow in thin:
        print(
            f"choices: {flow.flow} {flow.choices_picked}/{flow.choices_total}, "
            f"{flow.choices_percent:.1f}%, below the minimum of {minimum:g}%; not taken: "
            f"{', '.join(flow.located(flow.missing_choices))}"
        )


def _print_coverage(
    program: Program, results: Sequence[ScriptResult], coverage: Sequence[FlowCoverage]
) -> None:
    from redirection_bot.authoring.conversation_coverage import (  # noqa: PLC0415
        coverage_total,
        locale_coverage,
    )

    total = coverage_total(coverage)
    print("coverage (passing tests only: nodes visited, choices taken, `if` arms taken):")
    for flow in coverage:
        print(
            f"  {flow.flow}: {flow.visited}/{flow.total} nodes, {flow.percent:.0f}%; "
            f"{flow.choices_picked}/{flow.choices_total} choices, {flow.choices_percent:.0f}%; "
            f"{flow.branches_taken}/{flow.branches_total} if-arms, {flow.branches_percent:.0f}%"
        )
        for label, missing in (
            ("nodes not visited", flow.missing),
            ("choices not taken", flow.missing_choices),
            ("if-arms not taken", flow.missing_branches),
        ):
            if missing:
                print(f"    {label}: {', '.join(flow.located(missing))}")
    print(f"  overall: {total.covered}/{total.total}, {total.percent:.1f}%")
    for locale, figure in locale_coverage(program, results).items():
        print(f"  in {locale}: {figure.covered}/{figure.total}, {figure.percent:.1f}%")
