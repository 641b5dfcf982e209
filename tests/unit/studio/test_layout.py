"""The layered drawing of flows: the start on top, every way on pointing down except those
that close a loop, and no two boxes on top of each other."""

from __future__ import annotations

from itertools import combinations, pairwise, product
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from redirection_bot.authoring.testing import load, write_program
from redirection_bot.program.load import LoadedProgram
from redirection_bot.studio.flow_svg import Rect, curve_point, flow_drawing, flow_edges, flow_svg
from redirection_bot.studio.layout import Layout, layered_layout

SIZE = (100.0, 40.0)


def draw(nodes: list[str], edges: list[tuple[str, str]], start: str | None = None) -> Layout:
    return layered_layout(nodes, edges, dict.fromkeys(nodes, SIZE), start)


def test_a_chain_goes_down_from_the_start() -> None:
    layout = draw(["c", "b", "a"], [("a", "b"), ("b", "c")], start="a")
    assert [layout.boxes[n].layer for n in "abc"] == [0, 1, 2]
    assert layout.back_edges == frozenset()


def test_a_loop_back_is_drawn_as_a_back_edge() -> None:
    layout = draw(
        ["ask", "check", "again"], [("ask", "check"), ("check", "again"), ("again", "ask")], "ask"
    )
    assert layout.back_edges == {("again", "ask")}
    assert layout.boxes["ask"].layer == 0


def test_a_branch_puts_both_arms_on_one_layer_side_by_side() -> None:
    layout = draw(
        ["if", "yes", "no", "end"], [("if", "yes"), ("if", "no"), ("yes", "end"), ("no", "end")]
    )
    yes, no = layout.boxes["yes"], layout.boxes["no"]
    assert yes.layer == no.layer == 1 and yes.y == no.y and abs(yes.x - no.x) >= SIZE[0]
    assert layout.boxes["end"].layer == 2


names = st.sampled_from([f"n{i}" for i in range(8)])


@given(st.lists(st.tuples(names, names), max_size=20))
def test_any_graph_gets_boxes_that_never_overlap_and_edges_that_go_down(
    edges: list[tuple[str, str]],
) -> None:
    nodes = sorted({n for edge in edges for n in edge}) or ["n0"]
    layout = draw(nodes, edges, nodes[0])
    assert set(layout.boxes) == set(nodes)
    for a, b in combinations(layout.boxes.values(), 2):
        apart = a.x + a.width <= b.x or b.x + b.width <= a.x or a.bottom <= b.y or b.bottom <= a.y
        assert apart
    for source, target in edges:
        if source != target and (source, target) not in layout.back_edges:
            assert layout.boxes[source].layer < layout.boxes[target].layer
    for box in layout.boxes.values():
        assert box.x >= 0 and box.x + box.width <= layout.width and box.bottom <= layout.height


def test_a_call_is_drawn_to_the_called_flow_and_on_to_where_it_continues(tmp_path: Path) -> None:
    flow = """\
flow: main
start: ask
nodes:
  ask:
    say: main.question
    input: mood
    next: worried
  worried:
    say: main.bye
    call: helpdesk
    next: bye
  bye:
    say: main.bye
    end: true
"""
    loaded = load(write_program(tmp_path, flows={"main": flow}), tmp_path)
    edges = {(e.source, e.target, e.label) for e in flow_edges(loaded.program, "main")}
    assert ("worried", "helpdesk.offer", "call") in edges
    assert ("worried", "bye", "after the call") in edges
    svg = flow_svg(
        loaded.program, "main", lambda node: "<words>", {}, lambda f, n: f"/?flow={f}&node={n}"
    )
    assert "&lt;words&gt;" in svg and "<words>" not in svg
    assert 'href="/?flow=helpdesk&amp;node=offer"' in svg


@given(st.lists(st.tuples(names, names), max_size=20))
def test_an_edge_that_skips_layers_gets_a_lane_in_each_and_the_lanes_cover_no_box(
    edges: list[tuple[str, str]],
) -> None:
    nodes = sorted({n for edge in edges for n in edge}) or ["n0"]
    layout = draw(nodes, edges, nodes[0])
    for (source, target), lanes in layout.lanes.items():
        crossed = range(layout.boxes[source].layer + 1, layout.boxes[target].layer)
        assert [lane.layer for lane in lanes] == list(crossed)
        for lane, box in product(lanes, layout.boxes.values()):
            assert (
                lane.x + lane.width <= box.x
                or box.x + box.width <= lane.x
                or lane.layer != box.layer
            )


def test_no_arrow_of_the_shipped_flows_runs_through_a_box_and_no_label_covers_another(
    shipped: LoadedProgram,
) -> None:
    program = shipped.program
    for flow_id in program.flows:
        drawing = flow_drawing(program, flow_id, lambda node: None)
        boxes = {name: Rect.of(box) for name, box in drawing.layout.boxes.items()}
        for edge in drawing.edges:
            if edge.back:
                continue
            for a, b in pairwise(edge.points):
                for step in range(1, 20):
                    x, y = curve_point(a, b, step / 20)
                    dot = Rect(x - 0.5, y - 0.5, 1, 1)
                    inside = [
                        name
                        for name, box in boxes.items()
                        if name not in (edge.source, edge.target) and dot.overlaps(box)
                    ]
                    assert not inside, f"{flow_id}: {edge.source} -> {edge.target} crosses {inside}"
        labels = [(edge, edge.label_box) for edge in drawing.edges if edge.label_box is not None]
        assert len(labels) == sum(1 for edge in drawing.edges if edge.label)
        for (first, one), (second, other) in combinations(labels, 2):
            assert not one.overlaps(other), f"{flow_id}: {first.label!r} and {second.label!r}"
        for edge, label in labels:
            assert not any(label.overlaps(box) for box in boxes.values()), (
                f"{flow_id}: {edge.label!r}"
            )
            assert label.x >= 0 and label.x + label.width <= drawing.width


def test_the_else_of_a_chain_of_checks_goes_around_the_box_it_skips(
    shipped: LoadedProgram,
) -> None:
    drawing = flow_drawing(shipped.program, "thinking", lambda node: None)
    skip = next(
        e
        for e in drawing.edges
        if (e.source, e.target) == ("check_only_images", "check_already_out")
    )
    assert skip.label == "else" and skip.label_box is not None
    answer = drawing.layout.boxes["answer_only_images"]
    lane_x = skip.points[1][0]
    assert not answer.x <= lane_x <= answer.x + answer.width
