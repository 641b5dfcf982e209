"""The player's HTML: the conversation so far (with text keys and the nodes passed), the
buttons and text box, the commands, and where the conversation is and what it remembers."""

from __future__ import annotations

from html import escape

from redirection_bot.dialogue.model import Program, SlotValue
from redirection_bot.engine import SessionState
from redirection_bot.studio.pages import link
from redirection_bot.studio.player import Player

COMMANDS = ("back", "repeat", "help", "stop")


def player_html(player: Player, state: SessionState | None, program: Program) -> str:
    at = str(state.at) if state is not None and state.at is not None else ""
    return (
        f'<section id="player" data-player="{escape(player.id)}" data-at="{escape(at)}" '
        f'data-locale="{escape(player.locale)}"><h2>Player</h2>'
        f"{_controls(player, program)}{_transcript(player)}{_answer(player, program)}"
        f"{_state(state, program)}</section>"
    )


def _controls(player: Player, program: Program) -> str:
    locales = "".join(
        f'<option value="{escape(loc)}"{" selected" if loc == player.locale else ""}>{escape(loc)}</option>'
        for loc in program.locales
    )
    places = "".join(
        f'<optgroup label="{escape(flow.id)}">'
        + "".join(
            f'<option value="{escape(node.qualified_id)}">{escape(node.qualified_id)}</option>'
            for node in flow.nodes.values()
        )
        + "</optgroup>"
        for flow in program.flows.values()
    )
    return (
        '<div class="player-controls">'
        '<form class="player-form" data-action="restart">'
        f'<label>language <select name="locale">{locales}</select></label> '
        "<button>Start again</button></form>"
        '<form class="player-form" data-action="jump">'
        f'<label>jump to <select name="place">{places}</select></label> <button>Jump</button></form>'
        "</div>"
    )


def _transcript(player: Player) -> str:
    items = []
    for line in player.lines:
        key = (
            f'<code class="key">{escape(line.key)}</code>'
            if line.key and line.kind == "bot"
            else ""
        )
        items.append(
            f'<li class="line {escape(line.kind)}">{key}<span class="text">{escape(line.text)}</span></li>'
        )
    return f'<ol class="transcript" aria-label="the conversation">{"".join(items)}</ol>'


def _answer(player: Player, program: Program) -> str:
    buttons = "".join(
        f'<button name="choice" value="{escape(choice.id)}" title="{escape(choice.id)}">'
        f"{escape(choice.label)}</button>"
        for choice in player.choices
    )
    choices = (
        f'<form class="player-form choices" data-action="choose">{buttons}</form>'
        if buttons
        else ""
    )
    placeholder = "type an answer" if player.expects_text else "type as the person would"
    commands = "".join(
        f'<button name="command" value="{name}">{name}</button>'
        for name in COMMANDS
        if name in {c.value for c in program.commands}
    )
    languages = "".join(
        f'<button name="argument" value="{escape(loc)}">{escape(loc)}</button>'
        for loc in program.locales
        if loc != player.locale
    )
    language_form = (
        '<form class="player-form commands" data-action="language">'
        f"<span>switch language:</span> {languages}</form>"
        if languages
        else ""
    )
    return (
        f"{choices}"
        '<form class="player-form say" data-action="say">'
        f'<input name="text" autocomplete="off" aria-label="what the person types" placeholder="{placeholder}">'
        "<button>Send</button></form>"
        f'<form class="player-form commands" data-action="command"><span>commands:</span> {commands}</form>'
        f"{language_form}"
    )


def _state(state: SessionState | None, program: Program) -> str:
    if state is None:
        return '<dl class="where-now"><dt>state</dt><dd>erased</dd></dl>'
    at = state.at
    at_html = (
        f'<a href="{escape(link(at.flow, at.node, state.locale))}" class="at-link">{escape(str(at))}</a>'
        if at is not None
        else "nowhere"
    )
    stack = ", ".join(str(p) for p in state.stack) or "none"
    rows = []
    for name, declared in program.slots.items():
        value = state.slots.get(name)
        shown = _value(value)
        css = "unset" if value is None else "set"
        rows.append(
            f'<tr class="{css}" data-slot="{escape(name)}"><th scope="row">{escape(name)}</th>'
            f"<td>{escape(shown)}</td><td>{escape(declared.type.value)}</td></tr>"
        )
    return (
        '<dl class="where-now">'
        f"<dt>at</dt><dd>{at_html}</dd>"
        f"<dt>waiting for</dt><dd>{escape(state.waiting.value)}</dd>"
        f"<dt>language</dt><dd>{escape(state.locale)}</dd>"
        f"<dt>returns to</dt><dd>{escape(stack)}</dd></dl>"
        '<table class="slots"><caption>What the program remembers (slots)</caption>'
        '<thead><tr><th scope="col">slot</th><th scope="col">value</th><th scope="col">type</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _value(value: SlotValue | None) -> str:
    if value is None:
        return "not answered"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return ", ".join(value) or "(empty list)"
    return str(value)
