"""A flow drawn as SVG on the server: one box per node, arrows for every way on.

Boxes link to the node's texts; places in other flows (a ``goto``, a ``call``) are drawn as
exits that link to that flow. A ``call`` is drawn both to the called flow and on to where
the conversation continues after it returns, which is how an author thinks of it.

An arrow that skips layers runs in a lane of its own (``layout``), so it never crosses a
box; its label sits in that lane. Other labels are placed along their arrow where they
cover no box and no other label, and all labels are drawn last, on top. Ways on with the
same source and target are one arrow with their labels joined.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from itertools import pairwise
from urllib.parse import urlencode

from redirection_bot.dialogue.model import Node, NodeKind, PlaceRef, Program, SlotType, Transition
from redirection_bot.studio.layout import Box, Layout, layered_layout

NODE_HEIGHT = 58
EXIT_HEIGHT = 34
CHAR_WIDTH = 7.0
SNIPPET_LENGTH = 34
LABEL_LENGTH = 28
LABEL_CHAR_WIDTH = 6.4
LABEL_HEIGHT = 15.0
LABEL_PAD = 4.0
_ALONG = (0.5, 0.35, 0.65, 0.22, 0.78)
"""Where on a short arrow its label may sit (0 at the source, 1 at the target), best first."""

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    width: float
    height: float

    @classmethod
    def around(cls, x: float, y: float, width: float, height: float) -> Rect:
        return cls(x - width / 2, y - height / 2, width, height)

    @classmethod
    def of(cls, box: Box) -> Rect:
        return cls(box.x, box.y, box.width, box.height)

    def overlaps(self, other: Rect) -> bool:
        return not (
            self.x + self.width <= other.x
            or other.x + other.width <= self.x
            or self.y + self.height <= other.y
            or other.y + other.height <= self.y
        )


@dataclass(frozen=True, slots=True)
class DrawnEdge:
    """An arrow as drawn: its waypoints (joined by curves that leave and arrive vertically),
    and where its label sits."""

    source: str
    target: str
    label: str
    points: tuple[Point, ...]
    back: bool
    label_box: Rect | None


@dataclass(frozen=True, slots=True)
class FlowDrawing:
    layout: Layout
    edges: list[DrawnEdge]
    exits: list[str]
    width: float
    height: float


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


def flow_drawing(
    program: Program, flow_id: str, snippet: Callable[[Node], str | None]
) -> FlowDrawing:
    """Where every box, arrow and label of a flow goes (pure geometry, tested as such)."""
    flow = program.flows[flow_id]
    joined = _joined_edges(flow_edges(program, flow_id))
    exits = sorted({target for _source, target in joined if "." in target})
    names = list(flow.nodes) + exits
    sizes = {name: _size(program, flow_id, name, snippet) for name in names}
    label_widths = {pair: _label_size(label)[0] for pair, label in joined.items() if label}
    layout = layered_layout(names, list(joined), sizes, flow.start, label_widths)
    taken = [Rect.of(box) for box in layout.boxes.values()]
    drawn = []
    for (source, target), label in joined.items():
        back = (source, target) in layout.back_edges or source == target
        points = _route(layout, source, target, back)
        lane = layout.lanes.get((source, target))
        if not label:
            label_box = None
        elif lane:
            width, height = _label_size(label)
            label_box = Rect.around(lane[0].center_x, lane[0].y + lane[0].height / 2, width, height)
        else:
            label_box = _free_place(points, _label_size(label), back, taken)
        if label_box is not None:
            taken.append(label_box)
        drawn.append(DrawnEdge(source, target, label, points, back, label_box))
    right = max(
        [layout.width]
        + [p[0] + 12 for e in drawn for p in e.points]
        + [e.label_box.x + e.label_box.width + 8 for e in drawn if e.label_box is not None]
    )
    return FlowDrawing(layout, drawn, exits, right, layout.height)


def _joined_edges(edges: Sequence[FlowEdge]) -> dict[tuple[str, str], str]:
    """One arrow per source and target, its labels joined."""
    joined: dict[tuple[str, str], list[str]] = {}
    for edge in edges:
        labels = joined.setdefault((edge.source, edge.target), [])
        if edge.label and edge.label not in labels:
            labels.append(edge.label)
    return {pair: ", ".join(labels) for pair, labels in joined.items()}


def _label_size(label: str) -> tuple[float, float]:
    return len(_short(label, LABEL_LENGTH)) * LABEL_CHAR_WIDTH + 2 * LABEL_PAD, LABEL_HEIGHT


def _route(layout: Layout, source: str, target: str, back: bool) -> tuple[Point, ...]:
    start, end = layout.boxes[source], layout.boxes[target]
    if back:
        x1, y1 = start.x + start.width, start.y + start.height / 2
        x2, y2 = end.x + end.width, end.y + end.height / 2
        bulge = max(x1, x2) + 40 + 10 * abs(start.layer - end.layer)
        return ((x1, y1), (bulge, y1), (bulge, y2), (x2, y2))
    points: list[Point] = [(start.center_x, start.bottom)]
    for lane in layout.lanes.get((source, target), ()):
        points += [(lane.center_x, lane.y), (lane.center_x, lane.bottom)]
    points.append((end.center_x, end.y))
    return tuple(points)


def curve_point(a: Point, b: Point, t: float) -> Point:
    """A point of the curve drawn from ``a`` to ``b`` (leaving and arriving vertically)."""
    middle = (a[1] + b[1]) / 2
    controls = (a, (a[0], middle), (b[0], middle), b)
    weights = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3)
    return (
        sum(w * p[0] for w, p in zip(weights, controls, strict=True)),
        sum(w * p[1] for w, p in zip(weights, controls, strict=True)),
    )


def _free_place(
    points: tuple[Point, ...], size: tuple[float, float], back: bool, taken: list[Rect]
) -> Rect:
    """A place along the arrow where the label covers nothing already drawn; failing that,
    beside the arrow's middle."""
    width, height = size
    if back:
        x = points[1][0]
        top, bottom = sorted((points[1][1], points[2][1]))
        candidates = [(x, top + (bottom - top) * t) for t in _ALONG]
    else:
        candidates = [curve_point(points[0], points[1], t) for t in _ALONG]
    middle = candidates[0]
    candidates += [(middle[0] + side * (width / 2 + 6), middle[1]) for side in (1, -1)]
    # Crowded: beside the arrow at each place along it, then a line higher or lower.
    candidates += [(x + side * (width / 2 + 6), y) for x, y in candidates[1:] for side in (1, -1)]
    candidates += [
        (x + side * (width / 2 + 6), y + shift * (height + 3))
        for shift in (1, -1, 2, -2)
        for x, y in candidates[: len(_ALONG)]
        for side in (0, 1, -1)
    ]
    for x, y in candidates:
        place = Rect.around(x, y, width, height)
        if not any(place.overlaps(other) for other in taken):
            return place
    return Rect.around(middle[0], middle[1], width, height)


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
    drawing = flow_drawing(program, flow_id, snippet)
    layout = drawing.layout
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flow-graph" id="flow-graph" '
        f'data-flow="{escape(flow_id)}" width="{drawing.width:.0f}" '
        f'height="{drawing.height:.0f}" viewBox="0 0 {drawing.width:.0f} {drawing.height:.0f}" '
        f'role="group" aria-label="the flow {escape(flow_id)}">',
        "<defs>"
        '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker>'
        "</defs>",
    ]
    for edge in drawing.edges:
        parts.append(_edge_svg(edge))
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
    for name in drawing.exits:
        target_flow, _sep, target_node = name.partition(".")
        parts.append(_exit_svg(name, layout.boxes[name], link(target_flow, target_node)))
    parts.append('<g class="edge-labels">')
    parts += [_label_svg(edge) for edge in drawing.edges if edge.label_box is not None]
    parts.append("</g></svg>")
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


def _edge_svg(edge: DrawnEdge) -> str:
    points = edge.points
    if edge.back:
        (x1, y1), (bulge, _y), (_b, y2), (x2, _y2) = points
        path = (
            f"M{x1:.0f},{y1:.0f} C{bulge:.0f},{y1:.0f} {bulge:.0f},{y2:.0f} {x2 + 2:.0f},{y2:.0f}"
        )
    else:
        steps = [f"M{points[0][0]:.0f},{points[0][1]:.0f}"]
        for index, ((x1, y1), (x2, y2)) in enumerate(pairwise(points)):
            end = y2 - 2 if index == len(points) - 2 else y2
            if x1 == x2:
                steps.append(f"L{x2:.0f},{end:.0f}")
            else:
                middle = (y1 + y2) / 2
                steps.append(f"C{x1:.0f},{middle:.0f} {x2:.0f},{middle:.0f} {x2:.0f},{end:.0f}")
        path = " ".join(steps)
    kind = "edge back" if edge.back else "edge"
    title = f"<title>{escape(edge.label)}</title>" if edge.label else ""
    return (
        f'<g class="{kind}" data-source="{escape(edge.source)}" data-target="{escape(edge.target)}">'
        f'{title}<path d="{path}" marker-end="url(#arrow)"/></g>'
    )


def _label_svg(edge: DrawnEdge) -> str:
    box = edge.label_box
    assert box is not None
    return (
        f'<g class="edge-label" data-edge="{escape(edge.source)} {escape(edge.target)}">'
        f"<title>{escape(edge.label)}</title>"
        f'<rect x="{box.x:.0f}" y="{box.y:.0f}" width="{box.width:.0f}" '
        f'height="{box.height:.0f}" rx="3"/>'
        f'<text x="{box.x + box.width / 2:.0f}" y="{box.y + box.height - 4:.0f}">'
        f"{escape(_short(edge.label, LABEL_LENGTH))}</text></g>"
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
