"""``redirection-bot graph FLOW``: a flow as Mermaid or Graphviz text, for review."""

from __future__ import annotations

import argparse
import sys

from redirection_bot.cli import load


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("flow", help="the flow id")
    parser.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    parser.add_argument(
        "--locale", help="show each node's first line of text in this locale (for example en)"
    )


def run(args: argparse.Namespace) -> int:
    from redirection_bot.dialogue.graph import flow_graph  # noqa: PLC0415
    from redirection_bot.language.suggest import did_you_mean  # noqa: PLC0415

    loaded = load(args)
    if args.flow not in loaded.program.flows:
        print(
            f"error: no flow {args.flow!r}{did_you_mean(args.flow, loaded.program.flows)}",
            file=sys.stderr,
        )
        return 2
    texts: dict[str, str] = {}
    if args.locale is not None:
        if args.locale not in loaded.program.locales:
            print(
                f"error: `{args.locale}` is not one of the program's locales "
                f"({', '.join(loaded.program.locales)})",
                file=sys.stderr,
            )
            return 2
        for node in loaded.program.flows[args.flow].nodes.values():
            if node.say:
                texts[node.id] = loaded.catalog.text(node.say[0].key, args.locale)
    sys.stdout.write(flow_graph(loaded.program, args.flow, args.format, texts))
    return 0
