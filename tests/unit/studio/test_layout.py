"""The layered drawing of flows: the start on top, every way on pointing down except those
that close a loop, and no two boxes on top of each other."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from redirection_bot.studio.flow_svg import flow_edges, flow_svg
from redirection_bot.studio.layout import Layout, layered_layout
from redirection_bot.testing import load, write_program

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
