"""Conversation tests: clinicians' scripted conversations, checked against the program.

A test file lists conversations, each a list of steps: what the person does (``say``,
``choose``, ``command``) and what the bot should do (``bot`` says a text, offers choices,
sets a ``slot``, asks for a ``handoff``, ``end``s, is ``at`` a node). The first step that
does not hold is reported at its ``file:line``, with what the bot did instead.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redirection_bot.diagnostics import Diagnostics, Span
from redirection_bot.dialogue.model import CommandName, Node, Program, SlotType
from redirection_bot.engine import (
    ChoicePicked,
    CommandGiven,
    Event,
    SessionState,
    Start,
    Text,
    Waiting,
    step,
)
from redirection_bot.i18n import display_path
from redirection_bot.render import Shown, ShownEnd, ShownHandoff, ShownMessage
from redirection_bot.runtime import Reply, Runtime
from redirection_bot.suggest import did_you_mean
from redirection_bot.yaml_schema import SchemaReader
from redirection_bot.yaml_source import YMapping, YNode, YScalar, YSequence, read_yaml_file

PERSON_STEPS = ("say", "choose", "command")
BOT_STEPS = ("bot", "handoff", "end", "slot", "at")
MODIFIERS = {"bot": ("choices", "contains"), "command": ("argument",)}


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


@dataclass(frozen=True, slots=True)
class ScriptResult:
    script: ConversationScript
    failure: str | None
    failure_span: Span | None
    visited: frozenset[str]
    picked: frozenset[str] = frozenset()
    """Choices the person took, as ``flow.node:choice``."""

    @property
    def passed(self) -> bool:
        return self.failure is None


@dataclass(frozen=True, slots=True)
class FlowCoverage:
    """How much of one flow the conversation tests went through."""

    flow: str
    visited: int
    total: int
    missing: tuple[str, ...]
    """Nodes no test passed through."""
    choices_picked: int = 0
    choices_total: int = 0
    missing_choices: tuple[str, ...] = ()
    """Choices no test took, as ``node:choice``."""

    @property
    def percent(self) -> float:
        return 100.0 * self.visited / self.total if self.total else 100.0

    @property
    def choices_percent(self) -> float:
        return 100.0 * self.choices_picked / self.choices_total if self.choices_total else 100.0


def find_test_files(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")))
        else:
            found.append(path)
    return found


def load_scripts(path: Path, diagnostics: Diagnostics) -> list[ConversationScript]:
    """Read one test file; problems become diagnostics."""
    shown = display_path(path)
    reader = SchemaReader(diagnostics)
    top = reader.mapping(read_yaml_file(path, shown, diagnostics), "a conversation test file")
    if top is None:
        return []
    reader.fields(top, ("tests",), "a conversation test file", required=("tests",))
    scripts = []
    for item in reader.sequence(top.get("tests"), "`tests`") or ():
        script = _script(item, reader)
        if script is not None:
            scripts.append(script)
    return scripts


def _script(node: YNode, reader: SchemaReader) -> ConversationScript | None:
    mapping = reader.mapping(node, "a test")
    if mapping is None:
        return None
    reader.fields(mapping, ("name", "locale", "steps"), "a test", required=("name", "steps"))
    name = reader.text(mapping.get("name"), "the test name")
    locale = reader.text(mapping.get("locale"), "the locale") if mapping.get("locale") else None
    steps = [
        step
        for item in reader.sequence(mapping.get("steps"), "`steps`") or ()
        if (step := _step(item, reader)) is not None
    ]
    if name is None:
        return None
    return ConversationScript(name, locale, tuple(steps), mapping.span)


def _step(node: YNode, reader: SchemaReader) -> ScriptStep | None:
    mapping = reader.mapping(node, "a step")
    if mapping is None:
        return None
    kinds = [key.text for key, _value in mapping if key.text in PERSON_STEPS + BOT_STEPS]
    if len(kinds) != 1:
        reader.error(
            mapping.span,
            f"a step is one of: {', '.join(PERSON_STEPS + BOT_STEPS)} (this one has {len(kinds)})",
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
    session = f"test-{uuid.uuid4().hex}"
    visited: set[str] = set()
    picked: set[str] = set()
    reply = await runtime.handle(session, Start(script.locale))
    visited.update(reply.trace)
    pending: list[Shown] = list(reply.shown)
    try:
        for script_step in script.steps:
            if script_step.kind in PERSON_STEPS:
                before = reply.state
                event = _event(script_step)
                reply = await runtime.handle(session, event)
                visited.update(reply.trace)
                picked.update(_choice_taken(runtime.loaded.program, before, event, reply.trace))
                pending = list(reply.shown)
            else:
                pending = _expect(runtime.loaded.program, script_step, pending, reply)
    except _Failure as failure:
        return ScriptResult(
            script, failure.message, failure.span, frozenset(visited), frozenset(picked)
        )
    finally:
        await runtime.erase(session)
    return ScriptResult(script, None, None, frozenset(visited), frozenset(picked))


def coverable_choices(program: Program, node: Node) -> list[str]:
    """The choices of a node that coverage counts: its own, and the values offered for a
    choice, list or yes/no answer (not numbers, which are a range)."""
    found = [choice.id for choice in node.choices]
    declared = program.slots.get(node.input.slot) if node.input is not None else None
    if declared is not None and declared.type in (SlotType.CHOICE, SlotType.LIST, SlotType.BOOLEAN):
        found = [*declared.quick_reply_values(), *found]
    return found


def _choice_taken(
    program: Program, before: SessionState | None, event: Event, trace: tuple[str, ...]
) -> list[str]:
    """Which choice of the waiting node an event took, if any (``flow.node:choice``).

    A pressed button names its choice. For typed words, the engine is asked (it is pure)
    what each choice would have done; the choice whose turn is the same as the typed
    words' turn is the one they matched, provided the runtime did run that turn.
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
    for choice in choices:
        if step(program, before, ChoicePicked(choice)) == typed:
            return [where + choice]
    return []


def _event(step: ScriptStep) -> Event:
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


def node_coverage(program: Program, results: Iterable[ScriptResult]) -> list[FlowCoverage]:
    """Per flow, the nodes the conversations passed through and the choices they took."""
    visited: dict[str, set[str]] = defaultdict(set)
    picked: set[str] = set()
    for result in results:
        picked.update(result.picked)
        for qualified in result.visited:
            flow_id, _sep, node_id = qualified.partition(".")
            visited[flow_id].add(node_id)
    report = []
    for flow in program.flows.values():
        seen = visited[flow.id] & set(flow.nodes)
        missing = tuple(node for node in flow.nodes if node not in seen)
        choices = [
            f"{node.id}:{choice}"
            for node in flow.nodes.values()
            for choice in coverable_choices(program, node)
        ]
        missing_choices = tuple(c for c in choices if f"{flow.id}.{c}" not in picked)
        report.append(
            FlowCoverage(
                flow.id,
                len(seen),
                len(flow.nodes),
                missing,
                len(choices) - len(missing_choices),
                len(choices),
                missing_choices,
            )
        )
    return report
