"""A layered drawing of a directed graph, for flows: pure geometry, no drawing library.

The classic recipe, kept small: edges that close a loop are set aside (found by a walk from
the start), every node goes one layer below the lowest node that leads to it (longest
path), the nodes of each layer are ordered by the mean position of their neighbours (a
few sweeps down and up, to untangle crossings), and layers are centred on each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

LAYER_GAP = 70
NODE_GAP = 28
MARGIN = 24
SWEEPS = 4


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


def layered_layout(
    nodes: Sequence[str],
    edges: Sequence[tuple[str, str]],
    sizes: Mapping[str, tuple[float, float]],
    start: str | None = None,
) -> Layout:
    """Place ``nodes`` (in the author's order) in layers from ``start`` downwards."""
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
    rows = _order_layers(nodes, forward, layers)
    return _place(rows, sizes, frozenset(back))


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
            boxes[node] = Box(x, y + (height - node_height) / 2, width, node_height, index)
            x += width + NODE_GAP
        y += height + LAYER_GAP
    return Layout(boxes, back, total_width, y - LAYER_GAP + MARGIN)
