"""The ``redirection-bot`` command line: one module per command under ``commands/``.

Every command that uses the program loads and validates it first: a bot never starts on an
invalid one. A command module has ``add_arguments(parser)`` and
``run(args) -> int``; adding a command is adding a module and one line to ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO

from redirection_bot import __version__
from redirection_bot.diagnostics import Diagnostic
from redirection_bot.errors import AuthoringError, ConfigError, RedirectionBotError

if TYPE_CHECKING:
    from redirection_bot.program.load import LoadedProgram, ProgramSources
    from redirection_bot.turn.runtime import Runtime

DIALOGUES_ENV = "REDIRECTION_BOT_DIALOGUES"
LOCALES_ENV = "REDIRECTION_BOT_LOCALES"

COMMANDS = {
    "validate": "check the program; exit 1 if it has errors",
    "chat": "chat with the bot in this terminal",
    "serve": "serve the web chat (and every connector the configuration enables)",
    "test": "run conversation tests (YAML scripts)",
    "walk": "random walks through the program: how many of its messages they reach",
    "screen": "screen messages for risk (stdin, one per line), or measure the rules with --eval",
    "graph": "print a flow as a graph for review",
    "actions": "serve the custom actions over rasa-sdk's action server",
    "i18n": "translations: status, export, import, add-locale, mark-done",
    "studio": "a local web page to see, play and check the program while you write it",
    "lsp": "a language server for your editor (stdio): live errors, go to definition, hover",
    "store-key": "print a new encryption key for the session store (docs/operators.md)",
    "evaluation": "export the anonymous evaluation counts as CSV (counts below 10 suppressed)",
    "outcomes": "export change between first and later visits as CSV (cells below 10 hidden)",
}
"""Each command and what it does, in the order ``--help`` lists them; ``store-key`` is the
module ``redirection_bot.commands.store_key``. ``--help`` reads only this (no command is
imported to list them)."""


class CommandModule(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    named = _command_named(arguments)
    if named == "serve" and argv is None:
        # A process of its own, whose start begins here: what it imports lives as long as
        # the process, so the cycle collector waits (about 50 collections, 10 ms, before
        # ``serve.run`` pauses it in any case), its dataclasses' code is read compiled, and
        # aiohttp comes first, so that the certificates it reads are read beside the rest.
        gc.disable()
        from redirection_bot.program import kept_code  # noqa: PLC0415
        from redirection_bot.program.kept_folder import cache_folder  # noqa: PLC0415

        kept_code.start(cache_folder(os.environ))
        from redirection_bot.operations import aiohttp_early  # noqa: PLC0415

        aiohttp_early.import_aiohttp()
    parser = build_parser(named)
    args = parser.parse_args(arguments)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    command: CommandModule = args.command_module
    try:
        code = command.run(args)
        if not sys.stdout.closed:  # ``lsp`` closes it when the editor says `exit`
            sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _reader_went_away()
    except AuthoringError as error:
        print_diagnostics(error.diagnostics, sys.stderr)
        errors = len([d for d in error.diagnostics if d.is_error])
        print(
            f"the program has {errors} error(s); run `redirection-bot validate` for the full list",
            file=sys.stderr,
        )
        return 1
    except RedirectionBotError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _reader_went_away() -> int:
    """``validate | head -1``: the reader has what it wanted; end quietly, as ``cat`` does.
    Output still buffered would fail again at exit, so it is sent nowhere instead."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141  # 128 + SIGPIPE, what a shell reports for a command ended by a closed pipe


def _command_named(arguments: Sequence[str]) -> str | None:
    """The command the arguments name (the first that is not an option), if it is one of
    ``COMMANDS``."""
    named = next((argument for argument in arguments if not argument.startswith("-")), None)
    return named if named in COMMANDS else None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line; with ``only``, just that command's module is imported and its
    arguments read, so that ``serve`` does not carry the authoring tools. Without it (``--help``,
    no command, a mistyped one), every command is listed from ``COMMANDS`` and none imported."""
    parser = argparse.ArgumentParser(
        prog="redirection-bot",
        description="A rule-based self-help chat program, written by clinicians in YAML.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log events (never content)")
    subcommands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    for name, summary in COMMANDS.items():
        command = subcommands.add_parser(name, help=summary, description=summary)
        if name == only:
            module: CommandModule = importlib.import_module(
                f"redirection_bot.commands.{name.replace('-', '_')}"
            )
            add_program_arguments(command)
            module.add_arguments(command)
            command.set_defaults(command_module=module)
    return parser


def add_program_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dialogues",
        type=Path,
        default=Path(os.environ.get(DIALOGUES_ENV, "dialogues")),
        help=f"the dialogues folder (default: ./dialogues, or ${DIALOGUES_ENV})",
    )
    parser.add_argument(
        "--locales",
        type=Path,
        default=Path(os.environ.get(LOCALES_ENV, "locales")),
        help=f"the locales folder (default: ./locales, or ${LOCALES_ENV})",
    )


def sources_from(args: argparse.Namespace) -> ProgramSources:
    from redirection_bot.program.load import ProgramSources  # noqa: PLC0415

    return ProgramSources(args.dialogues, args.locales)


def load(args: argparse.Namespace, kept: bool = False) -> LoadedProgram:
    """The validated program named by the command line; raises AuthoringError otherwise.
    ``kept``: read it from the copy kept by the last start when it is the same program
    (``program/kept.py``; for ``serve``)."""
    from redirection_bot.program.kept import load_kept  # noqa: PLC0415
    from redirection_bot.program.kept_folder import cache_folder  # noqa: PLC0415
    from redirection_bot.turn.actions import registered_action_names  # noqa: PLC0415

    folder = cache_folder(os.environ) if kept else None
    return load_kept(sources_from(args), registered_action_names(), dt.date.today(), folder)


def memory_runtime(loaded: LoadedProgram) -> Runtime:
    """A runtime over the in-memory store, running actions in-process."""
    from redirection_bot.store.memory import MemoryStore  # noqa: PLC0415
    from redirection_bot.turn.actions import RasaActionRunner  # noqa: PLC0415
    from redirection_bot.turn.runtime import Runtime  # noqa: PLC0415

    return Runtime(loaded, MemoryStore(), RasaActionRunner(loaded))


def unknown_locale(loaded: LoadedProgram, locale: str | None) -> bool:
    """Whether ``locale`` (an option's) is not one of the program's; if so, it is said."""
    if locale is None or locale in loaded.program.locales:
        return False
    known = ", ".join(loaded.program.locales)
    print(f"error: the program has no locale {locale!r} (it has {known})", file=sys.stderr)
    return True


def configuration_refused(error: ConfigError, nothing_was: str) -> int:
    """Say a configuration's errors as every command says them; the exit status (2)."""
    print(error, file=sys.stderr)
    print(f"the configuration has errors; nothing was {nothing_was}", file=sys.stderr)
    return 2


def print_diagnostics(diagnostics: Sequence[Diagnostic], stream: TextIO) -> None:
    for diagnostic in diagnostics:
        print(diagnostic.format(), file=stream)


if __name__ == "__main__":
    raise SystemExit(main())
