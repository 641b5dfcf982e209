"""Prometheus metrics: aggregates only, served on a separate admin listener.

Counted here, written out by prometheus_client when scraped (loaded only then).

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

import bisect
import itertools
import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from aiohttp import web

from redirection_bot.dialogue.model import Node, NodeKind, Program
from redirection_bot.operations.outcomes import OutcomeExport
from redirection_bot.operations.partners import Funnel

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

_LABEL = re.compile(r"[a-z0-9_]{1,48}\Z")
ACTIVE_WINDOW_SECONDS = 15 * 60.0
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_FORGET_AFTER = 1024
"""Sessions remembered as active before the inactive ones are first forgotten (then twice as
many as were left), so that the count stays bounded without anybody scraping it."""


class UnsafeLabel(ValueError):
    """A metric label value that is not a short word from a closed set."""


def _label(value: str) -> str:
    if not _LABEL.match(value):
        raise UnsafeLabel("metric labels are short lower-case words")
    return value


class Counted:
    """A counter, by the values of its labels (checked by ``_label``)."""

    __slots__ = ("counts", "help", "label_names", "name")

    def __init__(self, name: str, help_text: str, label_names: Sequence[str] = ()) -> None:
        self.name, self.help, self.label_names = name, help_text, tuple(label_names)
        self.counts: dict[tuple[str, ...], float] = {} if label_names else {(): 0.0}

    def inc(self, *values: str) -> None:
        key = tuple(_label(value) for value in values)
        self.counts[key] = self.counts.get(key, 0.0) + 1.0


class Timed:
    """A histogram of durations in seconds."""

    __slots__ = ("buckets", "counts", "help", "name", "total")

    def __init__(self, name: str, help_text: str, buckets: Sequence[float]) -> None:
        self.name, self.help, self.buckets = name, help_text, tuple(buckets)
        self.counts = [0] * (len(self.buckets) + 1)  # the last: above every bucket
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, seconds)] += 1
        self.total += seconds


class Metrics:
    """The bot's metrics, counted here, per ``Metrics`` (so that tests and several runtimes in
    one process never mix). prometheus_client writes them out when they are asked for, and
    is loaded only then: a bot without its admin listener never loads it."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._recent: dict[str, float] = {}
        self._forget_at = _FORGET_AFTER
        self.turns = Counted("redirection_bot_turns", "Turns handled.", ["event"])
        self.turn_seconds = Timed(
            "redirection_bot_turn_seconds",
            "Time to handle one turn, store included.",
            _LATENCY_BUCKETS,
        )
        self.module_starts = Counted(
            "redirection_bot_module_starts", "Modules started.", ["module"]
        )
        self.module_completions = Counted(
            "redirection_bot_module_completions",
            "Modules completed (left for another module by its own way on).",
            ["module"],
        )
        self.safety_hits = Counted(
            "redirection_bot_safety_hits", "Messages screened as a risk.", ["category"]
        )
        self.handoffs = Counted(
            "redirection_bot_handoffs",
            "Handoff changes, by state reached and reason.",
            ["state", "reason"],
        )
        self.resume_phrases = Counted(
            "redirection_bot_resume_phrases",
            "Resume phrases given, and attempts to come back.",
            ["outcome"],
        )
        self.store_unavailable = Counted(
            "redirection_bot_store_unavailable",
            "Turns refused because the session store could not be reached.",
        )

    # --- what the runtime reports ------------------------------------------------------------

    def turn(
        self, event: str, seconds: float, session_tag: str, program: Program, trace: Sequence[str]
    ) -> None:
        """One turn: ``session_tag`` (a keyed hash) only counts active sessions, never a label."""
        self.turns.inc(event)
        self.turn_seconds.observe(seconds)
        now = self._clock()
        self._recent[session_tag] = now
        if len(self._recent) >= self._forget_at:
            self._forget_inactive(now)
            self._forget_at = max(_FORGET_AFTER, 2 * len(self._recent))
        for started in modules_started(program, trace):
            self.module_starts.inc(started)
        for completed in modules_completed(program, trace):
            self.module_completions.inc(completed)

    def safety_hit(self, category: str) -> None:
        self.safety_hits.inc(category)

    def handoff(self, state: str, reason: str) -> None:
        self.handoffs.inc(state, reason)

    def resume(self, outcome: str) -> None:
        self.resume_phrases.inc(outcome)

    def _forget_inactive(self, now: float) -> None:
        cutoff = now - ACTIVE_WINDOW_SECONDS
        for tag in [tag for tag, seen in self._recent.items() if seen < cutoff]:
            del self._recent[tag]

    def active_sessions(self) -> int:
        """Sessions with a turn in the last ``ACTIVE_WINDOW_SECONDS``."""
        self._forget_inactive(self._clock())
        return len(self._recent)

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format."""
        from prometheus_client import CollectorRegistry, generate_latest  # noqa: PLC0415

        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Collector(self))
        return generate_latest(registry)


class _Collector:
    """The metrics as prometheus_client's families, made when scraped."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import (  # noqa: PLC0415
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        m = self.metrics
        for counted in (
            m.turns,
            m.module_starts,
            m.module_completions,
            m.safety_hits,
            m.handoffs,
            m.resume_phrases,
            m.store_unavailable,
        ):
            family = CounterMetricFamily(counted.name, counted.help, labels=counted.label_names)
            for values, count in counted.counts.items():
                family.add_metric(list(values), count)
            yield family
        timed = m.turn_seconds
        cumulative = list(itertools.accumulate(timed.counts))
        bounds = [repr(bound) for bound in timed.buckets] + ["+Inf"]  # as Prometheus writes them
        yield HistogramMetricFamily(
            timed.name,
            timed.help,
            buckets=list(zip(bounds, cumulative, strict=True)),
            sum_value=timed.total,
        )
        yield GaugeMetricFamily(
            "redirection_bot_sessions_active",
            "Sessions with a turn on this instance in the last 15 minutes.",
            value=m.active_sessions(),
        )


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
        from prometheus_client.exposition import CONTENT_TYPE_LATEST  # noqa: PLC0415

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
