"""The data tables kept beside this package's modules, written from a library's Unicode data
(``lookalikes.txt``, ``invisible.txt``): read as their lines without comments, written with
a header that says where they come from and how to write them again."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def table_lines(name: str) -> list[str]:
    """The lines of the table ``name`` that hold data (no blank or ``#`` comment lines)."""
    text = resources.files("redirection_bot.language").joinpath(name).read_text("utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def write_table(name: str, header: list[str], lines: list[str]) -> None:
    """Write the table ``name`` beside this module: ``header`` as comments, then ``lines``."""
    text = "\n".join([*(f"# {line}" for line in header), *lines]) + "\n"
    Path(__file__).with_name(name).write_text(text, encoding="utf-8")
