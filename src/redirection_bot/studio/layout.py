"""A layered drawing of a directed graph, for flows: pure geometry, no drawing library.

The classic recipe, kept small: edges that close a loop are set aside (found by a walk from
the start), every node goes one layer below the lowest node that leads to it (longest
path), an edge that spans several layers gets a waypoint in each layer it crosses (a
"dummy node" that takes a place in the layer, so that the arrow has its own lane and never
runs through a box, the way Graphviz routes long edges), the nodes of each layer are
ordered by the mean position of their neighbours (a few sweeps down and up, to untangle
crossings), and layers are centred on each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

LAYER_GAP = 70
NODE_GAP = 28
MARGIN = 24
SWEEPS = 4
LANE_WIDTH = 12
"""The width a long edge takes where it crosses a layer (more where its label sits)."""


@dataclass(frozen=True, slots=True)
class Box:
    """Where a node is drawn: top-left corner and size."""

    x: float
    y: float
    width: float
    height: float
    layer: int

    @property
    def center_x(self) -> float:
        return self.x + self.width / 2

    @property
    def bottom(self) -> float:
        return self.y + self.height


@dataclass(frozen=True, slots=True)
class Layout:
    boxes: Mapping[str, Box]
    back_edges: frozenset[tuple[str, str]]
    """Edges drawn against the flow (they close a loop)."""
    width: float
    height: float
    lanes: Mapping[tuple[str, str], tuple[Box, ...]] = field(default_factory=dict)
    """For an edge that spans several layers: the place it takes in each layer it crosses
    (as high as the layer), top to bottom. The arrow runs down the middle of each."""


def layered_layout(
    nodes: Sequence[str],
    edges: Sequence[tuple[str, str]],
    sizes: Mapping[str, tuple[float, float]],
    start: str | None = None,
    label_widths: Mapping[tuple[str, str], float] | None = None,
) -> Layout:
    """Place ``nodes`` (in the author's order) in layers from ``start`` downwards.

    ``label_widths``: for a long edge with a label, the label's width; its first lane is
    made that wide, so that the label sits in a place of its own.
    """
    successors: dict[str, list[str]] = {node: [] for node in nodes}
    for source, target in edges:
        if source in successors and target in successors and target not in successors[source]:
            successors[source].append(target)
    back = _back_edges(nodes, successors, start)
    forward = {
        node: [t for t in targets if (node, t) not in back and t != node]
        for node, targets in successors.items()
    }
    layers = _longest_path_layers(nodes, forward)
    all_sizes = dict(sizes)
    chains = _split_long_edges(forward, layers, all_sizes, label_widths or {})
    everything = list(nodes) + [lane for chain in chains.values() for lane in chain]
    rows = _order_layers(everything, forward, layers)
    placed = _place(rows, all_sizes, frozenset(back))
    lanes = {edge: tuple(placed.boxes[lane] for lane in chain) for edge, chain in chains.items()}
    boxes = {node: placed.boxes[node] for node in nodes}
    return Layout(boxes, placed.back_edges, placed.width, placed.height, lanes)


def _split_long_edges(
    forward: dict[str, list[str]],
    layers: dict[str, int],
    sizes: dict[str, tuple[float, float]],
    label_widths: Mapping[tuple[str, str], float],
) -> dict[tuple[str, str], list[str]]:
    """Replace each edge that spans layers by a chain through one lane per crossed layer
    (added to ``forward``, ``layers`` and ``sizes``); returns each long edge's lanes."""
    chains: dict[tuple[str, str], list[str]] = {}
    for source in list(forward):
        for target in list(forward[source]):
            span = layers[target] - layers[source]
            if span < 2:
                continue
            chain = [f"\0{source}\0{target}\0{step}" for step in range(1, span)]
            chains[(source, target)] = chain
            forward[source][forward[source].index(target)] = chain[0]
            for step, lane in enumerate(chain, start=1):
                forward[lane] = [chain[step] if step < len(chain) else target]
                layers[lane] = layers[source] + step
                width = label_widths.get((source, target), 0.0) if step == 1 else 0.0
                sizes[lane] = (max(LANE_WIDTH, width), 0.0)
    return chains


def _back_edges(
    nodes: Sequence[str], successors: Mapping[str, list[str]], start: str | None
) -> set[tuple[str, str]]:
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}  # 1: on the walk's path, 2: done
    roots = ([start] if start is not None and start in successors else []) + list(nodes)
    for root in roots:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            node, index = stack[-1]
            targets = successors[node]
            if index == len(targets):
                state[node] = 2
                stack.pop()
                continue
            stack[-1] = (node, index + 1)
            target = targets[index]
            if state.get(target) == 1:
                back.add((node, target))
            elif target not in state:
                state[target] = 1
                stack.append((target, 0))
    return back


def _longest_path_layers(nodes: Sequence[str], forward: Mapping[str, list[str]]) -> dict[str, int]:
    incoming: dict[str, int] = dict.fromkeys(nodes, 0)
    for targets in forward.values():
        for target in targets:
            incoming[target] += 1
    ready = [node for node in nodes if incoming[node] == 0]
    layer = dict.fromkeys(nodes, 0)
    while ready:
        node = ready.pop(0)
        for target in forward[node]:
            layer[target] = max(layer[target], layer[node] + 1)
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    return layer


def _order_layers(
    nodes: Sequence[str], forward: Mapping[str, list[str]], layers: Mapping[str, int]
) -> list[list[str]]:
    count = max(layers.values(), default=-1) + 1
    rows: list[list[str]] = [[] for _ in range(count)]
    for node in nodes:
        rows[layers[node]].append(node)
    predecessors: dict[str, list[str]] = {node: [] for node in nodes}
    for source, targets in forward.items():
        for target in targets:
            predecessors[target].append(source)
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        neighbours = predecessors if down else forward
        indices = range(1, count) if down else range(count - 2, -1, -1)
        for index in indices:
            rows[index] = _by_barycentre(rows, index, neighbours)
    return rows


def _by_barycentre(
    rows: list[list[str]], index: int, neighbours: Mapping[str, list[str]]
) -> list[str]:
    """A layer sorted by the mean position of each node's neighbours in the other layers."""
    position = {node: i for row in rows for i, node in enumerate(row)}
    current = {node: i for i, node in enumerate(rows[index])}

    def weight(node: str) -> tuple[float, int]:
        linked = [position[n] for n in neighbours[node]]
        return (sum(linked) / len(linked) if linked else current[node], current[node])

    return sorted(rows[index], key=weight)


def _place(
    rows: list[list[str]],
    sizes: Mapping[str, tuple[float, float]],
    back: frozenset[tuple[str, str]],
) -> Layout:
    widths = [sum(sizes[node][0] for node in row) + NODE_GAP * max(len(row) - 1, 0) for row in rows]
    total_width = max(widths, default=0.0) + 2 * MARGIN
    boxes: dict[str, Box] = {}
    y = float(MARGIN)
    for index, row in enumerate(rows):
        x = (total_width - widths[index]) / 2
        height = max((sizes[node][1] for node in row), default=0.0)
        for node in row:
            width, node_height = sizes[node]
            if node.startswith("\0"):  # a long edge's lane is as high as its layer
                node_height = height
            boxes[node] = Box(x, y + (height - node_height) / 2, width, node_height, index)
            x += width + NODE_GAP
        y += height + LAYER_GAP
    return Layout(boxes, back, total_width, y - LAYER_GAP + MARGIN)
