"""The studio's web application: ``create_app(settings) -> web.Application``.

Read-only over the program's files. Every request first looks whether a file changed (a
cheap scan of modification times) and validates again if so; the page asks for
``/api/status`` every second, so an edit shows within about a second. Everything is served
from here (no CDN, no outside request), with a content security policy that allows only
this origin, and requests naming another host are refused (no DNS rebinding).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from redirection_bot.authoring.conversation_coverage import node_coverage
from redirection_bot.authoring.conversation_tests import (
    find_test_files,
    load_scripts,
    run_script,
    tests_runtime,
)
from redirection_bot.authoring.coverage_report import coverage_html
from redirection_bot.diagnostics import Diagnostics
from redirection_bot.operations.listening import hide_software
from redirection_bot.program.load import ProgramSources
from redirection_bot.studio.pages import (
    flows_nav,
    graph_html,
    no_node_selected,
    node_details,
    problems_html,
    shell,
    status_badge,
)
from redirection_bot.studio.player import Player, Players
from redirection_bot.studio.player_view import player_html
from redirection_bot.studio.texts_view import TextsContext
from redirection_bot.studio.translations_view import translations_html
from redirection_bot.studio.watcher import ProgramWatcher
from redirection_bot.translation.status import target_locales

STATIC = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True, slots=True)
class StudioSettings:
    sources: ProgramSources
    tests: Path | None = None
    """Conversation tests for the coverage page (a file or folder)."""
    allowed_hosts: frozenset[str] | None = None
    """``Host`` headers to accept (None: any, for a studio bound to a public address)."""


class Studio:
    """The watched program and the players that follow it."""

    def __init__(
        self, settings: StudioSettings, registered_actions: Collection[str] | None
    ) -> None:
        self.settings = settings
        self.watcher = ProgramWatcher(
            settings.sources,
            registered_actions,
            extra_paths=[settings.tests] if settings.tests is not None else [],
        )
        self.players: Players | None = None
        self.lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Validate again if a file changed; move the players to a new valid program."""
        async with self.lock:
            # Validating takes a while on a big (or hostile) program: off the event loop, so
            # the page and the player stay responsive meanwhile.
            if not await asyncio.to_thread(self.watcher.refresh):
                return
            loaded = self.watcher.snapshot.loaded
            if loaded is None:
                return
            if self.players is None:
                self.players = Players(loaded)
            elif self.players.loaded is not loaded:
                replaced = self.players.loaded
                await self.players.follow(loaded)
                replaced.catalog.close()

    def texts(self) -> TextsContext | None:
        snapshot = self.watcher.snapshot
        if snapshot.loaded is None:
            return None
        program, catalog = snapshot.loaded.program, snapshot.loaded.catalog
        source = program.default_locale
        others = [
            loc
            for loc in target_locales(catalog, snapshot.records, program.locales)
            if loc != source
        ]
        return TextsContext(catalog, snapshot.records, source, (source, *others))


STUDIO = web.AppKey("studio", Studio)


def create_app(
    settings: StudioSettings, registered_actions: Collection[str] | None = None
) -> web.Application:
    app = web.Application(middlewares=[_host_check])
    app[STUDIO] = Studio(settings, registered_actions)
    app.on_response_prepare.append(_security_headers)
    hide_software(app)
    app.on_startup.append(_first_check)
    app.router.add_get("/", index)
    app.router.add_get("/translations", translations)
    app.router.add_get("/coverage", coverage)
    app.router.add_get("/api/status", status)
    app.router.add_get("/fragment/graph", graph_fragment)
    app.router.add_get("/fragment/node", node_fragment)
    app.router.add_post("/api/player", new_player)
    app.router.add_get("/api/player/{player}", show_player)
    app.router.add_post("/api/player/{player}/{action}", player_action)
    app.router.add_get("/favicon.ico", no_icon)
    app.router.add_static("/static", STATIC)
    return app


async def no_icon(_request: web.Request) -> web.Response:
    return web.Response(status=204)


async def _first_check(app: web.Application) -> None:
    """Validate once at start, so that a later error shows beside the last valid program."""
    await app[STUDIO].refresh()


@web.middleware
async def _host_check(request: web.Request, handler: Handler) -> web.StreamResponse:
    allowed = request.app[STUDIO].settings.allowed_hosts
    if allowed is not None and request.host not in allowed:
        raise web.HTTPMisdirectedRequest(text="this studio answers on its own address only")
    return await handler(request)


async def _security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)


def _html(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/html", charset="utf-8")


async def _studio(request: web.Request) -> Studio:
    studio = request.app[STUDIO]
    await studio.refresh()
    return studio


# --- pages -----------------------------------------------------------------------------------


async def index(request: web.Request) -> web.Response:
    studio = await _studio(request)
    snapshot = studio.watcher.snapshot
    texts = studio.texts()
    if snapshot.loaded is None or texts is None:
        body = (
            '<main class="empty"><p>There is no valid program yet. Fix the errors above: '
            "this page follows your changes.</p></main>"
        )
        return _html(shell("Flows", body, "flows", snapshot))
    program = snapshot.loaded.program
    flow_id = request.query.get("flow", "")
    if flow_id not in program.flows:
        flow_id = program.entry.flow
    node_id = request.query.get("node", "")
    locale = _locale(request, texts)
    details = (
        node_details(program, texts, flow_id, node_id, locale)
        if node_id in program.flows[flow_id].nodes
        else no_node_selected()
    )
    body = (
        '<main class="workspace">'
        f"{flows_nav(program, flow_id, locale)}"
        f"{graph_html(program, texts, flow_id, locale, node_id or None)}"
        f'<aside class="side">{details}'
        '<label class="follow"><input type="checkbox" id="follow" checked> '
        "the graph follows the player</label>"
        '<section id="player" data-player=""><h2>Player</h2><p>Starting…</p>'
        "<noscript><p>The player needs JavaScript.</p></noscript></section></aside></main>"
    )
    return _html(shell(flow_id, body, "flows", snapshot))


def _locale(request: web.Request, texts: TextsContext) -> str:
    wanted = request.query.get("locale", "")
    return wanted if wanted in texts.locales else texts.source_locale


async def translations(request: web.Request) -> web.Response:
    studio = await _studio(request)
    snapshot = studio.watcher.snapshot
    texts = studio.texts()
    if snapshot.loaded is None or texts is None:
        return _html(
            shell(
                "Translations",
                "<main><p>No valid program yet.</p></main>",
                "translations",
                snapshot,
            )
        )
    body = translations_html(texts, snapshot.loaded.program.locales, request.query.get("status"))
    return _html(shell("Translations", body, "translations", snapshot))


async def coverage(request: web.Request) -> web.Response:
    studio = await _studio(request)
    snapshot = studio.watcher.snapshot
    tests = studio.settings.tests
    if snapshot.loaded is None or tests is None or not tests.exists():
        text = (
            "No valid program yet."
            if snapshot.loaded is None
            else f"No conversation tests at {tests}."
        )
        return _html(shell("Coverage", f"<main><p>{text}</p></main>", "coverage", snapshot))
    loaded = snapshot.loaded
    diagnostics = Diagnostics()
    scripts = [s for path in find_test_files([tests]) for s in load_scripts(path, diagnostics)]
    runtime = tests_runtime(loaded, scripts)
    results = [await run_script(runtime, script) for script in scripts]
    title = f"{loaded.program.id} {loaded.program.version}"
    page = coverage_html(
        node_coverage(loaded.program, results),
        results,
        title,
        stylesheet="/static/studio.css",
        flow_link="/?flow={flow}",
        program=loaded.program,
    )
    return _html(page)


# --- fragments the page's script asks for ----------------------------------------------------


async def status(request: web.Request) -> web.Response:
    studio = await _studio(request)
    snapshot = studio.watcher.snapshot
    return web.json_response(
        {
            "generation": snapshot.generation,
            "valid": snapshot.valid,
            "errors": len(snapshot.errors),
            "warnings": len(snapshot.warnings),
            "badge": status_badge(snapshot),
            "problems": problems_html(snapshot),
        }
    )


async def graph_fragment(request: web.Request) -> web.Response:
    studio = await _studio(request)
    snapshot, texts = studio.watcher.snapshot, studio.texts()
    flow_id = request.query.get("flow", "")
    if snapshot.loaded is None or texts is None or flow_id not in snapshot.loaded.program.flows:
        raise web.HTTPNotFound(text="no such flow")
    program = snapshot.loaded.program
    node_id = request.query.get("node")
    return _html(graph_html(program, texts, flow_id, _locale(request, texts), node_id))


async def node_fragment(request: web.Request) -> web.Response:
    studio = await _studio(request)
    snapshot, texts = studio.watcher.snapshot, studio.texts()
    flow_id, node_id = request.query.get("flow", ""), request.query.get("node", "")
    program = snapshot.loaded.program if snapshot.loaded is not None else None
    if program is None or texts is None or flow_id not in program.flows:
        raise web.HTTPNotFound(text="no such node")
    if node_id not in program.flows[flow_id].nodes:
        return _html(no_node_selected())
    return _html(node_details(program, texts, flow_id, node_id, _locale(request, texts)))


# --- the player ------------------------------------------------------------------------------


async def new_player(request: web.Request) -> web.Response:
    studio = await _studio(request)
    form = await request.post()
    if studio.players is None:
        raise web.HTTPConflict(text="there is no valid program to play yet")
    async with studio.lock:
        player = await studio.players.create(str(form.get("locale", "")) or None)
        return await _player_response(studio.players, player)


async def show_player(request: web.Request) -> web.Response:
    studio = await _studio(request)
    players, player = _find_player(studio, request)
    async with studio.lock:
        return await _player_response(players, player)


async def player_action(request: web.Request) -> web.Response:
    studio = await _studio(request)
    players, player = _find_player(studio, request)
    form = await request.post()

    def field(name: str) -> str:
        return str(form.get(name, ""))

    action = request.match_info["action"]
    async with studio.lock:
        if action == "say":
            await players.say(player, field("text"))
        elif action == "choose":
            await players.choose(player, field("choice"))
        elif action == "command":
            await players.command(player, field("command"))
        elif action == "language":
            await players.command(player, "language", field("argument"))
        elif action == "restart":
            await players.restart(player, field("locale") or None)
        elif action == "jump":
            await players.jump(player, field("place"))
        else:
            raise web.HTTPNotFound(text="no such action")
        return await _player_response(players, player)


def _find_player(studio: Studio, request: web.Request) -> tuple[Players, Player]:
    players = studio.players
    player = players.get(request.match_info["player"]) if players is not None else None
    if players is None or player is None:
        raise web.HTTPNotFound(text="this player has ended; start a new one")
    return players, player


async def _player_response(players: Players, player: Player) -> web.Response:
    state = await players.state(player)
    return _html(player_html(player, state, players.program))
