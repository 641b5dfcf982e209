"""How much of the program the conversation tests go through: per flow, the nodes visited,
the choices taken and the arms of each ``if`` taken; in total and per locale.

Only passing tests count: a test that fails part-way proves nothing about where it went.
Each thing not covered keeps its place (``file:line``) so an author can go to it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from redirection_bot.authoring.conversation_tests import ScriptResult, coverable_choices
from redirection_bot.diagnostics import Span
from redirection_bot.dialogue.model import Node, NodeKind, Program, Transition


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
    branches_taken: int = 0
    branches_total: int = 0
    missing_branches: tuple[str, ...] = ()
    """Arms of an ``if`` no test took, as ``node: when <condition>`` or ``node: else``."""
    places: Mapping[str, Span] = field(default_factory=dict)
    """Where each missing node, choice and arm is written."""

    @property
    def percent(self) -> float:
        return _percent(self.visited, self.total)

    @property
    def choices_percent(self) -> float:
        return _percent(self.choices_picked, self.choices_total)

    @property
    def branches_percent(self) -> float:
        return _percent(self.branches_taken, self.branches_total)

    def located(self, missing: Iterable[str]) -> list[str]:
        """``name (file:line)`` for each missing item."""
        return [
            f"{name} ({self.places[name].path}:{self.places[name].line})"
            if name in self.places
            else name
            for name in missing
        ]


@dataclass(frozen=True, slots=True)
class CoverageTotal:
    """Nodes, choices and ``if`` arms of every flow together."""

    covered: int
    total: int

    @property
    def percent(self) -> float:
        return _percent(self.covered, self.total)


def _percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 100.0


def coverage_total(coverage: Iterable[FlowCoverage]) -> CoverageTotal:
    """The overall figure ``test --min-coverage`` compares with: everything that can be
    covered (nodes, choices, ``if`` arms) counts once."""
    covered = total = 0
    for flow in coverage:
        covered += flow.visited + flow.choices_picked + flow.branches_taken
        total += flow.total + flow.choices_total + flow.branches_total
    return CoverageTotal(covered, total)


def flows_below(coverage: Iterable[FlowCoverage], minimum: float) -> list[FlowCoverage]:
    """The flows whose choices the tests take less than ``minimum`` percent of
    (``test --min-choice-coverage``): each flow must hold on its own, so a well-tested flow
    cannot hide one that is barely tested."""
    return [flow for flow in coverage if flow.choices_percent < minimum]


def locale_coverage(program: Program, results: Sequence[ScriptResult]) -> dict[str, CoverageTotal]:
    """The overall figure for each of the program's locales, from the tests run in it."""
    return {
        locale: coverage_total(node_coverage(program, [r for r in results if r.locale == locale]))
        for locale in program.locales
    }


def node_coverage(program: Program, results: Iterable[ScriptResult]) -> list[FlowCoverage]:
    """Per flow, the nodes the passing conversations went through, the choices they took
    and the arms of each ``if`` they took."""
    visited: dict[str, set[str]] = defaultdict(set)
    picked: set[str] = set()
    arms: set[str] = set()
    for result in results:
        if not result.passed:
            continue
        picked.update(result.picked)
        arms.update(_arms_taken(program, result.trace))
        for qualified in result.visited:
            flow_id, _sep, node_id = qualified.partition(".")
            visited[flow_id].add(node_id)
    report = []
    for flow in program.flows.values():
        places: dict[str, Span] = {}
        seen = visited[flow.id] & set(flow.nodes)
        missing = tuple(node for node in flow.nodes if node not in seen)
        places.update({node: flow.nodes[node].span for node in missing})
        choices: list[str] = []
        for node in flow.nodes.values():
            for choice in coverable_choices(program, node):
                name = f"{node.id}:{choice}"
                choices.append(name)
                places[name] = _choice_span(node, choice)
        missing_choices = tuple(c for c in choices if f"{flow.id}.{c}" not in picked)
        branch_arms = [arm for node in flow.nodes.values() for arm in _arms(node)]
        missing_arms = tuple(name for name, _span in branch_arms if f"{flow.id}.{name}" not in arms)
        places.update(branch_arms)
        report.append(
            FlowCoverage(
                flow.id,
                len(seen),
                len(flow.nodes),
                missing,
                len(choices) - len(missing_choices),
                len(choices),
                missing_choices,
                len(branch_arms) - len(missing_arms),
                len(branch_arms),
                missing_arms,
                {
                    name: span
                    for name, span in places.items()
                    if name in set(missing) | set(missing_choices) | set(missing_arms)
                },
            )
        )
    return report


def _choice_span(node: Node, choice_id: str) -> Span:
    for choice in node.choices:
        if choice.id == choice_id:
            return choice.span
    return node.input.span if node.input is not None else node.span


def _arms(node: Node) -> list[tuple[str, Span]]:
    """The arms of an ``if`` node, named as written: ``node: when <condition>``, ``node: else``."""
    if node.kind is not NodeKind.BRANCH:
        return []
    found = [(f"{node.id}: when {branch.when.source}", branch.span) for branch in node.branches]
    found.append((f"{node.id}: else", node.span))
    return found


def _arms_taken(program: Program, trace: Sequence[str]) -> set[str]:
    """Which arm each ``if`` in a run took, told by the node entered right after it. Where
    two arms lead to the same node, the first is counted (never one that was not taken)."""
    taken: set[str] = set()
    for index, qualified in enumerate(trace[:-1]):
        flow_id, _sep, node_id = qualified.partition(".")
        flow = program.flows.get(flow_id)
        node = flow.nodes.get(node_id) if flow is not None else None
        if node is None or node.kind is not NodeKind.BRANCH:
            continue
        after = trace[index + 1]
        transitions = [*(b.then for b in node.branches), node.otherwise]
        names = [name for name, _span in _arms(node)]
        for name, transition in zip(names, transitions, strict=True):
            if _entered(program, node, transition) == after:
                taken.add(f"{flow_id}.{name}")
                break
    return taken


def _entered(program: Program, node: Node, transition: Transition | None) -> str | None:
    """The node a transition enters first, as ``flow.node``."""
    if transition is None or transition.is_empty:
        target = program.home
        flow_id, node_id = target.flow, target.node
    elif transition.call is not None:
        flow_id, node_id = transition.call, None
    else:
        assert transition.goto is not None
        flow_id, node_id = transition.goto.flow, transition.goto.node
    flow = program.flows.get(flow_id)
    if flow is None:
        return None
    return f"{flow_id}.{node_id or flow.start}"
