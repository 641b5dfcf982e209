"""A flow drawn as SVG on the server: one box per node, arrows for every way on.

Boxes link to the node's texts; places in other flows (a ``goto``, a ``call``) are drawn as
exits that link to that flow. A ``call`` is drawn both to the called flow and on to where
the conversation continues after it returns, which is how an author thinks of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

from redirection_bot.dialogue.model import Node, NodeKind, PlaceRef, Program, SlotType, Transition
from redirection_bot.studio.layout import Box, layered_layout

NODE_HEIGHT = 58
EXIT_HEIGHT = 34
CHAR_WIDTH = 7.0
SNIPPET_LENGTH = 34


@dataclass(frozen=True, slots=True)
class FlowEdge:
    source: str
    target: str
    """A node id of this flow, or ``flow.node`` for a place outside it."""
    label: str


def flow_edges(program: Program, flow_id: str) -> list[FlowEdge]:
    """Every way on from each node of a flow, as an author wrote it."""
    edges: list[FlowEdge] = []
    for node in program.flows[flow_id].nodes.values():
        for label, transition in _transitions(program, node):
            edges.extend(_edges(program, node, label, transition))
    return edges


def _transitions(program: Program, node: Node) -> list[tuple[str, Transition | None]]:
    found: list[tuple[str, Transition | None]] = [(c.id, c.then) for c in node.choices]
    if node.input is not None:
        declared = program.slots.get(node.input.slot)
        kind = declared.type.value if declared is not None else "answer"
        label = "checklist" if declared is not None and declared.type is SlotType.LIST else kind
        found.append((f"{label} answer", node.then))
    elif node.kind is NodeKind.BRANCH:
        found += [(b.when.source, b.then) for b in node.branches]
        found.append(("else", node.otherwise))
    elif node.then is not None:
        found.append(("", node.then))
    return found


def _edges(
    program: Program, node: Node, label: str, transition: Transition | None
) -> list[FlowEdge]:
    if transition is None or transition.is_empty:
        return []
    edges = []
    if transition.call is not None:
        callee = program.flows.get(transition.call)
        if callee is not None:
            edges.append(FlowEdge(node.id, f"{callee.id}.{callee.start}", _join(label, "call")))
    if transition.goto is not None:
        target = _place(program, node.flow, transition.goto)
        if target is not None:
            after = "after the call" if transition.call is not None else ""
            edges.append(FlowEdge(node.id, target, _join(label, after)))
    return edges


def _place(program: Program, flow_id: str, target: PlaceRef) -> str | None:
    found = program.find_node(target)
    if found is None:
        return None
    return found.id if found.flow == flow_id else found.qualified_id


def _join(label: str, word: str) -> str:
    return f"{label} ({word})" if label and word else label or word


def _short(text: str, length: int = SNIPPET_LENGTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"


def flow_svg(
    program: Program,
    flow_id: str,
    snippet: Callable[[Node], str | None],
    badges: Mapping[str, str],
    link: Callable[[str, str], str],
    selected: str | None = None,
) -> str:
    """The flow as an ``<svg>`` element.

    ``snippet`` gives a node's first words (in the chosen locale); ``badges`` a short note per
    node id (texts to translate); ``link(flow, node)`` the address a box links to.
    """
    flow = program.flows[flow_id]
    edges = flow_edges(program, flow_id)
    exits = sorted({e.target for e in edges if "." in e.target})
    names = list(flow.nodes) + exits
    sizes = {name: _size(program, flow_id, name, snippet) for name in names}
    layout = layered_layout(names, [(e.source, e.target) for e in edges], sizes, flow.start)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flow-graph" id="flow-graph" '
        f'data-flow="{escape(flow_id)}" width="{layout.width:.0f}" height="{layout.height:.0f}" '
        f'viewBox="0 0 {layout.width:.0f} {layout.height:.0f}" role="group" '
        f'aria-label="the flow {escape(flow_id)}">',
        "<defs>"
        '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker>'
        "</defs>",
    ]
    for edge in edges:
        back = (edge.source, edge.target) in layout.back_edges
        parts.append(_edge_svg(layout.boxes[edge.source], layout.boxes[edge.target], edge, back))
    for name in flow.nodes:
        node = flow.nodes[name]
        parts.append(
            _node_svg(
                node,
                layout.boxes[name],
                snippet(node),
                badges.get(name),
                link(flow_id, name),
                start=name == flow.start,
                selected=name == selected,
            )
        )
    for name in exits:
        target_flow, _sep, target_node = name.partition(".")
        parts.append(_exit_svg(name, layout.boxes[name], link(target_flow, target_node)))
    parts.append("</svg>")
    return "\n".join(parts)


def _size(
    program: Program, flow_id: str, name: str, snippet: Callable[[Node], str | None]
) -> tuple[float, float]:
    if "." in name:
        return max(120.0, (len(name) + 2) * CHAR_WIDTH + 20), float(EXIT_HEIGHT)
    node = program.flows[flow_id].nodes[name]
    words = _short(snippet(node) or "")
    longest = max(len(name) + 4, len(node.kind.value) + 2, len(words))
    return min(max(130.0, longest * CHAR_WIDTH + 24), 280.0), float(NODE_HEIGHT)


def _edge_svg(source: Box, target: Box, edge: FlowEdge, back: bool) -> str:
    if back or edge.source == edge.target:
        x1, y1 = source.x + source.width, source.y + source.height / 2
        x2, y2 = target.x + target.width, target.y + target.height / 2
        bulge = max(x1, x2) + 40 + 10 * abs(source.layer - target.layer)
        path = (
            f"M{x1:.0f},{y1:.0f} C{bulge:.0f},{y1:.0f} {bulge:.0f},{y2:.0f} {x2 + 2:.0f},{y2:.0f}"
        )
        label_x, label_y = bulge - 10, (y1 + y2) / 2
    else:
        x1, y1 = source.center_x, source.bottom
        x2, y2 = target.center_x, target.y
        middle = (y1 + y2) / 2
        path = (
            f"M{x1:.0f},{y1:.0f} C{x1:.0f},{middle:.0f} {x2:.0f},{middle:.0f} {x2:.0f},{y2 - 2:.0f}"
        )
        label_x, label_y = (x1 + x2) / 2, middle
    kind = "edge back" if back else "edge"
    label = (
        f'<text class="edge-label" x="{label_x:.0f}" y="{label_y:.0f}">{escape(_short(edge.label, 28))}</text>'
        if edge.label
        else ""
    )
    return (
        f'<g class="{kind}" data-source="{escape(edge.source)}" data-target="{escape(edge.target)}">'
        f'<path d="{path}" marker-end="url(#arrow)"/>{label}</g>'
    )


def _node_svg(
    node: Node,
    box: Box,
    snippet: str | None,
    badge: str | None,
    href: str,
    start: bool,
    selected: bool,
) -> str:
    classes = ["node", f"kind-{node.kind.value}"]
    if node.kind.waits:
        classes.append("waits")
    if start:
        classes.append("start")
    if selected:
        classes.append("selected")
    words = escape(_short(snippet)) if snippet else ""
    badge_svg = (
        f'<g class="badge"><title>{escape(badge)}</title>'
        f'<circle cx="{box.x + box.width - 4:.0f}" cy="{box.y + 4:.0f}" r="9"/>'
        f'<text x="{box.x + box.width - 4:.0f}" y="{box.y + 8:.0f}">!</text></g>'
        if badge
        else ""
    )
    return (
        f'<a href="{escape(href)}" class="node-link" data-node="{escape(node.qualified_id)}">'
        f'<g class="{" ".join(classes)}" id="node-{escape(node.qualified_id)}">'
        f"<title>{escape(node.qualified_id)} ({escape(node.kind.value)})</title>"
        f'<rect x="{box.x:.0f}" y="{box.y:.0f}" width="{box.width:.0f}" height="{box.height:.0f}" rx="8"/>'
        f'<text class="node-id" x="{box.x + 10:.0f}" y="{box.y + 18:.0f}">{escape(node.id)}</text>'
        f'<text class="node-kind" x="{box.x + box.width - 10:.0f}" y="{box.y + 18:.0f}">'
        f"{escape(_kind_word(node))}</text>"
        f'<text class="node-words" x="{box.x + 10:.0f}" y="{box.y + 40:.0f}">{words}</text>'
        f"{badge_svg}</g></a>"
    )


def _kind_word(node: Node) -> str:
    return {
        NodeKind.ASK: "asks",
        NodeKind.INPUT: "asks",
        NodeKind.BRANCH: "if",
        NodeKind.SAY: "says",
        NodeKind.ACTION: "action",
        NodeKind.HANDOFF: "handoff",
        NodeKind.RETURN: "return",
        NodeKind.END: "end",
    }[node.kind]


def _exit_svg(name: str, box: Box, href: str) -> str:
    return (
        f'<a href="{escape(href)}" class="exit-link">'
        f'<g class="exit"><title>go to {escape(name)}</title>'
        f'<rect x="{box.x:.0f}" y="{box.y:.0f}" width="{box.width:.0f}" height="{box.height:.0f}" rx="16"/>'
        f'<text x="{box.center_x:.0f}" y="{box.y + 21:.0f}">→ {escape(name)}</text></g></a>'
    )


def node_link(flow: str, node: str) -> str:
    return "/?" + urlencode({"flow": flow, "node": node})
