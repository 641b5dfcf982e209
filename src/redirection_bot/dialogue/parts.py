"""The parts of the program, read from its definition: what the home menu leads to.

A **part** is a flow that a choice of the home flow goes to (``goto``), other than a flow that
runs a custom action (the plan is built from the parts; it is not one). A part is **finished**
when the person reaches one of its *ends*: a node, other than its start, that leads out of
the part (a ``goto`` to another flow, from the node itself or from one of its choices). Adding
a part to the menu is all it takes for "every part done" to wait for it too.
"""

from __future__ import annotations

from dataclasses import dataclass

from redirection_bot.dialogue.model import Node, NodeKind, Place, Program, Transition


@dataclass(frozen=True, slots=True)
class Parts:
    """The program's parts in menu order, and the places where each one is finished."""

    order: tuple[str, ...]
    ends: frozenset[Place]

    def finished_at(self, place: Place) -> str | None:
        """The part finished by arriving at ``place``, if any."""
        return place.flow if place in self.ends else None

    def all_done(self, done: tuple[str, ...] | frozenset[str]) -> bool:
        # fewer parts done than there are: not all (a part is listed as done once)
        return bool(self.order) and len(done) >= len(self.order) and set(self.order) <= set(done)

    def leads_to_a_part(self, then: Transition) -> bool:
        """Whether ``then`` goes to the start of a part ("Next: my triggers")."""
        goto = then.goto
        return goto is not None and goto.flow in self.order and goto.node is None


def program_parts(program: Program) -> Parts:
    """The parts of ``program`` (see the module docstring)."""
    home = program.home.flow
    if home not in program.flows:
        return Parts((), frozenset())
    order: list[str] = []
    for node in program.flows[home].nodes.values():
        for choice in node.choices:
            goto = choice.then.goto
            if goto is None or goto.flow == home or goto.flow in order:
                continue
            if goto.flow in program.flows and not _runs_an_action(program, goto.flow):
                order.append(goto.flow)
    ends = frozenset(
        node.place
        for flow in order
        for node in program.flows[flow].nodes.values()
        if node.id != program.flows[flow].start and _leaves_flow(node)
    )
    return Parts(tuple(order), ends)


def _runs_an_action(program: Program, flow: str) -> bool:
    return any(node.kind is NodeKind.ACTION for node in program.flows[flow].nodes.values())


def _leaves_flow(node: Node) -> bool:
    transitions = [choice.then for choice in node.choices]
    if node.then is not None:
        transitions.append(node.then)
    return any(t.goto is not None and t.goto.flow != node.flow for t in transitions)
