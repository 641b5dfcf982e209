"""``redirection-bot walk``: seeded random walks through the program; the messages reached."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from redirection_bot.cli import load, memory_runtime, unknown_locale

if TYPE_CHECKING:
    from redirection_bot.authoring.random_walk import WalkReport


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--walks", type=int, default=200, metavar="N", help="walks per locale (default: 200)"
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="the same seed gives the same walks (default: 1)"
    )
    parser.add_argument(
        "--locale",
        action="append",
        metavar="LOCALE",
        help="walk in this locale (repeatable; default: every locale of the program)",
    )
    parser.add_argument(
        "--max-turns",
        type=int,
        default=80,
        metavar="T",
        help="stop a walk after T turns (default: 80)",
    )
    parser.add_argument(
        "--missing",
        action="store_true",
        help="list the messages no walk reached, with where each is written",
    )


def run(args: argparse.Namespace) -> int:
    from redirection_bot.authoring.random_walk import walk_locale  # noqa: PLC0415

    loaded = load(args)
    locales = args.locale or list(loaded.program.locales)
    if any(unknown_locale(loaded, locale) for locale in locales):
        return 2
    runtime = memory_runtime(loaded)

    async def walk_all() -> list[WalkReport]:
        return [
            await walk_locale(runtime, locale, args.walks, args.seed, args.max_turns)
            for locale in locales
        ]

    for report in asyncio.run(walk_all()):
        print(
            f"{report.locale}: {len(report.reached)} distinct messages reached of "
            f"{report.total} the program can say ({report.walks} walks, {report.turns} turns, "
            f"seed {args.seed}); {len(report.never_reached)} never reached"
        )
        if args.missing:
            for key in report.never_reached:
                span = report.places[key]
                print(f"  {key} ({span.path}:{span.line})")
    return 0
