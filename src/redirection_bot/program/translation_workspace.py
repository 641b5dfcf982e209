"""What the translation commands work on: the program's texts and records, even when the
program has errors elsewhere (a half-translated locale is a translator's normal state)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from redirection_bot.diagnostics import Diagnostics
from redirection_bot.dialogue.model import Program
from redirection_bot.errors import AuthoringError
from redirection_bot.language.i18n import Catalog, load_locale_files
from redirection_bot.program.load import ProgramSources, check_program
from redirection_bot.translation.records import LocaleRecords, load_translation_records
from redirection_bot.translation.status import TranslationRow, translation_rows


@dataclass(frozen=True, slots=True)
class TranslationWorkspace:
    program: Program
    catalog: Catalog
    records: dict[str, LocaleRecords]
    locales: Path
    diagnostics: Diagnostics
    """Everything the validator found (the translation commands report only what stops them)."""

    @property
    def source_locale(self) -> str:
        return self.program.default_locale

    def rows(self, locale: str) -> list[TranslationRow]:
        return translation_rows(self.catalog, self.records, locale, self.source_locale)

    def locale_file_errors(self) -> Diagnostics:
        """Problems in the locale files themselves (what an import must not write over)."""
        found = Diagnostics()
        load_locale_files(self.locales, found)
        load_translation_records(self.locales, found)
        return found


def open_workspace(
    sources: ProgramSources, registered_actions: Collection[str] | None, today: dt.date
) -> TranslationWorkspace:
    """Load the program's texts; raises AuthoringError when the program file itself is unreadable."""
    loaded, diagnostics = check_program(sources, registered_actions, today)
    if loaded is None:
        raise AuthoringError(diagnostics.errors)
    records = load_translation_records(sources.locales, Diagnostics())
    return TranslationWorkspace(
        loaded.program, loaded.catalog, records, sources.locales, diagnostics
    )


def text_places(program: Program) -> dict[str, list[str]]:
    """Where each text is used, as a translator can look it up: ``flow.node``, ``slot x``."""
    places: dict[str, list[str]] = {}

    def add(key: str | None, place: str) -> None:
        if key is not None and place not in places.setdefault(key, []):
            places[key].append(place)

    for flow in program.flows.values():
        add(flow.title, f"title of {flow.id}")
        for node in flow.nodes.values():
            for message in node.say:
                add(message.key, node.qualified_id)
            add(node.reask.key if node.reask else None, node.qualified_id)
            for choice in node.choices:
                add(choice.label, f"{node.qualified_id} (button {choice.id})")
                add(choice.words, f"{node.qualified_id} (words for {choice.id})")
    for slot in program.slots.values():
        for value, label in slot.labels.items():
            add(label, f"slot {slot.name} = {value}")
    for command in program.commands.values():
        add(command.name.label_key, f"command {command.name.value} (button)")
        add(command.name.words_key, f"command {command.name.value} (words, comma-separated)")
    return places
