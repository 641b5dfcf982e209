"""The program as a graph: edges between nodes, and Mermaid / Graphviz views of a flow.

Calls are edges to the called flow's start; a ``return`` gets an edge to every place its
flow is called from. Checks (reachability, loops, unset slots) and the ``graph`` command
all read the same edges.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from redirection_bot.diagnostics import Span
from redirection_bot.dialogue.model import (
    Node,
    NodeKind,
    Place,
    Program,
    SlotType,
    Transition,
)
from redirection_bot.dialogue.per_program import per_program


@dataclass(frozen=True, slots=True)
class Edge:
    """A way from one node to another; ``sets`` are the slots surely set on the way."""

    source: Place
    target: Place
    label: str
    span: Span
    sets: frozenset[str] = frozenset()
    kind: str = "step"
    """``step``; ``return`` (from a called flow's return to where its caller continues); or
    ``after_call`` (from the calling node straight to where it continues: the summary that
    analyses of what surely happened use instead of the returns, which mix all callers)."""


def node_waits(node: Node) -> bool:
    """Whether the conversation stops at this node for the person (or for a human)."""
    if node.kind.waits:
        return True
    return node.kind is NodeKind.HANDOFF and (node.then is None or node.then.is_empty)


def program_edges(program: Program) -> list[Edge]:
    """Every edge of the program, calls and returns included."""
    edges: list[Edge] = []
    continuations: dict[str, list[tuple[Place, Span, Place, frozenset[str]]]] = defaultdict(list)
    for node in program.all_nodes():
        for label, transition, span, sets in _transitions(program, node):
            edges.extend(
                _transition_edges(program, node, label, transition, span, sets, continuations)
            )
    for node in program.all_nodes():
        if node.kind is NodeKind.RETURN:
            for continuation, span, _caller, _sets in continuations.get(node.flow, []):
                edges.append(Edge(node.place, continuation, "return", span, kind="return"))
    for called in continuations.values():
        for continuation, span, caller, sets in called:
            edges.append(Edge(caller, continuation, "after call", span, sets, kind="after_call"))
    return edges


def flows_reached(program: Program, flows: Iterable[str]) -> set[str]:
    """``flows`` and every flow they lead to, by calls and gotos (not back to whoever called
    them: a return goes wherever its flow was called from)."""
    leads: dict[str, set[str]] = defaultdict(set)
    for edge in program_edges(program):
        if edge.kind != "return":
            leads[edge.source.flow].add(edge.target.flow)
    found = set(flows)
    todo = list(found)
    while todo:
        for target in leads.get(todo.pop(), ()):
            if target not in found:
                found.add(target)
                todo.append(target)
    return found


@per_program
def interrupting_flows(program: Program) -> frozenset[str]:
    """The flows that interrupt whatever the person was doing: the safety flows, the help
    command's flow, and every flow they lead to. Worked out once per program (the whole
    program's edges, about 5 ms: asked at every miss past the third and at every handoff)."""
    seeds = {route.flow for route in program.safety}
    seeds |= {call for call, _span in program.command_calls()}
    return frozenset(flows_reached(program, seeds))


def _transitions(
    program: Program, node: Node
) -> list[tuple[str, Transition | None, Span, frozenset[str]]]:
    found: list[tuple[str, Transition | None, Span, frozenset[str]]] = []
    if node.changes:
        own = frozenset(change.slot for change in node.changes)
        return [
            (label, then, span, sets | own)
            for label, then, span, sets in _transitions(program, replace(node, changes=()))
        ]
    if node.kind in (NodeKind.ASK, NodeKind.INPUT):
        for choice in node.choices:
            sets = frozenset(change.slot for change in choice.changes)
            found.append((choice.id, choice.then, choice.span, sets))
        if node.input is not None:
            declared = program.slots.get(node.input.slot)
            sets = frozenset({node.input.slot})
            if declared is not None and declared.type is SlotType.LIST:
                found.append(("add", Transition(), node.span, sets))
            found.append(("answer", node.then, node.span, sets))
    elif node.kind is NodeKind.BRANCH:
        for branch in node.branches:
            found.append(
                (branch.when.source, branch.then, branch.span, branch.when.answered_when_true())
            )
        found.append(("else", node.otherwise, node.span, frozenset()))
    elif node.kind is NodeKind.ACTION:
        declared_action = program.actions.get(node.action or "")
        sets = frozenset(declared_action.sets) if declared_action else frozenset()
        found.append(("", node.then, node.span, sets))
    elif node.kind in (NodeKind.SAY, NodeKind.HANDOFF):
        found.append(("", node.then, node.span, frozenset()))
    return found


def _transition_edges(
    program: Program,
    node: Node,
    label: str,
    transition: Transition | None,
    span: Span,
    sets: frozenset[str],
    continuations: dict[str, list[tuple[Place, Span, Place, frozenset[str]]]],
) -> list[Edge]:
    source = node.place
    if transition is None:
        return []
    if transition.is_empty:
        return [Edge(source, source, label, span, sets)] if node.kind.waits else []
    edges: list[Edge] = []
    continuation = program.resolve(transition.goto) if transition.goto is not None else None
    if transition.call is not None:
        callee = program.flows.get(transition.call)
        if callee is not None and callee.start in callee.nodes:
            edges.append(
                Edge(source, Place(callee.id, callee.start), _join(label, "call"), span, sets)
            )
        if continuation is None and node.kind.waits:
            continuation = source
        if continuation is not None:
            continuations[transition.call].append((continuation, span, source, sets))
        return edges
    if continuation is not None:
        edges.append(Edge(source, continuation, label, span, sets))
    return edges


def _join(label: str, word: str) -> str:
    return f"{label} ({word})" if label else word


# --- views -------------------------------------------------------------------------------------


TEXT_LENGTH = 60


def first_line(text: str, length: int = TEXT_LENGTH) -> str:
    """A text's first line, shortened to ``length`` characters."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= length else line[: length - 1].rstrip() + "…"


def flow_graph(
    program: Program,
    flow_id: str,
    output_format: str,
    texts: Mapping[str, str] | None = None,
) -> str:
    """A flow as Mermaid (``mermaid``) or Graphviz (``dot``) text, for review.

    Conditions are shown as they were written. ``texts`` (node id -> text, in the caller's
    chosen locale) adds each node's first line of text under its id.
    """
    texts = texts or {}
    flow = program.flows[flow_id]
    edges = [
        edge
        for edge in program_edges(program)
        if edge.source.flow == flow_id and edge.kind != "after_call"
    ]
    outside = sorted({str(edge.target) for edge in edges if edge.target.flow != flow_id})
    if output_format == "dot":
        return _dot(program, flow_id, edges, outside, texts)
    lines = ["flowchart TD"]
    for node in flow.nodes.values():
        text = texts.get(node.id)
        lines.append(f"    {_mermaid_id(str(node.place))}{_mermaid_shape(node, text)}")
    for name in outside:
        lines.append(f'    {_mermaid_id(name)}[/"{_mermaid_text(name)}"/]')
    for edge in edges:
        arrow = f'-- "{_mermaid_text(edge.label)}" -->' if edge.label else "-->"
        lines.append(f"    {_mermaid_id(str(edge.source))} {arrow} {_mermaid_id(str(edge.target))}")
    start = _mermaid_id(f"{flow_id}.{flow.start}")
    lines.append(f"    style {start} stroke-width:3px")
    return "\n".join(lines) + "\n"


def _mermaid_id(name: str) -> str:
    return name.replace(".", "__")


_MERMAID_SPECIAL = re.compile(r'"|<(?=[A-Za-z/!?])|#(?=\w+;)')
_MERMAID_CODES = {'"': "#quot;", "<": "#lt;", "#": "#35;"}


def _mermaid_text(text: str) -> str:
    """Text inside a Mermaid label's quotes, with Mermaid's entity codes for only what would
    end the label, start an HTML tag or read as an entity code: the text (a condition such
    as ``importance >= 7``) shows as written, and stays readable in the Mermaid source."""
    return _MERMAID_SPECIAL.sub(lambda match: _MERMAID_CODES[match.group()], text)


def _dot_text(text: str) -> str:
    """Text inside a Graphviz double-quoted string."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _mermaid_shape(node: Node, words: str | None = None) -> str:
    text = f"{_mermaid_text(node.id)}<br/><i>{node.kind.value}</i>"
    if words:
        text += f"<br/>{_mermaid_text(first_line(words))}"
    if node.kind.waits:
        return f'(["{text}"])'
    if node.kind is NodeKind.BRANCH:
        return f'{{"{text}"}}'
    if node.kind in (NodeKind.END, NodeKind.HANDOFF, NodeKind.RETURN):
        return f'[["{text}"]]'
    return f'["{text}"]'


def _dot(
    program: Program,
    flow_id: str,
    edges: list[Edge],
    outside: list[str],
    texts: Mapping[str, str],
) -> str:
    flow = program.flows[flow_id]
    lines = [f'digraph "{flow_id}" {{', "    rankdir=TB;", "    node [fontname=Helvetica];"]
    shapes = {
        NodeKind.BRANCH: "diamond",
        NodeKind.END: "doubleoctagon",
        NodeKind.HANDOFF: "house",
        NodeKind.RETURN: "invhouse",
    }
    for node in flow.nodes.values():
        shape = "ellipse" if node.kind.waits else shapes.get(node.kind, "box")
        width = ", penwidth=3" if node.id == flow.start else ""
        label = f"{node.id}\n({node.kind.value})"
        if texts.get(node.id):
            label += "\n" + first_line(texts[node.id])
        lines.append(f'    "{node.place}" [label="{_dot_text(label)}", shape={shape}{width}];')
    for name in outside:
        lines.append(f'    "{name}" [shape=parallelogram, style=dashed];')
    for edge in edges:
        label = f' [label="{_dot_text(edge.label)}"]' if edge.label else ""
        lines.append(f'    "{edge.source}" -> "{edge.target}"{label};')
    lines.append("}")
    return "\n".join(lines) + "\n"
