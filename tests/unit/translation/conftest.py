"""A small program in English and Spanish, written to a temporary folder, and the i18n command."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from redirection_bot.cli import main
from redirection_bot.dialogue.load import ProgramSources
from redirection_bot.testing import MINIMAL_LOCALES, MINIMAL_PROGRAM, write_program

SPANISH = {
    "main.es.yml": """\
es:
  question: "¿Cómo estás?"
  mood_good: "Bien"
  mood_bad: "Mal"
  bye: "Adiós, dijiste %{mood}."
""",
    "helpdesk.es.yml": 'es:\n  offer: "Vendrá una persona."\n',
    **{
        name.replace(".en.", ".es."): text.replace("en:", "es:", 1)
        for name, text in MINIMAL_LOCALES.items()
        if name.split(".")[0] in ("engine", "language", "commands")
    },
}

I18n = Callable[..., tuple[int, str, str]]


@pytest.fixture
def bilingual(tmp_path: Path) -> ProgramSources:
    return write_program(
        tmp_path,
        program=MINIMAL_PROGRAM.replace("locales: [en]", "locales: [en, es]"),
        locales=SPANISH,
    )


@pytest.fixture
def i18n(
    bilingual: ProgramSources, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> I18n:
    """Run ``redirection-bot i18n ACTION ...`` on the bilingual program: (status, out, err)."""
    monkeypatch.chdir(bilingual.dialogues.parent)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["i18n", *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
