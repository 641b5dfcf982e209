"""Conversation-test coverage as an HTML page: per flow, the nodes visited and the choices taken,
and what no test reaches yet. Written by ``redirection-bot test --coverage-html DIR`` and
served, live, by the studio."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from redirection_bot.authoring.conversation_coverage import (
    FlowCoverage,
    coverage_total,
    locale_coverage,
)
from redirection_bot.authoring.conversation_tests import ScriptResult
from redirection_bot.dialogue.model import Program

_STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; margin: 2rem; color: #1b1b1b; max-width: 70rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { text-align: left; padding: .3rem .8rem; border-bottom: 1px solid #ccc; vertical-align: top; }
.fail { color: #b00020; } .pass { color: #2e7d32; }
code { font-family: ui-monospace, monospace; font-size: .9em; }
"""


def coverage_html(
    coverage: Sequence[FlowCoverage],
    results: Sequence[ScriptResult],
    title: str,
    stylesheet: str | None = None,
    flow_link: str | None = None,
    program: Program | None = None,
) -> str:
    """The whole page. ``stylesheet`` links a style sheet instead of embedding one;
    ``flow_link`` (with ``{flow}``) turns flow names into links (the studio's graph)."""
    head = (
        f'<link rel="stylesheet" href="{escape(stylesheet)}">'
        if stylesheet
        else f"<style>{_STYLE}</style>"
    )
    passed = sum(1 for r in results if r.passed)
    total = coverage_total(coverage)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Coverage: {escape(title)}</title>{head}</head>",
        '<body class="coverage"><main>',
        f"<h1>Conversation test coverage: {escape(title)}</h1>",
        f"<p>{passed} of {len(results)} conversation tests pass. "
        f'Overall coverage: <strong id="coverage-total">{total.percent:.1f}%</strong> '
        f"({total.covered} of {total.total} nodes, choices and <code>if</code> arms; "
        "passing tests only).</p>",
        _summary(coverage, flow_link),
        _locales(program, results) if program is not None else "",
        _details(coverage),
        _tests(results),
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _summary(coverage: Sequence[FlowCoverage], flow_link: str | None) -> str:
    rows = []
    for flow in coverage:
        name = escape(flow.flow)
        if flow_link:
            name = f'<a href="{escape(flow_link.format(flow=flow.flow))}">{name}</a>'
        rows.append(
            f"<tr><td>{name}</td>"
            f"<td>{_bar(flow.percent)} {flow.visited}/{flow.total} ({flow.percent:.0f}%)</td>"
            f"<td>{_bar(flow.choices_percent)} {flow.choices_picked}/{flow.choices_total} "
            f"({flow.choices_percent:.0f}%)</td>"
            f"<td>{_bar(flow.branches_percent)} {flow.branches_taken}/{flow.branches_total} "
            f"({flow.branches_percent:.0f}%)</td></tr>"
        )
    nodes = sum(f.visited for f in coverage), sum(f.total for f in coverage)
    choices = sum(f.choices_picked for f in coverage), sum(f.choices_total for f in coverage)
    arms = sum(f.branches_taken for f in coverage), sum(f.branches_total for f in coverage)
    rows.append(
        f"<tr><th>all flows</th><th>{nodes[0]}/{nodes[1]}</th>"
        f"<th>{choices[0]}/{choices[1]}</th><th>{arms[0]}/{arms[1]}</th></tr>"
    )
    return (
        '<table id="coverage-summary"><thead><tr><th>flow</th><th>nodes visited</th>'
        "<th>choices taken</th><th><code>if</code> arms taken</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _locales(program: Program, results: Sequence[ScriptResult]) -> str:
    rows = "".join(
        f"<tr><td>{escape(locale)}</td><td>{_bar(figure.percent)} {figure.covered}/{figure.total} "
        f"({figure.percent:.1f}%)</td></tr>"
        for locale, figure in locale_coverage(program, results).items()
    )
    return (
        '<table id="coverage-locales"><thead><tr><th>locale</th><th>covered by the tests '
        "run in it</th></tr></thead><tbody>" + rows + "</tbody></table>"
    )


def _bar(percent: float) -> str:
    return (
        f'<meter min="0" max="100" low="50" high="99" optimum="100" value="{percent:.0f}"></meter>'
    )


def _details(coverage: Sequence[FlowCoverage]) -> str:
    items = []
    for flow in coverage:
        lines = [
            f"{label}: "
            + ", ".join(f"<code>{escape(item)}</code>" for item in flow.located(missing))
            for label, missing in (
                ("nodes not visited", flow.missing),
                ("choices not taken", flow.missing_choices),
                ("<code>if</code> arms not taken", flow.missing_branches),
            )
            if missing
        ]
        if not lines:
            continue
        items.append(f"<li><strong>{escape(flow.flow)}</strong><br>" + "<br>".join(lines) + "</li>")
    if not items:
        return "<p>Every node, choice and <code>if</code> arm is covered.</p>"
    return "<h2>Not covered yet</h2><ul>" + "".join(items) + "</ul>"


def _tests(results: Sequence[ScriptResult]) -> str:
    rows = []
    for result in results:
        if result.passed:
            verdict = '<td class="pass">PASS</td>'
            detail = ""
        else:
            verdict = '<td class="fail">FAIL</td>'
            where = result.failure_span.format() if result.failure_span else ""
            detail = f"<br><code>{escape(where)}</code> {escape(result.failure or '')}"
        rows.append(
            f"<tr>{verdict}<td>{escape(result.script.name)}<br>"
            f"<code>{escape(result.script.span.format())}</code>{detail}</td></tr>"
        )
    return "<h2>Tests</h2><table><tbody>" + "".join(rows) + "</tbody></table>"
