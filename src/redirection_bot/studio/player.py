"""The studio's player: conversations with the program through the real runtime, with the
author's extras (jump to any node, see where the conversation is and what it remembers).

Each player is a session of an in-memory store. When the program changes on disk, every
player moves to the new version and keeps its place, its language and the answers that
still fit; a player whose node is gone starts again, with a note saying why.
"""

from __future__ import annotations

import json
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field, replace

from redirection_bot.dialogue.model import CommandName, Program
from redirection_bot.engine import (
    ChoicePicked,
    CommandGiven,
    EngineKeys,
    Event,
    HandoffEnded,
    Place,
    SessionState,
    Start,
    Text,
    Waiting,
    new_state,
)
from redirection_bot.errors import RedirectionBotError
from redirection_bot.program.load import LoadedProgram
from redirection_bot.program.render import ShownChoice, ShownEnd, ShownHandoff, ShownMessage
from redirection_bot.store.memory import MemoryStore
from redirection_bot.turn.actions import RasaActionRunner
from redirection_bot.turn.runtime import Runtime

MAX_PLAYERS = 32
MAX_LINES = 400


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a player's transcript: ``bot``, ``person``, ``note`` or ``trace``."""

    kind: str
    text: str
    key: str | None = None


@dataclass(slots=True)
class Player:
    """One conversation in the studio and what it showed."""

    id: str
    locale: str
    lines: list[Line] = field(default_factory=list)
    choices: tuple[ShownChoice, ...] = ()
    expects_text: bool = False

    @property
    def session(self) -> str:
        return f"studio-{self.id}"

    def add(self, line: Line) -> None:
        self.lines.append(line)
        del self.lines[:-MAX_LINES]


class Players:
    """Every player of one studio, over one runtime that follows the program's changes."""

    def __init__(self, loaded: LoadedProgram) -> None:
        self._store = MemoryStore()
        self._runtime = Runtime(loaded, self._store, RasaActionRunner(loaded))
        self._players: OrderedDict[str, Player] = OrderedDict()

    @property
    def program(self) -> Program:
        return self._runtime.loaded.program

    @property
    def loaded(self) -> LoadedProgram:
        return self._runtime.loaded

    def get(self, player_id: str) -> Player | None:
        found = self._players.get(player_id)
        if found is not None:
            self._players.move_to_end(player_id)
        return found

    async def create(self, locale: str | None) -> Player:
        chosen = locale if locale in self.program.locales else self.program.default_locale
        player = Player(secrets.token_urlsafe(9), chosen)
        self._players[player.id] = player
        while len(self._players) > MAX_PLAYERS:
            _old_id, old = self._players.popitem(last=False)
            await self._runtime.erase(old.session)
        await self._turn(player, Start(chosen))
        return player

    async def state(self, player: Player) -> SessionState | None:
        return await self._runtime.state(player.session)

    # --- what the author does ----------------------------------------------------------------

    async def say(self, player: Player, text: str) -> None:
        player.add(Line("person", text))
        await self._turn(player, Text(text))

    async def choose(self, player: Player, choice: str) -> None:
        label = next((c.label for c in player.choices if c.id == choice), choice)
        player.add(Line("person", label, key=choice))
        await self._turn(player, ChoicePicked(choice))

    async def command(self, player: Player, name: str, argument: str | None = None) -> None:
        try:
            command = CommandName(name)
        except ValueError:
            player.add(Line("note", f"there is no command `{name}`"))
            return
        player.add(Line("note", f"command: {command.value}" + (f" {argument}" if argument else "")))
        await self._turn(player, CommandGiven(command, argument))

    async def restart(self, player: Player, locale: str | None) -> None:
        chosen = locale if locale in self.program.locales else player.locale
        await self._runtime.erase(player.session)
        player.add(Line("note", f"started again in `{chosen}`"))
        await self._turn(player, Start(chosen))

    async def jump(self, player: Player, place: str) -> None:
        """Continue the conversation at any node, keeping what it remembers."""
        flow_id, _sep, node_id = place.partition(".")
        flow = self.program.flows.get(flow_id)
        if flow is None or (node_id and node_id not in flow.nodes):
            player.add(Line("note", f"there is no node `{place}`"))
            return
        target = Place(flow_id, node_id or flow.start)
        state = await self.state(player) or new_state(self.program, player.locale)
        # The engine's way to continue a conversation at a given node is the end of a human
        # handoff; the studio puts the session in that state, then sends the event.
        await self._save(
            player,
            replace(
                state,
                waiting=Waiting.HANDOFF,
                at=target,
                stack=(),
                pending_action=None,
                program_version=self.program.version,
            ),
        )
        player.add(Line("note", f"jumped to {target}"))
        await self._turn(player, HandoffEnded(resume_at=target), skip=EngineKeys.HANDOFF_ENDED)

    # --- when the program changes ------------------------------------------------------------

    async def follow(self, loaded: LoadedProgram) -> None:
        """Move every player to a new version of the program, keeping places where it can."""
        self._runtime = Runtime(loaded, self._store, RasaActionRunner(loaded))
        program = loaded.program
        for player in list(self._players.values()):
            state = await self.state(player)
            if state is None:
                continue
            at = state.at
            if at is not None and not _exists(program, at):
                player.add(Line("note", f"the program changed and {at} is gone: started again"))
                await self._runtime.erase(player.session)
                await self._turn(player, Start(player.locale))
                continue
            locale = state.locale if state.locale in program.locales else program.default_locale
            slots = {
                name: value
                for name, value in state.slots.items()
                if name in program.slots and program.slots[name].accepts(value)
            }
            stack = tuple(p for p in state.stack if _exists(program, p))
            await self._save(
                player,
                replace(
                    state,
                    program_version=program.version,
                    locale=locale,
                    slots=slots,
                    stack=stack,
                    history=(),
                ),
            )
            player.locale = locale
            where = f"; still at {at}" if at is not None else ""
            player.add(Line("note", f"the program changed{where}"))
            if state.waiting is Waiting.ANSWER and CommandName.REPEAT in program.commands:
                await self._turn(player, CommandGiven(CommandName.REPEAT))

    # --- the runtime -------------------------------------------------------------------------

    async def _save(self, player: Player, state: SessionState) -> None:
        stored = await self._store.get(player.session)
        data = json.dumps(state.to_json(), separators=(",", ":")).encode()
        await self._store.save(
            player.session,
            data,
            stored.version if stored is not None else None,
            self._runtime.settings.session_ttl_seconds,
        )

    async def _turn(self, player: Player, event: Event, skip: str | None = None) -> None:
        try:
            reply = await self._runtime.handle(player.session, event)
        except RedirectionBotError as error:
            player.add(Line("note", f"the conversation stopped: {error}"))
            return
        if reply.trace:
            player.add(Line("trace", " → ".join(reply.trace)))
        shown = list(reply.shown)
        first = shown[0] if shown else None
        if skip is not None and isinstance(first, ShownMessage) and first.key == skip:
            shown = shown[1:]
        choices: tuple[ShownChoice, ...] = ()
        expects_text = False
        for item in shown:
            if isinstance(item, ShownMessage):
                player.add(Line("bot", item.text, item.key))
                choices, expects_text = item.choices or choices, item.expects_text
            elif isinstance(item, ShownHandoff):
                player.add(Line("note", f"a person is asked for ({item.reason}, {item.urgency})"))
            elif isinstance(item, ShownEnd):
                erased = " and was erased" if item.erase else ""
                player.add(Line("note", f"the conversation ended{erased}"))
        player.choices = choices
        player.expects_text = expects_text
        player.locale = reply.locale


def _exists(program: Program, position: Place) -> bool:
    flow = program.flows.get(position.flow)
    return flow is not None and position.node in flow.nodes
