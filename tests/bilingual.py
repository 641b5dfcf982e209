"""A small program in English and Spanish (the testing module's minimal one, translated)."""

from __future__ import annotations

from pathlib import Path

from redirection_bot.authoring.testing import MINIMAL_LOCALES, MINIMAL_PROGRAM, write_program
from redirection_bot.program.load import ProgramSources

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


def write_bilingual(root: Path) -> ProgramSources:
    return write_program(
        root,
        program=MINIMAL_PROGRAM.replace("locales: [en]", "locales: [en, es]"),
        locales=SPANISH,
    )
