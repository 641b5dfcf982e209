"""``redirection-bot store-key``: print a new random key for encrypting the session store."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def run(args: argparse.Namespace) -> int:
    from redirection_bot.operations.crypto import new_key_text  # noqa: PLC0415

    print(new_key_text())
    return 0
