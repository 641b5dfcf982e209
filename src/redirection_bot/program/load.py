"""Loading a program: read every file, check everything, and either return a program or
raise one ``AuthoringError`` that lists every problem at ``file:line:column``."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from redirection_bot.diagnostics import Diagnostic, Diagnostics, Span
from redirection_bot.dialogue.lexicon import Lexicon, build_lexicon
from redirection_bot.dialogue.model import Flow, Program, SlotDecl, SlotType
from redirection_bot.errors import AuthoringError
from redirection_bot.language.i18n import (
    Catalog,
    FallbackPolicy,
    display_path,
    load_locale_files,
    placeholders,
)
from redirection_bot.language.yaml_source import read_yaml_file, report_unreadable_entries
from redirection_bot.safety.model import shipped_model
from redirection_bot.safety.rules import LocaleRules, load_rules_folder
from redirection_bot.safety.screen import Screener
from redirection_bot.services import ServicesDirectory, load_services

PROGRAM_FILE = "program.yaml"
FLOWS_FOLDER = "flows"
SERVICES_FILE = "services.yaml"
SAFETY_FOLDER = "safety"


@dataclass(frozen=True, slots=True)
class ProgramSources:
    """Where a program's files are."""

    dialogues: Path
    locales: Path

    def flow_files(self) -> list[Path]:
        folder = self.dialogues / FLOWS_FOLDER
        return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


@dataclass(frozen=True, slots=True)
class LoadedProgram:
    """A valid program with its texts and services, and the warnings found on the way."""

    program: Program
    catalog: Catalog
    services: ServicesDirectory
    sources: ProgramSources
    warnings: tuple[Diagnostic, ...] = field(default=())
    screener: Screener = field(default_factory=Screener)
    """Risk screening with the rules of every locale (``dialogues/safety/``)."""


def load_program(
    sources: ProgramSources,
    registered_actions: Collection[str] | None,
    today: dt.date,
    display_root: Path | None = None,
) -> LoadedProgram:
    """Load and validate; raises AuthoringError (with every diagnostic) if anything is wrong."""
    loaded, diagnostics = check_program(sources, registered_actions, today, display_root)
    if loaded is None or diagnostics.has_errors():
        raise AuthoringError(diagnostics.items)
    return loaded


def check_program(
    sources: ProgramSources,
    registered_actions: Collection[str] | None,
    today: dt.date,
    display_root: Path | None = None,
) -> tuple[LoadedProgram | None, Diagnostics]:
    """Load and validate, returning what could be loaded and every diagnostic."""
    with _cycle_collection_paused():
        return _check_program(sources, registered_actions, today, display_root)


@contextlib.contextmanager
def _cycle_collection_paused() -> Iterator[None]:
    """Loading makes hundreds of thousands of objects, most of which live on. Python's cycle
    collector, started again and again as they pile up, walks them all each time: a
    10,000-node program loads in about 1.0 s without it, 1.8 s with it (bench/engine.py).
    Whatever cyclic garbage loading leaves is collected when the collector runs again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_program(
    sources: ProgramSources,
    registered_actions: Collection[str] | None,
    today: dt.date,
    display_root: Path | None,
) -> tuple[LoadedProgram | None, Diagnostics]:
    # The readers and checks are loaded here, not with the module: a ``serve`` that reads
    # back the program it kept (``kept``) never needs them, nor the memory they take.
    from redirection_bot.dialogue.parse import ProgramParser  # noqa: PLC0415
    from redirection_bot.program.checks import TextUse, run_checks  # noqa: PLC0415
    from redirection_bot.translation.records import load_translation_records  # noqa: PLC0415

    diagnostics = Diagnostics()
    program_path = sources.dialogues / PROGRAM_FILE
    shown = display_path(program_path, display_root)
    if not program_path.is_file():
        diagnostics.error(Span(shown, 1, 1), "there is no program file here")
        return None, diagnostics
    header = ProgramParser(diagnostics).parse(
        read_yaml_file(program_path, shown, diagnostics), shown
    )
    flows = _read_flows(sources, header.slots if header else None, diagnostics, display_root)
    entries = load_locale_files(sources.locales, diagnostics, display_root)
    records = load_translation_records(sources.locales, diagnostics, display_root)
    services_path = sources.dialogues / SERVICES_FILE
    services = (
        load_services(services_path, display_path(services_path, display_root), today, diagnostics)
        if services_path.is_file()
        else ServicesDirectory(())
    )
    if header is None:
        return None, diagnostics
    policy = (
        FallbackPolicy.DEFAULT_LOCALE
        if header.settings.missing_translation == "use_default_locale"
        else FallbackPolicy.NEVER
    )
    catalog = Catalog(entries, header.default_locale, policy)
    services.register_texts(catalog)
    screening_rules = load_rules_folder(
        sources.dialogues / SAFETY_FOLDER,
        header.locales,
        [route.category for route in header.safety],
        diagnostics,
        display_root,
    )
    program = replace(header, flows=flows)
    _check_answer_slots(program, screening_rules.values(), diagnostics)
    service_uses = [TextUse(key, span) for key, span in services.text_keys()]
    checked = Diagnostics()
    run_checks(
        program,
        catalog,
        registered_actions,
        checked,
        extra_text_uses=service_uses,
        translation_records=records,
    )
    if diagnostics.unreadable:
        _hide_follow_on(diagnostics, checked)
        return None, diagnostics
    diagnostics.extend(checked)
    program = replace(program, lexicon=_lexicon(program, catalog))
    loaded = LoadedProgram(
        program,
        catalog,
        services,
        sources,
        tuple(diagnostics.warnings),
        Screener(screening_rules, shipped_model()),
    )
    return loaded, diagnostics


def _check_answer_slots(
    program: Program, rules: Iterable[LocaleRules], diagnostics: Diagnostics
) -> None:
    """Each slot a rules file's ``check_in_answers`` names is one a question fills, and each
    flow its ``except_in_flows`` names is one of the program's."""
    asked = {node.input.slot for node in program.all_nodes() if node.input is not None}
    for locale_rules in rules:
        for slot, span in locale_rules.answer_slots.items():
            if slot not in asked:
                known = ", ".join(f"`{name}`" for name in sorted(asked))
                diagnostics.error(
                    span,
                    f"`check_in_answers` names `{slot}`, which no question of the program "
                    f"fills with the person's answer (those that do: {known})",
                )
        for flow, span in locale_rules.except_flows.items():
            if flow not in program.flows:
                known = ", ".join(f"`{name}`" for name in sorted(program.flows))
                diagnostics.error(
                    span,
                    f"`except_in_flows` names `{flow}`, which is not a flow of the program "
                    f"(its flows: {known})",
                )


def _hide_follow_on(diagnostics: Diagnostics, checked: Diagnostics) -> None:
    """Root cause first: with a file unread, checks across files find what is in it missing
    (texts "missing in es", unknown flows, texts "never used"). Report only how many, once."""
    hidden = len(checked.items)
    if not hidden:
        return
    first = min(diagnostics.unreadable)
    others = len(diagnostics.unreadable) - 1
    which = "this file" if not others else f"this file and {others} other(s) that cannot be read"
    diagnostics.error(
        first,
        f"{hidden} more problem(s) found across the program are hidden until {which} can be "
        "read; many of them may come from this one",
    )


def _read_flows(
    sources: ProgramSources,
    slots: Mapping[str, SlotDecl] | None,
    diagnostics: Diagnostics,
    display_root: Path | None,
) -> dict[str, Flow]:
    from redirection_bot.dialogue.parse import FlowParser  # noqa: PLC0415

    flows: dict[str, Flow] = {}
    parser = FlowParser(diagnostics, slots)
    files = sources.flow_files()
    report_unreadable_entries(
        sources.dialogues / FLOWS_FOLDER,
        diagnostics,
        lambda path: display_path(path, display_root),
    )
    if not files:
        diagnostics.error(
            Span(display_path(sources.dialogues / FLOWS_FOLDER, display_root), 1, 1),
            "there are no flow files (`flows/*.yaml`)",
        )
    for path in files:
        shown = display_path(path, display_root)
        unreadable_before = len(diagnostics.unreadable)
        root = read_yaml_file(path, shown, diagnostics)
        if len(diagnostics.unreadable) > unreadable_before:
            continue  # said once where it cannot be read; not also "empty"
        flow = parser.parse_flow(root, shown)
        if flow is None:
            continue
        earlier = flows.get(flow.id)
        if earlier is not None:
            diagnostics.error(
                flow.span, f"the flow id `{flow.id}` is already used by {earlier.span.path}"
            )
            continue
        flows[flow.id] = flow
    return flows


def _lexicon(program: Program, catalog: Catalog) -> Lexicon:
    from redirection_bot.program.checks import text_uses, typed_word_uses  # noqa: PLC0415

    texts: dict[str, dict[str, str]] = {}
    all_keys = {use.key for use in text_uses(program)}
    all_keys |= {use.key for use in typed_word_uses(program, catalog)}
    for locale in program.locales:
        texts[locale] = {
            key: catalog.text(key, locale) for key in all_keys if catalog.can_show(key, locale)
        }
    label_keys = [c.label for n in program.all_nodes() for c in n.choices]
    label_keys += [
        label
        for s in program.slots.values()
        if s.type in (SlotType.CHOICE, SlotType.LIST)
        for label in s.labels.values()
    ]
    label_keys += ["engine.yes", "engine.no", "language.name"]
    word_keys = [c.words for n in program.all_nodes() for c in n.choices if c.words is not None]
    word_keys += [words for s in program.slots.values() for words in s.words.values()]
    word_keys += [s.heard for s in program.slots.values() if s.heard is not None]
    commands = {name: name.words_key for name in program.commands}
    return build_lexicon(texts, _placeholders(program, catalog), label_keys, word_keys, commands)


def _placeholders(program: Program, catalog: Catalog) -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    for entry in catalog.entries(program.default_locale):
        names = placeholders(entry.text)[0]
        if names:
            found[entry.key] = names
    return found
