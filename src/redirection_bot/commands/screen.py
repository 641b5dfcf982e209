"""``redirection-bot screen``: screen messages for risk, or measure the rules on a labelled set.

Without ``--eval``, reads one message per line on standard input and prints one JSON object
per line: ``{"text": ..., "categories": [...], "check": [...]}`` (``check``: the categories
raised as uncertain, whose safety flow starts with a check question). The lines are read as
one person's conversation, each screened with what the earlier ones carried (the running bot
does the same: a request that only makes sense after earlier messages is still caught).
``--explain`` prints, instead, for a clinician, each message and why each category was raised:
the words a rule matched, or the second layer's score and the words that weighed most. With
``--eval FILE``
prints recall and precision per category, neutral precision, a confusion summary and every
miss, and exits 1 when a target is not met. Screening uses the rules of every locale of the
program, the chosen one first, as the running bot does; ``--only-locale`` uses one alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from redirection_bot.cli import load, print_diagnostics, unknown_locale

if TYPE_CHECKING:
    from redirection_bot.safety.categories import RiskCategory
    from redirection_bot.safety.screen import Screening


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from redirection_bot.safety.evaluation import (  # noqa: PLC0415
        NEUTRAL_PRECISION_TARGET,
        RECALL_TARGET,
    )

    parser.add_argument("--locale", help="the session's locale (default: the program's default)")
    parser.add_argument("--eval", type=Path, metavar="FILE", help="a labelled evaluation set")
    parser.add_argument(
        "--explain", action="store_true", help="say why each category was raised (for people)"
    )
    parser.add_argument(
        "--only-locale",
        action="store_true",
        help="use this locale's rules alone (the bot also applies the other locales' rules)",
    )
    parser.add_argument(
        "--answering",
        metavar="SLOT",
        help="read each line as typed at a question that fills SLOT (its `check_in_answers`)",
    )
    parser.add_argument(
        "--in-flow",
        metavar="FLOW",
        help="read each line as typed while in FLOW (its `except_in_flows`)",
    )
    parser.add_argument(
        "--min-recall",
        type=float,
        default=RECALL_TARGET,
        help=f"with --eval: the recall each category must reach (default {RECALL_TARGET})",
    )
    parser.add_argument(
        "--min-neutral-precision",
        type=float,
        default=NEUTRAL_PRECISION_TARGET,
        help="with --eval: the share of neutral utterances that must raise nothing "
        f"(default {NEUTRAL_PRECISION_TARGET})",
    )


def run(args: argparse.Namespace) -> int:
    from redirection_bot.diagnostics import Diagnostics  # noqa: PLC0415
    from redirection_bot.language.i18n import display_path  # noqa: PLC0415
    from redirection_bot.safety.evaluation import evaluate, load_evaluation  # noqa: PLC0415
    from redirection_bot.turn.ingress import admit  # noqa: PLC0415

    loaded = load(args)
    if unknown_locale(loaded, args.locale):
        return 2
    screener = loaded.screener
    locale = args.locale
    if args.eval is None:
        chosen = locale or loaded.program.default_locale
        carried: tuple[float, ...] = ()
        for line in sys.stdin.buffer:
            # Admitted as the runtime admits a message (ingress.admit), so that what is
            # screened here is what a conversation would screen.
            text = admit(line.rstrip(b"\r\n")).text
            where = {"answering": args.answering, "in_flow": args.in_flow}
            if args.explain:
                screening, why = screener.explain(text, chosen, args.only_locale, carried, **where)
                carried = screening.carry
                print(f"{text}\n" + _explained(screening, why), flush=True)
                continue
            screening = screener.screen(text, chosen, args.only_locale, carried, **where)
            carried = screening.carry
            print(
                json.dumps(
                    {
                        "text": text,
                        "categories": [hit.category.value for hit in screening.hits],
                        "check": [hit.category.value for hit in screening.hits if not hit.certain],
                    },
                    ensure_ascii=False,
                ),
                flush=True,
            )
        return 0
    diagnostics = Diagnostics()
    labelled = load_evaluation(args.eval, display_path(args.eval), diagnostics)
    if diagnostics.has_errors():
        print_diagnostics(diagnostics.items, sys.stderr)
        return 1
    if locale is not None and labelled.locale is not None and locale != labelled.locale:
        print(
            f"error: --locale {locale}, but {args.eval} is labelled `locale: {labelled.locale}`",
            file=sys.stderr,
        )
        return 1
    chosen = locale or labelled.locale or loaded.program.default_locale
    result = evaluate(screener, labelled.items, chosen, args.only_locale)
    rules = "its own rules only" if args.only_locale else "the rules of every locale"
    print(f"{args.eval}: {len(labelled.items)} utterances, locale {chosen}, {rules}")
    for line in result.report():
        print(line)
    met = result.meets(args.min_recall, args.min_neutral_precision)
    print(
        "targets met"
        if met
        else f"targets NOT met (recall {args.min_recall}, neutral precision "
        f"{args.min_neutral_precision})"
    )
    return 0 if met else 1


def _explained(screening: Screening, why: dict[RiskCategory, list[str]]) -> str:
    if not screening.hits:
        return "  nothing raised\n"
    lines = []
    for hit in screening.hits:
        kind = "certain" if hit.certain else "check first"
        lines.append(f"  {hit.category.value} ({kind})")
        lines.extend(f"    {reason}" for reason in why.get(hit.category, []))
    return "\n".join(lines) + "\n"
