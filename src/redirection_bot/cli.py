"""The ``redirection-bot`` command: validate, chat, test, graph, actions.

Every command loads and validates the program first: a bot never starts on an invalid one.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from redirection_bot import __version__
from redirection_bot.diagnostics import Diagnostic
from redirection_bot.dialogue.load import LoadedProgram, ProgramSources, check_program, load_program
from redirection_bot.errors import AuthoringError, RedirectionBotError

DIALOGUES_ENV = "REDIRECTION_BOT_DIALOGUES"
LOCALES_ENV = "REDIRECTION_BOT_LOCALES"
DEFAULT_TESTS = Path("tests/conversations")

if TYPE_CHECKING:
    from redirection_bot.conversation_tests import ScriptResult
    from redirection_bot.runtime import Runtime

Handler = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    handler: Handler = args.handler
    try:
        return handler(args)
    except AuthoringError as error:
        _print_diagnostics(error.diagnostics, sys.stderr)
        print(
            f"the program has {len([d for d in error.diagnostics if d.is_error])} error(s); "
            "run `redirection-bot validate` for the full list",
            file=sys.stderr,
        )
        return 1
    except RedirectionBotError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="redirection-bot",
        description="A rule-based self-help chat program, written by clinicians in YAML.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log events (never content)")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    validate = _command(
        commands, "validate", "check the program; exit 1 if it has errors", _validate
    )
    validate.add_argument("--quiet", action="store_true", help="print errors only, not warnings")

    chat = _command(commands, "chat", "chat with the bot in this terminal", _chat)
    chat.add_argument("--locale", help="the language to start in (default: the program's)")
    chat.add_argument(
        "--json", action="store_true", help="JSON lines on stdin/stdout (docs/protocol.md)"
    )

    test = _command(commands, "test", "run conversation tests (YAML scripts)", _test)
    test.add_argument(
        "paths", nargs="*", type=Path, help=f"test files or folders (default: {DEFAULT_TESTS})"
    )
    test.add_argument(
        "--coverage", action="store_true", help="report which nodes the tests pass through"
    )

    graph = _command(commands, "graph", "print a flow as a graph for review", _graph)
    graph.add_argument("flow", help="the flow id")
    graph.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")

    actions = _command(
        commands, "actions", "serve the custom actions over rasa-sdk's action server", _actions
    )
    actions.add_argument("--port", type=int, default=5055)
    actions.add_argument("--host", default="127.0.0.1")
    return parser


def _command(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    name: str,
    summary: str,
    handler: Handler,
) -> argparse.ArgumentParser:
    command: argparse.ArgumentParser = commands.add_parser(name, help=summary, description=summary)
    command.add_argument(
        "--dialogues",
        type=Path,
        default=Path(os.environ.get(DIALOGUES_ENV, "dialogues")),
        help=f"the dialogues folder (default: ./dialogues, or ${DIALOGUES_ENV})",
    )
    command.add_argument(
        "--locales",
        type=Path,
        default=Path(os.environ.get(LOCALES_ENV, "locales")),
        help=f"the locales folder (default: ./locales, or ${LOCALES_ENV})",
    )
    command.set_defaults(handler=handler)
    return command


def sources_from(args: argparse.Namespace) -> ProgramSources:
    return ProgramSources(args.dialogues, args.locales)


def load(args: argparse.Namespace) -> LoadedProgram:
    """The validated program named by the command line; raises AuthoringError otherwise."""
    from redirection_bot.actions import registered_action_names  # noqa: PLC0415

    return load_program(sources_from(args), registered_action_names(), dt.date.today())


def _print_diagnostics(diagnostics: Sequence[Diagnostic], stream: object) -> None:
    for diagnostic in diagnostics:
        print(diagnostic.format(), file=stream)  # type: ignore[call-overload]


# --- commands ----------------------------------------------------------------------------------


def _validate(args: argparse.Namespace) -> int:
    from redirection_bot.actions import registered_action_names  # noqa: PLC0415

    loaded, diagnostics = check_program(
        sources_from(args), registered_action_names(), dt.date.today()
    )
    shown = diagnostics.errors if args.quiet else diagnostics.items
    _print_diagnostics(shown, sys.stdout)
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


def _runtime(loaded: LoadedProgram) -> Runtime:
    from redirection_bot.actions import RasaActionRunner  # noqa: PLC0415
    from redirection_bot.runtime import Runtime  # noqa: PLC0415
    from redirection_bot.store.memory import MemoryStore  # noqa: PLC0415

    return Runtime(loaded, MemoryStore(), RasaActionRunner(loaded))


def _chat(args: argparse.Namespace) -> int:
    from redirection_bot.connector import ConnectorContext, load_connector  # noqa: PLC0415

    loaded = load(args)
    if args.locale is not None and args.locale not in loaded.program.locales:
        print(
            f"error: the program has no locale {args.locale!r} "
            f"(it has {', '.join(loaded.program.locales)})",
            file=sys.stderr,
        )
        return 2
    runtime = _runtime(loaded)
    connector_class = load_connector("console")

    async def chat() -> int:
        context = ConnectorContext(runtime, {"json": args.json, "locale": args.locale})
        return await connector_class(context).run()

    return asyncio.run(chat())


def _test(args: argparse.Namespace) -> int:
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
        _print_diagnostics(diagnostics.items, sys.stdout)
        return 1
    runtime = _runtime(loaded)

    async def run_all() -> list[ScriptResult]:
        return [await run_script(runtime, script) for script in scripts]

    results = asyncio.run(run_all())
    failed = 0
    for result in results:
        if result.passed:
            print(f"PASS {result.script.span.format()} {result.script.name}")
        else:
            failed += 1
            assert result.failure_span is not None
            print(f"FAIL {result.failure_span.format()}: {result.script.name}: {result.failure}")
    print(f"{len(results) - failed} passed, {failed} failed")
    if args.coverage:
        print("node coverage:")
        for flow in node_coverage(loaded.program, results):
            missing = f" (not visited: {', '.join(flow.missing)})" if flow.missing else ""
            print(f"  {flow.flow}: {flow.visited}/{flow.total} nodes, {flow.percent:.0f}%{missing}")
    return 1 if failed or not results else 0


def _graph(args: argparse.Namespace) -> int:
    from redirection_bot.dialogue.graph import flow_graph  # noqa: PLC0415
    from redirection_bot.suggest import did_you_mean  # noqa: PLC0415

    loaded = load(args)
    if args.flow not in loaded.program.flows:
        print(
            f"error: no flow {args.flow!r}{did_you_mean(args.flow, loaded.program.flows)}",
            file=sys.stderr,
        )
        return 2
    sys.stdout.write(flow_graph(loaded.program, args.flow, args.format))
    return 0


def _actions(args: argparse.Namespace) -> int:
    from redirection_bot.action_server import serve_actions  # noqa: PLC0415

    loaded = load(args)
    serve_actions(loaded, args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
