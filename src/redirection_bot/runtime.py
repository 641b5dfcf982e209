"""The runtime: the only async core. lock -> load -> step -> fulfil requests -> save -> render.

Connectors call ``Runtime.handle`` with a session id and an event and get back what to show.
The runtime keeps the programs that running sessions started on, so that a reload never
breaks a conversation mid-way: a session finishes on its version while that version is
loaded, and is moved to the program's home node otherwise.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from redirection_bot.actions import ActionCall, ActionRunner
from redirection_bot.dialogue.load import LoadedProgram
from redirection_bot.dialogue.model import CommandName
from redirection_bot.engine import (
    ActionRequest,
    ActionResult,
    CommandGiven,
    End,
    EngineKeys,
    Event,
    Output,
    SessionState,
    Start,
    Text,
    Turn,
    Waiting,
    new_state,
    step,
)
from redirection_bot.engine.outputs import Message
from redirection_bot.errors import ActionError, EngineError
from redirection_bot.logs import log_event, session_tag
from redirection_bot.render import Renderer, Shown, ShownMessage, plain_text
from redirection_bot.store import SessionStore, VersionConflict

DEFAULT_SESSION_TTL_SECONDS = 24 * 3600
DEFAULT_MAX_TEXT_LENGTH = 2000
MAX_ACTIONS_PER_TURN = 10


@dataclass(frozen=True, slots=True)
class Reply:
    """What one turn produced, rendered for the person's locale."""

    shown: tuple[Shown, ...]
    locale: str
    state: SessionState | None
    """The new state (None when the session was erased)."""
    trace: tuple[str, ...] = ()

    @property
    def messages(self) -> list[ShownMessage]:
        return [item for item in self.shown if isinstance(item, ShownMessage)]


@dataclass(slots=True)
class RuntimeSettings:
    session_ttl_seconds: float = DEFAULT_SESSION_TTL_SECONDS
    max_text_length: int = DEFAULT_MAX_TEXT_LENGTH


@dataclass(slots=True)
class _LockEntry:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class Runtime:
    """Handles turns for every connector of one process."""

    def __init__(
        self,
        loaded: LoadedProgram,
        store: SessionStore,
        actions: ActionRunner,
        settings: RuntimeSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._loaded = loaded
        self._versions: dict[str, LoadedProgram] = {loaded.program.version: loaded}
        self._store = store
        self._actions = actions
        self.settings = settings or RuntimeSettings()
        self._clock = clock
        self._locks: dict[str, _LockEntry] = {}

    @property
    def loaded(self) -> LoadedProgram:
        return self._loaded

    def reload(self, loaded: LoadedProgram) -> None:
        """Use a new program for new sessions; running ones finish on theirs."""
        self._loaded = loaded
        self._versions[loaded.program.version] = loaded

    # --- turns ---------------------------------------------------------------------------------

    async def handle(self, session_id: str, event: Event) -> Reply:
        """Apply one event to a session and return what to show."""
        started = self._clock()
        async with self._session_lock(session_id):
            stored = await self._store.get(session_id)
            state = self._decode(stored.data) if stored is not None else None
            version = stored.version if stored is not None else None
            if state is None:
                locale = event.locale if isinstance(event, Start) else None
                state = new_state(self._loaded.program, locale)
                version = None
            loaded = self._versions.get(state.program_version, self._loaded)
            if isinstance(event, Text) and len(event.text) > self.settings.max_text_length:
                reply = await self._too_long(session_id, loaded, state, version)
            else:
                reply = await self._turn(session_id, loaded, state, version, event)
        log_event(
            "turn handled",
            session=session_tag(session_id),
            event=type(event).__name__.lower(),
            outputs=len(reply.shown),
            duration_ms=round((self._clock() - started) * 1000, 2),
        )
        return reply

    async def _turn(
        self,
        session_id: str,
        loaded: LoadedProgram,
        state: SessionState,
        version: int | None,
        event: Event,
    ) -> Reply:
        turn = step(loaded.program, state, event)
        outputs = list(turn.outputs)
        trace = list(turn.trace)
        for _ in range(MAX_ACTIONS_PER_TURN):
            request = _pending_action(turn)
            if request is None:
                break
            result = await self._run_action(session_id, loaded, turn.state, request.action)
            turn = step(loaded.program, turn.state, result)
            outputs.extend(turn.outputs)
            trace.extend(turn.trace)
        else:
            raise EngineError("too many actions in one turn")
        erase = any(isinstance(output, End) and output.erase for output in outputs)
        if erase:
            await self._store.delete(session_id)
            final: SessionState | None = None
        else:
            await self._save(session_id, turn.state, version)
            final = turn.state
        shown = Renderer(loaded.catalog).outputs(
            [o for o in outputs if not isinstance(o, ActionRequest)], turn.state.locale
        )
        return Reply(tuple(shown), turn.state.locale, final, tuple(trace))

    async def _too_long(
        self, session_id: str, loaded: LoadedProgram, state: SessionState, version: int | None
    ) -> Reply:
        notice = Message(EngineKeys.TOO_LONG)
        turn = step(loaded.program, state, CommandGiven(CommandName.REPEAT))
        await self._save(session_id, turn.state, version)
        shown = Renderer(loaded.catalog).outputs([notice, *turn.outputs], turn.state.locale)
        return Reply(tuple(shown), turn.state.locale, turn.state, turn.trace)

    async def _run_action(
        self, session_id: str, loaded: LoadedProgram, state: SessionState, action: str
    ) -> ActionResult:
        try:
            return await self._actions.run(ActionCall(action, state, session_tag(session_id)))
        except ActionError as error:
            log_event("action failed", action=action, error=type(error.__cause__ or error).__name__)
            return ActionResult(action, failed=True)

    async def _save(self, session_id: str, state: SessionState, version: int | None) -> None:
        data = json.dumps(state.to_json(), separators=(",", ":")).encode()
        try:
            await self._store.save(session_id, data, version, self.settings.session_ttl_seconds)
        except VersionConflict:
            log_event("session conflict", session=session_tag(session_id))
            raise

    def _decode(self, data: bytes) -> SessionState | None:
        try:
            return SessionState.from_json(json.loads(data))
        except (ValueError, EngineError):
            log_event("session unreadable")
            return None

    @asynccontextmanager
    async def _session_lock(self, session_id: str) -> AsyncIterator[None]:
        entry = self._locks.setdefault(session_id, _LockEntry())
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0:
                self._locks.pop(session_id, None)

    # --- the rest of a session's life ----------------------------------------------------------

    async def state(self, session_id: str) -> SessionState | None:
        stored = await self._store.get(session_id)
        return self._decode(stored.data) if stored is not None else None

    async def erase(self, session_id: str) -> None:
        """Delete a session at once ("leave now", "erase my conversation")."""
        async with self._session_lock(session_id):
            await self._store.delete(session_id)
        log_event("session erased", session=session_tag(session_id))

    async def plan_text(self, session_id: str, action: str = "action_plan_summary") -> str | None:
        """The person's plan as plain text, built now and kept nowhere."""
        state = await self.state(session_id)
        if state is None or state.waiting is Waiting.NOT_STARTED:
            return None
        loaded = self._versions.get(state.program_version, self._loaded)
        if action not in loaded.program.actions:
            return None
        result = await self._run_action(session_id, loaded, state, action)
        if result.failed:
            return None
        shown = Renderer(loaded.catalog).outputs(list(result.messages), state.locale)
        return plain_text(shown)


def _pending_action(turn: Turn) -> ActionRequest | None:
    if turn.state.waiting is not Waiting.ACTION:
        return None
    requests: list[Output] = [o for o in turn.outputs if isinstance(o, ActionRequest)]
    last = requests[-1] if requests else None
    return last if isinstance(last, ActionRequest) else None
