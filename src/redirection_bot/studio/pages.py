"""The studio's HTML, made on the server: the page around everything, the list of problems,
the flows, a flow's graph and a node's texts. Everything shown is escaped here."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from urllib.parse import urlencode

from redirection_bot.diagnostics import Diagnostic
from redirection_bot.dialogue.model import Node, Program
from redirection_bot.studio.flow_svg import flow_edges, flow_svg
from redirection_bot.studio.texts_view import TextsContext, pending_count, texts_table
from redirection_bot.studio.watcher import Snapshot

MAX_WARNINGS_SHOWN = 200


def link(flow: str | None = None, node: str | None = None, locale: str | None = None) -> str:
    query = {k: v for k, v in (("flow", flow), ("node", node), ("locale", locale)) if v}
    return "/?" + urlencode(query) if query else "/"


def shell(title: str, body: str, active: str, snapshot: Snapshot) -> str:
    """The page around a view: header, navigation, the problems and the script."""
    program = snapshot.loaded.program if snapshot.loaded is not None else None
    name = f"{program.id} {program.version}" if program is not None else "no valid program yet"
    nav = "".join(
        f'<a href="{href}"{" aria-current=page" if key == active else ""}>{label}</a>'
        for key, href, label in (
            ("flows", "/", "Flows and player"),
            ("translations", "/translations", "Translations"),
            ("coverage", "/coverage", "Test coverage"),
        )
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · redirection-bot studio</title>"
        '<link rel="stylesheet" href="/static/studio.css">'
        '<script src="/static/studio.js" defer></script></head>'
        f'<body data-generation="{snapshot.generation}">'
        f'<header class="top"><h1>Studio <small>{escape(name)}</small></h1>'
        f"<nav>{nav}</nav>{status_badge(snapshot)}</header>"
        f'<section id="problems" aria-live="polite">{problems_html(snapshot)}</section>'
        f"{body}</body></html>\n"
    )


def status_badge(snapshot: Snapshot) -> str:
    errors, warnings = len(snapshot.errors), len(snapshot.warnings)
    if errors:
        text, css = f"{errors} error(s)", "bad"
    elif warnings:
        text, css = f"valid, {warnings} warning(s)", "warn"
    else:
        text, css = "valid", "good"
    return f'<p id="status" class="status-badge {css}" role="status">{escape(text)}</p>'


def problems_html(snapshot: Snapshot) -> str:
    """Errors (always shown) and warnings (folded), each at file:line:column."""
    errors, warnings = snapshot.errors, snapshot.warnings
    parts = []
    if errors:
        kept = " The graph and the player show the last valid version." if snapshot.loaded else ""
        parts.append(
            f'<div class="errors"><h2>The program has {len(errors)} error(s).{kept}</h2>'
            f"{_diagnostic_list(errors)}</div>"
        )
    if warnings:
        shown = warnings[:MAX_WARNINGS_SHOWN]
        more = (
            f"<p>… and {len(warnings) - len(shown)} more.</p>" if len(shown) < len(warnings) else ""
        )
        parts.append(
            f'<details class="warnings"><summary>{len(warnings)} warning(s)</summary>'
            f"{_diagnostic_list(shown)}{more}</details>"
        )
    return "".join(parts)


def _diagnostic_list(items: Sequence[Diagnostic]) -> str:
    lines = "".join(
        f'<li class="{d.severity.value}"><code class="where">{escape(d.span.format())}</code> '
        f"{escape(d.severity.value)}: {escape(d.message)}</li>"
        for d in items
    )
    return f'<ul class="diagnostics">{lines}</ul>'


def flows_nav(program: Program, current: str, locale: str) -> str:
    items = []
    for flow in program.flows.values():
        here = ' aria-current="page"' if flow.id == current else ""
        items.append(
            f'<li><a class="flow-link" data-flow="{escape(flow.id)}" '
            f'href="{escape(link(flow.id, locale=locale))}"{here}>{escape(flow.id)}</a> '
            f"<small>{len(flow.nodes)} nodes</small></li>"
        )
    return f'<nav id="flows" aria-label="flows"><h2>Flows</h2><ul>{"".join(items)}</ul></nav>'


def first_words(program: Program, context: TextsContext, locale: str, node: Node) -> str | None:
    keys = [m.key for m in node.say]
    if not keys:
        return None
    key = keys[0]
    return context.catalog.text(key, locale) if context.catalog.can_show(key, locale) else None


ZOOM_CONTROLS = (
    # Shown by studio.js (hidden without JavaScript, where they could not work).
    '<div class="graph-zoom" role="group" aria-label="zoom" hidden>'
    '<button type="button" data-zoom="out" aria-label="zoom out" title="zoom out">−</button>'
    '<output class="zoom-level" aria-live="polite">100%</output>'
    '<button type="button" data-zoom="in" aria-label="zoom in" title="zoom in">+</button>'
    '<button type="button" data-zoom="fit" title="the whole width of the flow">fit width</button>'
    '<button type="button" data-zoom="actual" aria-label="actual size" title="actual size">100%</button>'
    "</div>"
)


def graph_html(
    program: Program, context: TextsContext, flow_id: str, locale: str, selected: str | None
) -> str:
    """A flow's graph with its heading and the locale its words are shown in."""
    flow = program.flows[flow_id]
    badges = {}
    for node in flow.nodes.values():
        pending = pending_count(context, [key for _role, key in node_texts(program, node)])
        if pending:
            badges[node.id] = f"{pending} translation(s) missing or needing an update"
    svg = flow_svg(
        program,
        flow_id,
        lambda node: first_words(program, context, locale, node),
        badges,
        lambda f, n: link(f, n, locale),
        selected,
    )
    options = "".join(
        f'<option value="{escape(loc)}"{" selected" if loc == locale else ""}>{escape(loc)}</option>'
        for loc in context.locales
    )
    return (
        f'<section id="graph" data-flow="{escape(flow_id)}" data-locale="{escape(locale)}">'
        f'<div class="graph-head"><h2>{escape(flow_id)}</h2>'
        f'<form class="graph-locale" method="get" action="/">'
        f'<input type="hidden" name="flow" value="{escape(flow_id)}">'
        f'<label>words in <select name="locale">{options}</select></label>'
        f"<noscript><button>show</button></noscript></form>"
        f'<p class="where"><code>{escape(flow.span.path)}</code></p>'
        f"{ZOOM_CONTROLS}</div>"
        f'<div class="graph-scroll">{svg}</div></section>'
    )


def node_texts(program: Program, node: Node) -> list[tuple[str, str]]:
    """Every text a node can show, with what it is for."""
    rows = [("says", m.key) for m in node.say]
    if node.reask is not None:
        rows.append(("when the answer does not fit", node.reask.key))
    for choice in node.choices:
        rows.append((f"button {choice.id}", choice.label))
        if choice.words is not None:
            rows.append((f"words for {choice.id}", choice.words))
    if node.input is not None:
        declared = program.slots.get(node.input.slot)
        if declared is not None:
            rows += [(f"answer {value}", key) for value, key in declared.labels.items()]
    return rows


def node_details(
    program: Program, context: TextsContext, flow_id: str, node_id: str, locale: str
) -> str:
    node = program.flows[flow_id].nodes[node_id]
    ways = [
        f"<li>{escape(edge.label or 'then')} → "
        f'<a href="{escape(_edge_link(flow_id, edge.target, locale))}">{escape(edge.target)}</a></li>'
        for edge in flow_edges(program, flow_id)
        if edge.source == node_id
    ]
    leads = (
        f'<ul class="ways">{"".join(ways)}</ul>' if ways else "<p>The conversation stops here.</p>"
    )
    extra = []
    if node.input is not None:
        extra.append(
            f"<p>The answer goes into the slot <code>{escape(node.input.slot)}</code>.</p>"
        )
    if node.action is not None:
        extra.append(f"<p>Runs the action <code>{escape(node.action)}</code>.</p>")
    if node.handoff is not None:
        extra.append(
            f"<p>Asks for a person: {escape(node.handoff.reason)}, {escape(node.handoff.urgency.value)}.</p>"
        )
    texts = node_texts(program, node)
    table = texts_table(context, texts) if texts else "<p>This node shows no text.</p>"
    return (
        f'<section id="node-details" data-node="{escape(node.qualified_id)}">'
        f"<h2>{escape(node.qualified_id)} <small>{escape(node.kind.value)}</small></h2>"
        f'<p class="where"><code>{escape(node.span.format())}</code></p>'
        f'<form class="player-form" data-action="jump"><input type="hidden" name="place" '
        f'value="{escape(node.qualified_id)}"><button>Play from here</button></form>'
        f"{''.join(extra)}{table}<h3>Ways on</h3>{leads}</section>"
    )


def _edge_link(flow_id: str, target: str, locale: str) -> str:
    if "." in target:
        other_flow, _sep, other_node = target.partition(".")
        return link(other_flow, other_node, locale)
    return link(flow_id, target, locale)


def no_node_selected() -> str:
    return (
        '<section id="node-details"><h2>Texts</h2>'
        "<p>Choose a node in the graph to see its texts in every language side by side.</p></section>"
    )
