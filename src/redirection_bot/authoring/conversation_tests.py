"""Conversation tests: clinicians' scripted conversations, checked against the program.

A test file lists conversations, each a list of steps: what the person does (``say``,
``choose``, ``command``, or ``come_back``: leave and come back in a new conversation with the
resume words the bot gave last) and what the bot should do (``bot`` says a text, offers choices,
sets a ``slot``, asks for a ``handoff``, ``end``s, is ``at`` a node). The first step that
does not hold is reported at its ``file:line``, with what the bot did instead.

A test may bring its own appointment book (``appointments:``, the configuration's section)
and a fixed time (``now:``, in UTC): it then runs on a runtime of its own, whose book reads
that time, so the times it shows are the same on every day it runs.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from redirection_bot.diagnostics import Diagnostics, Span
from redirection_bot.dialogue.model import CommandName, Node, Program, SlotType
from redirection_bot.engine import (
    ChoicePicked,
    CommandGiven,
    EngineKeys,
    Event,
    SessionState,
    Start,
    Text,
    Waiting,
    step,
)
from redirection_bot.handoff.appointments import AppointmentBook
from redirection_bot.language.i18n import display_path
from redirection_bot.language.suggest import did_you_mean
from redirection_bot.language.yaml_schema import SchemaReader
from redirection_bot.language.yaml_source import YMapping, YNode, YScalar, YSequence, read_yaml_file
from redirection_bot.operations.config import (
    AppointmentSettings,
    read_appointment_settings,
    utc_time_problem,
)
from redirection_bot.operations.partners import PARTNER_ID, Partner, PartnerSettings
from redirection_bot.program.load import LoadedProgram
from redirection_bot.program.render import Shown, ShownEnd, ShownHandoff, ShownMessage
from redirection_bot.store.memory import MemoryStore
from redirection_bot.store.resume import PHRASE_WORDS, PhraseCheck
from redirection_bot.turn.actions import RasaActionRunner
from redirection_bot.turn.runtime import Reply, Runtime, RuntimeSettings

PERSON_STEPS = ("say", "choose", "command", "come_back")
BOT_STEPS = ("bot", "handoff", "end", "slot", "at")
MODIFIERS = {"bot": ("choices", "labels", "contains"), "command": ("argument",)}
TEST_FIELDS = ("name", "locale", "partner", "helpline", "appointments", "now", "steps")
HELPLINE_VALUES = ("connected", "none")
"""A test's ``helpline``: played as if one were connected (the default), or with none, as
`serve` without a `handoff` section runs (the runtime tells ``helpline_connected: false``)."""


@dataclass(frozen=True, slots=True)
class ScriptStep:
    kind: str
    value: Any
    span: Span
    modifiers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConversationScript:
    name: str
    locale: str | None
    steps: tuple[ScriptStep, ...]
    span: Span
    locale_span: Span | None = None
    partner: str | None = None
    """The partner platform whose link the person followed (the door, docs/operators.md)."""
    appointments: AppointmentSettings | None = None
    """The test's own appointment book (slots as in the configuration), if it has one."""
    now: float | None = None
    """The time (seconds since the epoch) the test's appointment book reads, if fixed."""
    no_helpline: bool = False
    """Played with no helpline connected (``helpline: none``)."""


@dataclass(frozen=True, slots=True)
class ScriptResult:
    script: ConversationScript
    failure: str | None
    failure_span: Span | None
    visited: frozenset[str]
    picked: frozenset[str] = frozenset()
    """Choices the person took, as ``flow.node:choice``."""
    trace: tuple[str, ...] = ()
    """Every node passed through, in order (for which arm of an ``if`` was taken)."""
    locale: str = ""

    @property
    def passed(self) -> bool:
        return self.failure is None


def find_test_files(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")))
        else:
            found.append(path)
    return found


def load_scripts(path: Path, diagnostics: Diagnostics) -> list[ConversationScript]:
    """Read one test file; problems become diagnostics. A test with a problem is left out
    (and reported), so that the other tests of the file still run."""
    shown = display_path(path)
    reader = SchemaReader(diagnostics)
    top = reader.mapping(read_yaml_file(path, shown, diagnostics), "a conversation test file")
    if top is None:
        return []
    reader.fields(top, ("tests",), "a conversation test file", required=("tests",))
    scripts = []
    for item in reader.sequence(top.get("tests"), "`tests`") or ():
        errors_before = len(diagnostics.errors)
        script = _script(item, reader)
        if script is not None and len(diagnostics.errors) == errors_before:
            scripts.append(script)
    return scripts


def _script(node: YNode, reader: SchemaReader) -> ConversationScript | None:
    mapping = reader.mapping(node, "a test")
    if mapping is None:
        return None
    reader.fields(mapping, TEST_FIELDS, "a test", required=("name", "steps"))
    name = reader.text(mapping.get("name"), "the test name")
    locale_node = mapping.get("locale")
    locale = reader.text(locale_node, "the locale") if locale_node is not None else None
    now = _now(mapping.get("now"), reader)
    appointments = _appointments(mapping, reader)
    partner = _partner(mapping.get("partner"), reader)
    no_helpline = _helpline(mapping.get("helpline"), reader)
    steps = [
        step
        for item in reader.sequence(mapping.get("steps"), "`steps`") or ()
        if (step := _step(item, reader)) is not None
    ]
    if name is None:
        return None
    locale_span = locale_node.span if isinstance(locale_node, YScalar) else None
    return ConversationScript(
        name,
        locale,
        tuple(steps),
        mapping.span,
        locale_span,
        partner=partner,
        appointments=appointments,
        now=now,
        no_helpline=no_helpline,
    )


def _helpline(node: YNode | None, reader: SchemaReader) -> bool:
    """A test's ``helpline``: True when it is played with none connected (``none``)."""
    found = reader.scalar(node, "`helpline`") if node is not None else None
    if found is None:
        return False
    if found.text not in HELPLINE_VALUES:
        reader.error(found.value_span, f"`helpline` is `connected` or `none`, not `{found.text}`")
    return found.text == "none"


def _partner(node: YNode | None, reader: SchemaReader) -> str | None:
    """A test's ``partner``: the person arrives by a partner's link (``/?from=<partner>``)."""
    if node is None:
        return None
    found = reader.scalar(node, "the partner")
    if found is None:
        return None
    if not PARTNER_ID.match(found.text):
        reader.error(
            found.value_span,
            "a partner id is lower-case letters, digits and `_`, starting with a letter or "
            "digit, at most 32 characters",
        )
        return None
    return found.text


def tests_runtime(loaded: LoadedProgram, scripts: Iterable[ConversationScript]) -> Runtime:
    """A runtime to play ``scripts`` on: the in-memory store, actions in-process, and every
    partner the tests arrive from declared (as an operator declares theirs)."""
    partners = sorted({script.partner for script in scripts if script.partner is not None})
    return Runtime(
        loaded,
        MemoryStore(),
        RasaActionRunner(loaded),
        RuntimeSettings(assume_helpline=True),
        partners=PartnerSettings(platforms=tuple(Partner(name) for name in partners)),
    )


def _now(node: YNode | None, reader: SchemaReader) -> float | None:
    if node is None:
        return None
    text = reader.text(node, "`now`")
    if text is None:
        return None
    problem = utc_time_problem(text)
    if problem is not None:
        reader.error(node.span, f"`now` {problem}")
        return None
    return dt.datetime.fromisoformat(text).timestamp()


def _appointments(mapping: YMapping, reader: SchemaReader) -> AppointmentSettings | None:
    node = mapping.get("appointments")
    if node is None:
        return None
    if mapping.get("now") is None:
        reader.error(
            node.span,
            "a test with `appointments` needs `now` (a fixed time in UTC, like "
            "2030-03-04T12:00:00Z), so that the times it shows are the same every day it runs",
        )
    return read_appointment_settings(reader, node)


def _step(node: YNode, reader: SchemaReader) -> ScriptStep | None:
    mapping = reader.mapping(node, "a step")
    if mapping is None:
        return None
    kinds = [key.text for key, _value in mapping if key.text in PERSON_STEPS + BOT_STEPS]
    if not kinds:
        # A mistyped kind (`chose:`): say so at the word, with the kind meant.
        modifier_names = {name for names in MODIFIERS.values() for name in names}
        unknown = [key for key, _value in mapping if key.text not in modifier_names]
        where = unknown[0] if unknown else None
        word = where.text if where is not None else ""
        reader.error(
            where.span if where is not None else mapping.span,
            f"`{word}` is not a kind of step{did_you_mean(word, PERSON_STEPS + BOT_STEPS)}; "
            f"a step is one of: {', '.join(PERSON_STEPS + BOT_STEPS)}",
        )
        return None
    if len(kinds) > 1:
        reader.error(
            mapping.span,
            f"a step does one thing, but this one has {len(kinds)}: {', '.join(kinds)}; "
            "write each on its own line starting with `- `",
        )
        return None
    kind = kinds[0]
    reader.fields(mapping, (kind, *MODIFIERS.get(kind, ())), f"a `{kind}` step")
    value = _plain(mapping.get(kind))
    modifiers = {
        name: _plain(mapping.get(name)) for name in MODIFIERS.get(kind, ()) if mapping.get(name)
    }
    return ScriptStep(kind, value, mapping.span, modifiers)


def _plain(node: YNode | None) -> Any:
    """Test expectations as plain values, scalars kept as written."""
    if node is None:
        return None
    if isinstance(node, YScalar):
        return None if node.kind == "null" and not node.quoted else node.text
    if isinstance(node, YSequence):
        return [_plain(item) for item in node]
    assert isinstance(node, YMapping)
    return {key.text: _plain(value) for key, value in node}


class _Failure(Exception):
    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.message = message
        self.span = span


async def run_script(runtime: Runtime, script: ConversationScript) -> ScriptResult:
    """Play one conversation against the runtime; stop at the first step that does not hold."""
    program = runtime.loaded.program
    locale_problem = _locale_problem(program, script)
    if locale_problem is not None:
        return ScriptResult(script, locale_problem, script.locale_span or script.span, frozenset())
    runtime = _runtime_for(runtime, script)
    session = f"test-{uuid.uuid4().hex}"
    visited: list[str] = []
    picked: set[str] = set()
    reply = await runtime.handle(session, Start(script.locale, script.partner))
    visited.extend(reply.trace)
    pending: list[Shown] = list(reply.shown)
    offered = _offered(reply.shown)
    words: str | None = None
    try:
        for script_step in script.steps:
            if script_step.kind in PERSON_STEPS:
                if script_step.kind == "choose":
                    _check_offered(script_step, offered)
                if script_step.kind == "come_back":
                    session = await _leave_and_start_again(runtime, session, script, words)
                    reply = await runtime.handle(session, Start(script.locale))
                before = reply.state
                event = _event(script_step, words)
                reply = await runtime.handle(session, event)
                words = _resume_words(reply.shown, await runtime.phrase_check()) or words
                visited.extend(reply.trace)
                picked.update(_choice_taken(program, before, event, reply.trace))
                pending = list(reply.shown)
                offered = _offered(reply.shown)
                if script_step.kind == "choose" and _said_unavailable(reply.shown):
                    raise _Failure(
                        f"the choice `{script_step.value}` is not available here "
                        f"(the bot said `{EngineKeys.CHOICE_UNAVAILABLE}`)",
                        script_step.span,
                    )
            else:
                pending = _expect(program, script_step, pending, reply)
    except _Failure as failure:
        return ScriptResult(
            script,
            failure.message,
            failure.span,
            frozenset(visited),
            frozenset(picked),
            tuple(visited),
            _locale_of(program, script),
        )
    finally:
        await runtime.erase(session)
    return ScriptResult(
        script,
        None,
        None,
        frozenset(visited),
        frozenset(picked),
        tuple(visited),
        _locale_of(program, script),
    )


def _runtime_for(runtime: Runtime, script: ConversationScript) -> Runtime:
    """The runtime a test plays on: the shared one, or one of its own when the test brings an
    appointment book or a time (a fresh in-memory store, and a book that reads the test's
    ``now``) or is played with no helpline (``helpline: none``)."""
    if script.appointments is None and script.now is None and not script.no_helpline:
        return runtime
    store = MemoryStore()
    now = script.now if script.now is not None else dt.datetime.now(dt.UTC).timestamp()
    book = AppointmentBook(script.appointments or AppointmentSettings(), store, lambda: now)
    loaded = runtime.loaded
    settings = replace(runtime.settings, assume_helpline=not script.no_helpline)
    return Runtime(
        loaded,
        store,
        RasaActionRunner(loaded),
        settings,
        appointments=book,
        partners=runtime.partners,
    )


def _locale_of(program: Program, script: ConversationScript) -> str:
    return script.locale if script.locale is not None else program.default_locale


def _locale_problem(program: Program, script: ConversationScript) -> str | None:
    """Why a test's ``locale`` cannot be run (it would silently run in another language)."""
    if script.locale is None or script.locale in program.locales:
        return None
    same_but_case = [locale for locale in program.locales if locale == script.locale.lower()]
    hint = (
        f" (did you mean `{same_but_case[0]}`?)"
        if same_but_case
        else did_you_mean(script.locale, program.locales)
    )
    return (
        f"`{script.locale}` is not a locale of this program{hint}; "
        f"its locales are: {', '.join(program.locales)}"
    )


def _offered(shown: Iterable[Shown]) -> tuple[str, ...]:
    """The choices the bot offers after a turn: those of its last message with choices."""
    offered: tuple[str, ...] = ()
    for item in shown:
        if isinstance(item, ShownMessage) and item.choices:
            offered = tuple(choice.id for choice in item.choices)
    return offered


def _check_offered(step: ScriptStep, offered: tuple[str, ...]) -> None:
    if str(step.value) in offered:
        return
    if not offered:
        raise _Failure(f"cannot choose `{step.value}`: the bot offers no choices here", step.span)
    raise _Failure(
        f"cannot choose `{step.value}`: the bot offers [{', '.join(offered)}]"
        f"{did_you_mean(str(step.value), offered)}",
        step.span,
    )


def _said_unavailable(shown: Iterable[Shown]) -> bool:
    return any(
        isinstance(item, ShownMessage) and item.key == EngineKeys.CHOICE_UNAVAILABLE
        for item in shown
    )


CHOSEN_SLOT_TYPES = (SlotType.CHOICE, SlotType.LIST, SlotType.BOOLEAN)


def coverable_choices(program: Program, node: Node) -> list[str]:
    """The choices of a node that coverage counts: its own, and the values offered for a
    choice, list or yes/no answer (not numbers, which are a range)."""
    found = [choice.id for choice in node.choices]
    spec = node.input
    declared = program.slots.get(spec.slot) if spec is not None else None
    if spec is not None and declared is not None and declared.type in CHOSEN_SLOT_TYPES:
        found = [*spec.offered(declared), *found]
    return found


def _choice_taken(
    program: Program, before: SessionState | None, event: Event, trace: tuple[str, ...]
) -> list[str]:
    """Which choice of the waiting node an event took, if any (``flow.node:choice``).

    A pressed button names its choice. Typed words: the choice the engine (it is pure) says
    they picked, an answer only typed too; else the choice whose turn, pressed, is the same
    as the typed words' turn, provided the runtime did run that turn.
    """
    if before is None or before.waiting is not Waiting.ANSWER or before.at is None:
        return []
    node = (
        program.flows[before.at.flow].nodes.get(before.at.node)
        if before.at.flow in program.flows
        else None
    )
    if node is None:
        return []
    choices = coverable_choices(program, node)
    where = f"{node.qualified_id}:"
    if isinstance(event, ChoicePicked):
        return [where + event.choice] if event.choice in choices else []
    if not isinstance(event, Text):
        return []
    typed = step(program, before, event)
    if trace[: len(typed.trace)] != typed.trace:
        return []
    if typed.picked is not None and typed.picked.id in choices:
        return [where + typed.picked.id]  # what the words picked, answers only typed too
    for choice in choices:
        if step(program, before, ChoicePicked(choice)) == typed:
            return [where + choice]
    return []


async def _leave_and_start_again(
    runtime: Runtime, session: str, script: ConversationScript, words: str | None
) -> str:
    """``come_back``: the person leaves (their copy stays under the words) and opens a new
    conversation, where they will type the words."""
    if words is None:
        raise _Failure("`come_back` needs resume words given earlier in the test", script.span)
    await runtime.handle(session, CommandGiven(CommandName.STOP))
    await runtime.erase(session)
    return f"test-{uuid.uuid4().hex}"


def _resume_words(shown: Iterable[Shown], phrases: PhraseCheck) -> str | None:
    """The resume words in a turn's messages, as the person would copy them."""
    for item in shown:
        if not isinstance(item, ShownMessage):
            continue
        tokens = [token.strip(".,:;“”\"'") for token in item.text.split()]
        for start in range(len(tokens) - PHRASE_WORDS + 1):
            candidate = " ".join(tokens[start : start + PHRASE_WORDS])
            attempt = phrases.read(candidate)
            if attempt is not None and attempt.checked:
                return candidate
    return None


def _event(step: ScriptStep, words: str | None = None) -> Event:
    if step.kind == "come_back":
        return Text(words or "")
    if step.kind == "say":
        return Text(str(step.value or ""))
    if step.kind == "choose":
        return ChoicePicked(str(step.value))
    try:
        command = CommandName(str(step.value))
    except ValueError as error:
        raise _Failure(
            f"`{step.value}` is not a command{did_you_mean(str(step.value), list(CommandName))}",
            step.span,
        ) from error
    argument = step.modifiers.get("argument")
    return CommandGiven(command, str(argument) if argument is not None else None)


def _expect(program: Program, step: ScriptStep, pending: list[Shown], reply: Reply) -> list[Shown]:
    """Check one bot step against what is left of the last turn; return what remains after it."""
    if step.kind == "bot":
        for index, item in enumerate(pending):
            if isinstance(item, ShownMessage) and item.key == step.value:
                _check_message(item, step)
                return pending[index + 1 :]
        raise _Failure(
            f"expected the bot to say `{step.value}`, but it said: {_said(pending)}", step.span
        )
    if step.kind == "handoff":
        for index, item in enumerate(pending):
            if isinstance(item, ShownHandoff) and (step.value in (None, item.reason)):
                return pending[index + 1 :]
        raise _Failure(
            f"expected a handoff ({step.value}), but the bot did: {_said(pending)}", step.span
        )
    if step.kind == "end":
        for index, item in enumerate(pending):
            if isinstance(item, ShownEnd):
                return pending[index + 1 :]
        raise _Failure(
            f"expected the conversation to end, but the bot did: {_said(pending)}", step.span
        )
    state = reply.state
    if step.kind == "at":
        where = str(state.at) if state is not None and state.at is not None else "nowhere"
        if where != step.value:
            raise _Failure(
                f"expected to be at `{step.value}`, but the conversation is at `{where}`", step.span
            )
        return pending
    expected = step.value if isinstance(step.value, dict) else {}
    for name, value in expected.items():
        actual = state.slots.get(name) if state is not None else None
        if _slot_text(actual) != _slot_text(value):
            raise _Failure(
                f"expected `{name}` to be {_slot_text(value)}, but it is {_slot_text(actual)}",
                step.span,
            )
    return pending


def _check_message(item: ShownMessage, step: ScriptStep) -> None:
    choices = step.modifiers.get("choices")
    if choices is not None:
        offered = [choice.id for choice in item.choices]
        if offered != list(choices):
            raise _Failure(
                f"`{item.key}` offered the choices [{', '.join(offered)}], not [{', '.join(map(str, choices))}]",
                step.span,
            )
    labels = step.modifiers.get("labels")
    if labels is not None:
        shown = [choice.label for choice in item.choices]
        if shown != [str(label) for label in labels]:
            raise _Failure(
                f"`{item.key}` offered the buttons {shown}, not {list(labels)}", step.span
            )
    contains = step.modifiers.get("contains")
    if contains is not None and str(contains) not in item.text:
        raise _Failure(
            f'`{item.key}` does not contain "{contains}"; it reads: {item.text!r}', step.span
        )


def _said(pending: list[Shown]) -> str:
    if not pending:
        return "nothing more"
    parts = []
    for item in pending:
        if isinstance(item, ShownMessage):
            parts.append(f"`{item.key}`")
        elif isinstance(item, ShownHandoff):
            parts.append(f"handoff ({item.reason})")
        else:
            parts.append("end")
    return ", ".join(parts)


def _slot_text(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)
