"""The ``graph`` command's views: conditions as the author wrote them, and each node's first
line of text in a chosen locale, escaped so that the picture shows it exactly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from redirection_bot.authoring.testing import MINIMAL_FLOWS, MINIMAL_LOCALES, write_program
from redirection_bot.cli import main

BRANCHING = """\
flow: main
start: ask
nodes:
  ask:
    say: main.question
    input: mood
    next: check
  check:
    if:
      - when: mood == "good" and not (mood != 'bad')
        next: bye
    else:
      next: bye
  bye:
    say: main.bye
    end: true
"""
QUESTION = 'How are you? Say "fine" or <b>#1;</b>\\nSecond line'


def graph(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    english = MINIMAL_LOCALES["main.en.yml"].replace(
        '"How are you?"', '"' + QUESTION.replace('"', '\\"') + '"'
    )
    sources = write_program(
        tmp_path, flows={**MINIMAL_FLOWS, "main": BRANCHING}, locales={"main.en.yml": english}
    )
    code = main(
        ["graph", *args, "--dialogues", str(sources.dialogues), "--locales", str(sources.locales)]
    )
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def mermaid_shown(label: str) -> str:
    """What Mermaid shows for a label's text (its entity codes read)."""
    codes = {"quot": '"', "lt": "<", "gt": ">", "35": "#"}
    return re.sub(r"#(\w+);", lambda m: codes.get(m.group(1), m.group(0)), label)


def test_mermaid_shows_conditions_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = graph(tmp_path, capsys, "main")
    assert code == 0
    edge = next(
        line for line in out.splitlines() if "main__check --" in line and "else" not in line
    )
    label = edge.split('"', 1)[1].rsplit('"', 1)[0]
    assert '"' not in label  # the label's own quotes are not ended early
    assert mermaid_shown(label) == "mood == \"good\" and not (mood != 'bad')"


def test_dot_shows_conditions_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _code, out, _err = graph(tmp_path, capsys, "main", "--format", "dot")
    assert '[label="mood == \\"good\\" and not (mood != \'bad\')"]' in out


def test_locale_shows_each_nodes_first_line_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = graph(tmp_path, capsys, "main", "--locale", "en")
    assert code == 0
    ask = next(line for line in out.splitlines() if line.strip().startswith("main__ask"))
    label = ask.split('"', 1)[1].rsplit('"', 1)[0]
    assert '"' not in label and "<b>" not in label
    assert mermaid_shown(label).endswith('How are you? Say "fine" or <b>#1;</b>')
    assert "Second line" not in out

    _code, dot, _err = graph(tmp_path, capsys, "main", "--locale", "en", "--format", "dot")
    assert '\\nHow are you? Say \\"fine\\" or <b>#1;</b>"' in dot


def test_an_unknown_locale_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = graph(tmp_path, capsys, "main", "--locale", "pt")
    assert code == 2 and "`pt` is not one of the program's locales (en)" in err
