"""Prometheus metrics: aggregates only, served on a separate admin listener.

No label ever carries a session, room, user or text: label names are fixed here, and label
values must be short words from closed sets (event kinds, module ids the program declares,
risk categories, handoff states and reasons), checked by ``_label``. Each ``Metrics`` has a
registry of its own, so that tests and several runtimes in one process never mix.

The admin listener (``admin_app``) answers ``/metrics``, ``/partners.csv`` (the partner
platforms' funnel, small counts suppressed: operations/partners.py) and ``/outcomes.csv`` (the
outcome measures for a research partner, as ``redirection-bot outcomes`` writes them:
operations/outcomes.py); operators bind it to localhost (the default) and let Prometheus
scrape it from there, never from the public side.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Sequence

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from redirection_bot.dialogue.model import Node, NodeKind, Program
from redirection_bot.operations.outcomes import OutcomeExport
from redirection_bot.operations.partners import Funnel

_LABEL = re.compile(r"[a-z0-9_]{1,48}\Z")
ACTIVE_WINDOW_SECONDS = 15 * 60.0
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class UnsafeLabel(ValueError):
    """A metric label value that is not a short word from a closed set."""


def _label(value: str) -> str:
    if not _LABEL.match(value):
        raise UnsafeLabel("metric labels are short lower-case words")
    return value


class Metrics:
    """The bot's metrics, in a registry of their own."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._clock = clock
        self._recent: dict[str, float] = {}
        r = self.registry
        self.turns = Counter("redirection_bot_turns", "Turns handled.", ["event"], registry=r)
        self.turn_seconds = Histogram(
            "redirection_bot_turn_seconds",
            "Time to handle one turn, store included.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.sessions_active = Gauge(
            "redirection_bot_sessions_active",
            "Sessions with a turn on this instance in the last 15 minutes.",
            registry=r,
        )
        self.sessions_active.set_function(self._count_active)
        self.module_starts = Counter(
            "redirection_bot_module_starts", "Modules started.", ["module"], registry=r
        )
        self.module_completions = Counter(
            "redirection_bot_module_completions",
            "Modules completed (left for another module by its own way on).",
            ["module"],
            registry=r,
        )
        self.safety_hits = Counter(
            "redirection_bot_safety_hits", "Messages screened as a risk.", ["category"], registry=r
        )
        self.handoffs = Counter(
            "redirection_bot_handoffs",
            "Handoff changes, by state reached and reason.",
            ["state", "reason"],
            registry=r,
        )
        self.resume_phrases = Counter(
            "redirection_bot_resume_phrases",
            "Resume phrases given, and attempts to come back.",
            ["outcome"],
            registry=r,
        )
        self.store_unavailable = Counter(
            "redirection_bot_store_unavailable",
            "Turns refused because the session store could not be reached.",
            registry=r,
        )

    # --- what the runtime reports ------------------------------------------------------------

    def turn(
        self, event: str, seconds: float, session_tag: str, program: Program, trace: Sequence[str]
    ) -> None:
        """One turn: ``session_tag`` (a keyed hash) only counts active sessions, never a label."""
        self.turns.labels(_label(event)).inc()
        self.turn_seconds.observe(seconds)
        self._recent[session_tag] = self._clock()
        for started in modules_started(program, trace):
            self.module_starts.labels(_label(started)).inc()
        for completed in modules_completed(program, trace):
            self.module_completions.labels(_label(completed)).inc()

    def safety_hit(self, category: str) -> None:
        self.safety_hits.labels(_label(category)).inc()

    def handoff(self, state: str, reason: str) -> None:
        self.handoffs.labels(_label(state), _label(reason)).inc()

    def resume(self, outcome: str) -> None:
        self.resume_phrases.labels(_label(outcome)).inc()

    def _count_active(self) -> float:
        cutoff = self._clock() - ACTIVE_WINDOW_SECONDS
        for tag in [tag for tag, seen in self._recent.items() if seen < cutoff]:
            del self._recent[tag]
        return float(len(self._recent))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def _split(qualified: str) -> tuple[str, str]:
    flow, _, node = qualified.partition(".")
    return flow, node


def modules_started(program: Program, trace: Sequence[str]) -> list[str]:
    """Flows entered at their start node during a turn."""
    started = []
    previous_flow = None
    for qualified in trace:
        flow, node = _split(qualified)
        declared = program.flows.get(flow)
        if flow != previous_flow and declared is not None and declared.start == node:
            started.append(flow)
        previous_flow = flow
    return started


def modules_completed(program: Program, trace: Sequence[str]) -> list[str]:
    """Flows left for another by their own way on: a ``return``, or a ``goto`` elsewhere."""
    completed = []
    for before, after in itertools.pairwise(trace):
        flow, node_id = _split(before)
        declared = program.flows.get(flow)
        node = declared.nodes.get(node_id) if declared is not None else None
        if node is None or _split(after)[0] == flow:
            continue
        if node.kind is NodeKind.RETURN or _goes_to_another_flow(node):
            completed.append(flow)
    return completed


def _goes_to_another_flow(node: Node) -> bool:
    transitions = [node.then, node.otherwise]
    transitions += [choice.then for choice in node.choices]
    transitions += [branch.then for branch in node.branches]
    return any(
        t is not None and t.call is None and t.goto is not None and t.goto.flow != node.flow
        for t in transitions
    )


def admin_app(
    metrics: Metrics, funnel: Funnel | None = None, outcomes: OutcomeExport | None = None
) -> web.Application:
    """The admin listener's application: ``GET /metrics``, ``GET /partners.csv`` and
    ``GET /outcomes.csv`` (``?to-date``: the running quarter too, as the command's ``--to-date``)."""

    async def serve_metrics(_request: web.Request) -> web.Response:
        response = web.Response(body=metrics.exposition())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    async def serve_funnel(_request: web.Request) -> web.Response:
        assert funnel is not None
        return web.Response(text=await funnel.export(), content_type="text/csv", charset="utf-8")

    async def serve_outcomes(request: web.Request) -> web.Response:
        assert outcomes is not None
        text = await outcomes.csv(completed_only="to-date" not in request.query)
        return web.Response(text=text, content_type="text/csv", charset="utf-8")

    app = web.Application()
    app.router.add_get("/metrics", serve_metrics)
    if funnel is not None:
        app.router.add_get("/partners.csv", serve_funnel)
    if outcomes is not None:
        app.router.add_get("/outcomes.csv", serve_outcomes)
    return app
