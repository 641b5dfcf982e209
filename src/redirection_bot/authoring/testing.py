"""Helpers for tests, for this project and for authors of connectors and actions.

``write_program`` writes a small valid program into a folder, with any file replaced or
added, so that a test can state only what it is about. ``make_runtime`` gives a runtime
over the in-memory store with the real (rasa-sdk) action runner.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Mapping
from pathlib import Path

from redirection_bot.diagnostics import Diagnostics
from redirection_bot.program.load import LoadedProgram, ProgramSources, check_program, load_program
from redirection_bot.store.memory import MemoryStore
from redirection_bot.turn.actions import RasaActionRunner, registered_action_names
from redirection_bot.turn.runtime import Runtime, RuntimeSettings

TODAY = dt.date(2026, 12, 7)

MINIMAL_PROGRAM = """\
program: test
version: "1"
default_locale: en
locales: [en]
entry: main
slots:
  mood:
    type: choice
    values:
      good: main.mood_good
      bad: main.mood_bad
commands:
  help:
    call: helpdesk
  back:
  repeat:
  restart:
  language:
  stop:
"""

MINIMAL_FLOWS = {
    "main": """\
flow: main
start: ask
nodes:
  ask:
    say: main.question
    input: mood
    next: bye
  bye:
    say: main.bye
    end: true
""",
    "helpdesk": """\
flow: helpdesk
start: offer
nodes:
  offer:
    say: helpdesk.offer
    handoff:
      reason: asked
    next: back
  back:
    return: true
""",
}

ENGINE_TEXTS = {
    "not_understood": "Sorry, I did not understand.",
    "invalid_input": "That does not fit.",
    "choice_unavailable": "That option is gone.",
    "offer_person": "Would you like a person?",
    "offer_help": "Would you like help?",
    "ended": "The end.",
    "choose_language": "Which language?",
    "action_failed": "Something went wrong.",
    "program_updated": "The program was updated.",
    "waiting_for_person": "Please wait for a person.",
    "handoff_ended": "Back with the program.",
    "cannot_go_back": "Nothing to go back to.",
    "leave_in_crisis": "To leave, type leave now.",
    "leave_confirm": "To leave and erase, type leave now; or answer to carry on.",
    "but_words": "but, though",
    "unanswered": "(not answered)",
    "too_long": "Too long.",
    "unreadable": "Unreadable.",
    "all_parts_done": "Every part is done.",
    "yes": "Yes",
    "no": "No",
}

MINIMAL_LOCALES = {
    "engine.en.yml": "en:\n" + "".join(f'  "{k}": "{v}"\n' for k, v in ENGINE_TEXTS.items()),
    "language.en.yml": 'en:\n  name: "English"\n',
    "commands.en.yml": "en:\n"
    + "".join(
        f'  {name}:\n    words: "{name}, /{name}"\n    label: "{name.title()}"\n'
        for name in ("help", "back", "repeat", "restart", "language", "stop")
    ),
    "main.en.yml": """\
en:
  question: "How are you?"
  mood_good: "Good"
  mood_bad: "Bad"
  bye: "Bye, you said %{mood}."
""",
    "helpdesk.en.yml": 'en:\n  offer: "A person will come."\n',
}


def write_program(
    root: Path,
    program: str | None = None,
    flows: Mapping[str, str | None] | None = None,
    locales: Mapping[str, str | None] | None = None,
    extra_files: Mapping[str, str] | None = None,
) -> ProgramSources:
    """Write the minimal program into ``root``, with files replaced (or removed, with None)."""
    dialogues, locale_dir = root / "dialogues", root / "locales"
    (dialogues / "flows").mkdir(parents=True, exist_ok=True)
    locale_dir.mkdir(parents=True, exist_ok=True)
    (dialogues / "program.yaml").write_text(_dedent(program or MINIMAL_PROGRAM), encoding="utf-8")
    for name, text in {**MINIMAL_FLOWS, **(flows or {})}.items():
        _write_or_remove(dialogues / "flows" / f"{name}.yaml", text)
    for name, text in {**MINIMAL_LOCALES, **(locales or {})}.items():
        _write_or_remove(locale_dir / name, text)
    for name, text in (extra_files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_dedent(text), encoding="utf-8")
    return ProgramSources(dialogues, locale_dir)


def _write_or_remove(path: Path, text: str | None) -> None:
    if text is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(_dedent(text), encoding="utf-8")


def _dedent(text: str) -> str:
    return textwrap.dedent(text)


def load(sources: ProgramSources, root: Path | None = None) -> LoadedProgram:
    """Load a program written by ``write_program``; raises AuthoringError if invalid."""
    return load_program(sources, registered_action_names(), TODAY, display_root=root)


def diagnose(sources: ProgramSources, root: Path | None = None) -> Diagnostics:
    """Every diagnostic for a program written by ``write_program``."""
    return check_program(sources, registered_action_names(), TODAY, display_root=root)[1]


def make_runtime(loaded: LoadedProgram, settings: RuntimeSettings | None = None) -> Runtime:
    """A runtime over an in-memory store, running actions in-process through rasa-sdk."""
    return Runtime(loaded, MemoryStore(), RasaActionRunner(loaded), settings)
