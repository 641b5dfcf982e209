"""A small program for the Matrix tests: one module with a choice, a number, the person's own
words and their plan, in English and Finnish, with the Matrix connector's shipped texts.

The tests use it rather than the shipped program so that they check the channel, not the
clinicians' current wording.
"""

from __future__ import annotations

from pathlib import Path

from redirection_bot.authoring.testing import ENGINE_TEXTS, load, write_program
from redirection_bot.program.load import LoadedProgram, ProgramSources
from tests.helpers import REPOSITORY

PROGRAM = """\
program: matrixtest
version: "1"
default_locale: en
locales: [en, fi]
entry: module
home: module
interface_texts: [matrix]
slots:
  stage:
    type: choice
    values:
      cut_down: module.stage_cut_down
      stop: module.stage_stop
  importance:
    type: integer
    min: 0
    max: 10
  reasons:
    type: text
    max_length: 300
actions:
  action_plan_summary:
    texts: plan
commands:
  help:
    call: helpdesk
  back:
  repeat:
  restart:
  language:
  stop:
"""

FLOWS = {
    "main": None,
    "module": """\
flow: module
start: hello
nodes:
  hello:
    say: module.hello
    next: stage
  stage:
    say: module.stage
    input: stage
    next: importance
  importance:
    say: module.importance
    input: importance
    reask: module.importance_reask
    next: reasons
  reasons:
    say: module.reasons
    input: reasons
    next: plan
  plan:
    action: action_plan_summary
    next: done
  done:
    say: module.done
    end: true
""",
}

_FINNISH_ENGINE = {key: f"[fi] {text}" for key, text in ENGINE_TEXTS.items()}

LOCALES = {
    "main.en.yml": None,
    "module.en.yml": """\
en:
  hello: "Hello, and welcome."
  stage: "Where are you now?"
  stage_cut_down: "I want to cut down"
  stage_stop: "I want to stop"
  importance: "From 0 to 10, how important is stopping to you?"
  importance_reask: "Please give a number from 0 to 10."
  reasons: "In a few words, why does it matter to you?"
  done: "That is the end of this module."
""",
    "module.fi.yml": """\
fi:
  hello: "Hei, tervetuloa."
  stage: "Missä olet nyt?"
  stage_cut_down: "Haluan vähentää"
  stage_stop: "Haluan lopettaa"
  importance: "Asteikolla 0–10, kuinka tärkeää lopettaminen on sinulle?"
  importance_reask: "Anna numero väliltä 0–10."
  reasons: "Muutamalla sanalla: miksi se on sinulle tärkeää?"
  done: "Tämä moduuli päättyy tähän."
""",
    "plan.en.yml": """\
en:
  title: "My plan"
  empty: "Your plan is empty."
  stage: "Where I started: %{stage}"
  importance: "How important: %{importance}"
  reasons: "My reasons: %{reasons}"
""",
    "plan.fi.yml": """\
fi:
  title: "Suunnitelmani"
  empty: "Suunnitelmasi on tyhjä."
  stage: "Lähtökohta: %{stage}"
  importance: "Kuinka tärkeää: %{importance}"
  reasons: "Syyni: %{reasons}"
""",
    "helpdesk.fi.yml": 'fi:\n  offer: "Ihminen tulee."\n',
    "engine.fi.yml": "fi:\n" + "".join(f'  "{k}": "{v}"\n' for k, v in _FINNISH_ENGINE.items()),
    "language.fi.yml": 'fi:\n  name: "suomi"\n',
    "commands.fi.yml": "fi:\n"
    + "".join(
        f'  {name}:\n    words: "{word}, /{name}"\n    label: "{word.title()}"\n'
        for name, word in (
            ("help", "apua"),
            ("back", "takaisin"),
            ("repeat", "toista"),
            ("restart", "alusta"),
            ("language", "kieli"),
            ("stop", "lopeta"),
        )
    ),
    **{
        f"matrix.{locale}.yml": (REPOSITORY / "locales" / f"matrix.{locale}.yml").read_text(
            encoding="utf-8"
        )
        for locale in ("en", "fi")
    },
}


def write_matrix_program(root: Path) -> ProgramSources:
    return write_program(root, PROGRAM, FLOWS, LOCALES)


def load_matrix_program(root: Path) -> LoadedProgram:
    return load(write_matrix_program(root), root)
