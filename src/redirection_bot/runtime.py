"""The runtime: the only async core. lock -> load -> screen -> step -> fulfil -> save -> render.

Connectors call ``Runtime.handle`` with a session id and an event and get back what to show.
The runtime keeps the programs that running sessions started on, so that a reload never
breaks a conversation mid-way: a session finishes on its version while that version is
loaded, and is moved to the program's home node otherwise.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from redirection_bot.actions import ActionCall, ActionRunner, AfterTurn
from redirection_bot.builtin_actions import BuiltInActions
from redirection_bot.dialogue.model import CommandName, Place
from redirection_bot.engine import (
    ActionRequest,
    ActionResult,
    ChoicePicked,
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
from redirection_bot.evaluation import (
    EvaluationCounts,
    MemoryCounts,
)
from redirection_bot.handoff.conduct import (
    SERVICES_ACTION,
    Handled,
    HandoffConduct,
    check_handoff_texts,
    picked_label,
    without_team,
)
from redirection_bot.handoff.record import Line, SessionRecord
from redirection_bot.handoff.wire import Push
from redirection_bot.ingress import Admitted, Problem, admit
from redirection_bot.logs import log_event, session_tag
from redirection_bot.program.load import LoadedProgram
from redirection_bot.render import Renderer, Shown, ShownHandoff, ShownMessage, plain_text
from redirection_bot.resume import (
    PhraseAttempt,
    PhraseKey,
    ResumeKeys,
    ResumeVault,
)
from redirection_bot.routing import Route, Routed, preempts_flow, route
from redirection_bot.store import LockingStore, SessionStore, VersionConflict, store_ready

if TYPE_CHECKING:
    from redirection_bot.handoff.desk import HandoffDesk
    from redirection_bot.handoff.machine import HandoffEvent, HandoffState, Step
    from redirection_bot.metrics import Metrics

DEFAULT_SESSION_TTL_SECONDS = 24 * 3600
DEFAULT_MAX_TEXT_LENGTH = 2000
MAX_ACTIONS_PER_TURN = 10
_NOTICES = {Problem.TOO_LONG: EngineKeys.TOO_LONG, Problem.UNREADABLE: EngineKeys.UNREADABLE}
SCREENED_AT_LEAST = 20_000
"""Characters of a message screened for risk, at least (see ``Runtime._screen``)."""


@dataclass(frozen=True, slots=True)
class HandoffView:
    """Where a session's handoff stands, for its connector: while ``active`` (a person is
    awaited or has the conversation), what is shown to the person outside their own turns
    comes on ``feed`` (``Runtime.pushes``)."""

    active: bool
    status: str
    feed: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """What one turn produced, rendered for the person's locale."""

    shown: tuple[Shown, ...]
    locale: str
    state: SessionState | None
    """The new state (None when the session was erased)."""
    trace: tuple[str, ...] = ()
    handoff: HandoffView | None = None
    """The session's handoff (None: no helpline is connected, or the session was erased)."""
    said: str | None = None
    """What the person typed, as the program read it (``ingress.admit``): what a channel
    shows as their side of the conversation. None when the event was not typed text."""

    @property
    def messages(self) -> list[ShownMessage]:
        return [item for item in self.shown if isinstance(item, ShownMessage)]


@dataclass(slots=True)
class RuntimeSettings:
    session_ttl_seconds: float = DEFAULT_SESSION_TTL_SECONDS
    max_text_length: int = DEFAULT_MAX_TEXT_LENGTH


@dataclass(frozen=True, slots=True)
class _Kept:
    """What the store holds for a session, as read at the start of the turn."""

    version: int | None = None
    """The version read (None: nothing stored yet)."""
    record: SessionRecord | None = None

    @property
    def resume(self) -> str | None:
        """The name of the copy parked under the person's resume phrase."""
        return self.record.resume if self.record is not None else None

    def keeping(self, state: SessionState, resume: str | None = None) -> SessionRecord:
        """The record to save with ``state``, keeping the handoff and the conversation."""
        if self.record is None:
            return SessionRecord(state, resume)
        return SessionRecord(
            state, resume or self.record.resume, self.record.handoff, self.record.conversation
        )


BeforeSave = Callable[[Reply], Awaitable[None]]
"""Called with a turn's reply just before the turn changes the store (``Runtime.handle``)."""


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
        resume: ResumeVault | None = None,
        metrics: Metrics | None = None,
        evaluation: EvaluationCounts | None = None,
    ) -> None:
        self._loaded = loaded
        self._versions: dict[str, LoadedProgram] = {loaded.program.version: loaded}
        self._store = store
        self.settings = settings or RuntimeSettings()
        self._clock = clock
        self._locks: dict[str, _LockEntry] = {}
        # Checked once: isinstance against a runtime-checkable protocol is slow on every turn.
        self._locking_store = store if isinstance(store, LockingStore) else None
        self._resume = resume or ResumeVault(store)
        self.metrics = metrics
        self._actions = BuiltInActions(actions, self._resume, evaluation or MemoryCounts(), metrics)
        self._conduct: HandoffConduct | None = None

    @property
    def loaded(self) -> LoadedProgram:
        return self._loaded

    def attach_handoff(self, desk: HandoffDesk) -> None:
        """Connect a helpline: requests for a person go to ``desk`` (handoff/desk.py).
        Raises ConfigError if the program lacks the texts the handoff shows."""
        check_handoff_texts(self._loaded.catalog, self._loaded.program.locales)
        self._conduct = HandoffConduct(desk, self, self.metrics)
        desk.attach(self)

    @property
    def handoff_desk(self) -> HandoffDesk | None:
        return self._conduct.desk if self._conduct is not None else None

    def reload(self, loaded: LoadedProgram) -> None:
        """Use a new program for new sessions; running ones finish on theirs."""
        self._loaded = loaded
        self._versions[loaded.program.version] = loaded

    # --- turns ---------------------------------------------------------------------------------

    async def handle(
        self, session_id: str, event: Event, before_save: BeforeSave | None = None
    ) -> Reply:
        """Apply one event to a session and return what to show. One turn, top to bottom:
        read the session, admit the message once (``ingress``), screen it, decide who takes
        it (``routing``, pure), let that part act, save, and render at the end.

        ``before_save`` gets the reply before the store is changed (saved, parked or erased),
        so that a connector can record it first: a crash after the save then loses no reply."""
        started = self._clock()
        async with self._session_lock(session_id):
            stored = await self._store.get(session_id)
            record = self._decode(stored.data) if stored is not None else None
            kept = _Kept(stored.version if stored is not None else None, record)
            if record is None:
                locale = event.locale if isinstance(event, Start) else None
                state = new_state(self._loaded.program, locale)
            else:
                state = record.state
            loaded = self._versions.get(state.program_version, self._loaded)
            admitted: Admitted | None = None
            if isinstance(event, Text):
                admitted = admit(event.text, self.settings.max_text_length)
                event, state = self._screen(loaded, state, admitted.text)
                before_save = _with_said(before_save, admitted.text.strip())
            handoff = record.handoff if self._conduct is not None and record is not None else None
            problem = admitted.problem if admitted is not None else None
            routed = route(loaded.program, state, handoff, event, problem)
            if routed.route is Route.HANDOFF:
                assert self._conduct is not None
                assert record is not None
                handled = await self._conduct.person(session_id, loaded, record, event)
                reply = await self._handed(session_id, loaded, kept, handled, before_save)
            elif routed.route is Route.NOTICE:
                assert routed.problem is not None
                reply = await self._notice(session_id, loaded, state, kept, routed, before_save)
            elif routed.route is Route.RESTORE:
                assert routed.phrase is not None
                reply = await self._restore(
                    session_id, loaded, state, kept, routed.phrase, before_save
                )
            else:
                said = self._said(loaded, state, event)
                reply = await self._turn(
                    session_id, loaded, state, kept, event, said=said, before_save=before_save
                )
            if admitted is not None:
                reply = replace(reply, said=admitted.text.strip())
        duration = self._clock() - started
        log_event(
            "turn handled",
            session=session_tag(session_id),
            event=type(event).__name__.lower(),
            outputs=len(reply.shown),
            duration_ms=round(duration * 1000, 2),
        )
        if self.metrics is not None:
            self._count(session_id, event, duration, reply)
        return reply

    def _screen(
        self, loaded: LoadedProgram, state: SessionState, text: str
    ) -> tuple[Text, SessionState]:
        """Safety before flow: screen what the person typed before the dialogue sees it.

        The engine gets the categories found (a risk pre-empts the current node) and the text
        with identifying details hidden, so that they reach no slot, state or operator. A
        message is screened up to ten times the length limit (far longer ones are refused as
        too long unless that part raises a risk), so that no message can hold up the others."""
        limit = max(SCREENED_AT_LEAST, 10 * self.settings.max_text_length)
        screening = loaded.screener.screen(text[:limit], state.locale)
        for hit in screening.hits:
            log_event(
                "risk screened",
                category=hit.category.value,
                kind="certain" if hit.certain else "check",
                reason="model" if hit.category in screening.learned else "rules",
            )
            if self.metrics is not None:
                self.metrics.safety_hit(hit.category.value)
        state = replace(state, screening_carry=screening.carry)
        return Text(screening.redacted, screening.hits), state

    # --- handoff ----------------------------------------------------------------------------------

    async def _handed(
        self,
        session_id: str,
        loaded: LoadedProgram,
        kept: _Kept,
        handled: Handled,
        before_save: BeforeSave | None = None,
    ) -> Reply:
        """Save what the handoff did with the person's event, then tell the operators."""
        assert kept.record is not None
        record = replace(kept.record, state=handled.state, handoff=handled.handoff)
        state = handled.state
        view = self._view(session_id, handled.handoff)
        reply = Reply(tuple(handled.shown), state.locale, state, tuple(handled.trace), view)
        if before_save is not None:
            await before_save(reply)
        await self._save(session_id, record, kept)
        await handled.after_save()
        return reply

    async def apply_handoff(
        self, session_id: str, event: HandoffEvent, words: str | None = None
    ) -> Step | None:
        """Apply an operator's act or a tick to a session, under its lock; what was shown to
        the person goes to their channel's feed. None: the session no longer exists. An
        operator's ``words`` come in by the same door as a person's (``ingress.admit``)."""
        conduct = self._conduct
        assert conduct is not None, "attach_handoff first"
        if words is not None:
            words = admit(words).text
        async with self._session_lock(session_id):
            stored = await self._store.get(session_id)
            record = self._decode(stored.data) if stored is not None else None
            if stored is None or record is None:
                return None
            kept = _Kept(stored.version, record)
            loaded = self._versions.get(record.state.program_version, self._loaded)
            handled = await conduct.apply(session_id, loaded, record, event, words)
            step_taken = handled.step
            unchanged = handled.handoff == record.handoff and handled.state is record.state
            if unchanged and not handled.shown and not handled.effects:
                return step_taken
            conduct.push_effect(session_id, record.handoff, handled)
            changed = replace(record, state=handled.state, handoff=handled.handoff)
            await self._save(session_id, changed, kept)
            await handled.after_save()
            return step_taken

    def place(self, target: str) -> Place | None:
        """``flow`` (its start) or ``flow.node`` in the current program, if it exists."""
        return self._loaded.program.place_named(target)

    def pushes(self, feed: str, after: str = "0") -> AsyncIterator[tuple[str, Push]]:
        """What a handoff shows the person outside their turns, after the id ``after``."""
        desk = self.handoff_desk
        assert desk is not None, "no helpline is connected"
        return desk.pushes(feed, after)

    def _view(self, session_id: str, handoff: HandoffState) -> HandoffView | None:
        desk = self.handoff_desk
        if desk is None:
            return None
        feed = desk.feed(session_id, handoff.ticket) if handoff.ticket is not None else None
        return HandoffView(handoff.active, handoff.status.value, feed)

    def _said(self, loaded: LoadedProgram, state: SessionState, event: Event) -> Line | None:
        """The person's side of the conversation an operator may read: their words (with
        identifying details hidden), or the label they picked; a message that raised a risk
        is not kept, only the categories it raised."""
        conduct = self._conduct
        if conduct is None or conduct.keeps_conversation <= 0:
            return None
        if isinstance(event, Text):
            if preempts_flow(loaded.program, event):
                categories = ", ".join(dict.fromkeys(hit.category.value for hit in event.risks))
                return ("risk", categories)
            return ("person", event.text.strip())
        if isinstance(event, ChoicePicked):
            label = picked_label(loaded, state, event.choice)
            return ("person", label) if label is not None else None
        return None

    def _count(self, session_id: str, event: Event, seconds: float, reply: Reply) -> None:
        assert self.metrics is not None
        kind = type(event).__name__.lower()
        self.metrics.turn(kind, seconds, session_tag(session_id), self._loaded.program, reply.trace)
        for item in reply.shown:
            if isinstance(item, ShownHandoff):
                self.metrics.handoff("requested", item.reason)

    async def engine_turn(
        self,
        session_id: str,
        loaded: LoadedProgram,
        state: SessionState,
        event: Event,
        after: AfterTurn | None = None,
    ) -> Turn:
        """One step of the engine, with the actions it asks for fulfilled on the way (what
        they ask for once the turn is saved goes into ``after``)."""
        turn = step(loaded.program, state, event)
        outputs = list(turn.outputs)
        trace = list(turn.trace)
        for _ in range(MAX_ACTIONS_PER_TURN):
            request = _pending_action(turn)
            if request is None:
                break
            result = await self.run_action(session_id, loaded, turn.state, request.action, after)
            turn = step(loaded.program, turn.state, result)
            outputs.extend(turn.outputs)
            trace.extend(turn.trace)
        else:
            raise EngineError("too many actions in one turn")
        return Turn(turn.state, tuple(outputs), tuple(trace))

    async def _turn(
        self,
        session_id: str,
        loaded: LoadedProgram,
        state: SessionState,
        kept: _Kept,
        event: Event,
        notice: Message | None = None,
        said: Line | None = None,
        before_save: BeforeSave | None = None,
    ) -> Reply:
        after = AfterTurn()
        turn = await self.engine_turn(session_id, loaded, state, event, after)
        outputs = [notice, *turn.outputs] if notice is not None else list(turn.outputs)
        erase = any(isinstance(output, End) and output.erase for output in outputs)
        parking = after.park_under
        shown = Renderer(loaded.catalog).outputs(
            [o for o in outputs if not isinstance(o, ActionRequest)], turn.state.locale
        )
        record = kept.keeping(turn.state)
        handled = None
        conduct = self._conduct
        services_shown = any(
            isinstance(o, ActionRequest) and o.action == SERVICES_ACTION for o in outputs
        )
        if conduct is None and not erase:
            shown = await without_team(self, session_id, loaded, turn.state, shown, services_shown)
        if conduct is not None and not erase:
            risks = (
                tuple(dict.fromkeys(hit.category.value for hit in event.risks))
                if isinstance(event, Text)
                else ()
            )
            handled = await conduct.requested(
                session_id, loaded, turn.state, record, shown, services_shown, risks
            )
            shown = handled.shown
            conversation = conduct.remember(record.conversation, said, shown)
            record = SessionRecord(turn.state, record.resume, handled.handoff, conversation)
        final = None if erase else turn.state
        view = self._view(session_id, record.handoff) if final is not None else None
        reply = Reply(tuple(shown), turn.state.locale, final, turn.trace, view)
        if before_save is not None:
            await before_save(reply)
        if erase:
            await self._store.delete(session_id)
            if kept.resume is not None:
                await self._resume.forget(kept.resume)
            if conduct is not None and kept.record is not None:
                for effect in conduct.left(session_id, kept.record):
                    await effect()
        elif parking is not None:
            await self._park(session_id, record, kept, parking)
        else:
            await self._save(session_id, record, kept)
        if handled is not None:
            await handled.after_save()
        return reply

    async def _notice(
        self,
        session_id: str,
        loaded: LoadedProgram,
        state: SessionState,
        kept: _Kept,
        routed: Routed,
        before_save: BeforeSave | None = None,
    ) -> Reply:
        """A message that cannot be taken: a polite notice, then (unless an operator has the
        conversation) where the person is, again. The words are neither kept nor passed on."""
        notice = Message(_NOTICES[routed.problem or Problem.UNREADABLE])
        if not routed.repeat:
            shown = Renderer(loaded.catalog).outputs([notice], state.locale)
            view = self._view(session_id, kept.record.handoff) if kept.record else None
            return Reply(tuple(shown), state.locale, state, (), view)
        turn = step(loaded.program, state, CommandGiven(CommandName.REPEAT))
        record = kept.keeping(turn.state)
        shown = Renderer(loaded.catalog).outputs([notice, *turn.outputs], turn.state.locale)
        view = self._view(session_id, record.handoff)
        reply = Reply(tuple(shown), turn.state.locale, turn.state, turn.trace, view)
        if before_save is not None:
            await before_save(reply)
        await self._save(session_id, record, kept)
        return reply

    async def run_action(
        self,
        session_id: str,
        loaded: LoadedProgram,
        state: SessionState,
        action: str,
        after: AfterTurn | None = None,
    ) -> ActionResult:
        """Run one action for a session through the action seam (the program's own actions,
        then rasa-sdk's); a failure becomes a failed result, logged by its type."""
        tag = session_tag(session_id)
        call = ActionCall(action, state, tag, loaded.program, after or AfterTurn())
        try:
            return await self._actions.run(call)
        except ActionError as error:
            log_event("action failed", action=action, error=type(error.__cause__ or error).__name__)
            return ActionResult(action, failed=True)

    async def _save(self, session_id: str, record: SessionRecord, kept: _Kept) -> None:
        data = record.encode()
        try:
            await self._store.save(
                session_id, data, kept.version, self.settings.session_ttl_seconds
            )
        except VersionConflict:
            log_event("session conflict", session=session_tag(session_id))
            raise

    def _decode(self, data: bytes) -> SessionRecord | None:
        try:
            return SessionRecord.decode(data)
        except EngineError:
            log_event("session unreadable")
            return None

    # --- resume phrases ------------------------------------------------------------------------

    async def _park(
        self, session_id: str, record: SessionRecord, kept: _Kept, key: PhraseKey
    ) -> None:
        # The parked copy holds the conversation's state only: no handoff, no lines kept.
        await self._resume.park(key, SessionRecord(record.state).encode())
        await self._save(
            session_id,
            SessionRecord(record.state, key.name, record.handoff, record.conversation),
            kept,
        )
        if kept.resume is not None and kept.resume != key.name:
            await self._resume.forget(kept.resume)  # a new phrase replaces the one given before

    async def _restore(
        self,
        session_id: str,
        loaded: LoadedProgram,
        state: SessionState,
        kept: _Kept,
        phrase: PhraseAttempt,
        before_save: BeforeSave | None = None,
    ) -> Reply:
        """Bring back the session parked under ``phrase``; every failure gets the same answer."""
        parked: SessionRecord | None = None
        key: PhraseKey | None = None
        if phrase.checked and await self._resume.limiter.allow(session_id):
            key = await self._resume.key_for(phrase.words)
            data = await self._resume.open(key)
            parked = self._decode(data) if data is not None else None
        repeat = CommandGiven(CommandName.REPEAT)
        if parked is None or key is None:
            log_event("resume failed", session=session_tag(session_id))
            if self.metrics is not None:
                self.metrics.resume("failed")
            return await self._turn(
                session_id,
                loaded,
                state,
                kept,
                repeat,
                Message(ResumeKeys.NOT_FOUND),
                before_save=before_save,
            )
        await self._resume.limiter.forgive(session_id)
        log_event("resume restored", session=session_tag(session_id))
        if self.metrics is not None:
            self.metrics.resume("restored")
        restored = self._versions.get(parked.state.program_version, self._loaded)
        current = kept.record or SessionRecord(parked.state)
        back = replace(current, state=parked.state, resume=key.name)
        return await self._turn(
            session_id,
            restored,
            parked.state,
            _Kept(kept.version, back),
            repeat,
            Message(ResumeKeys.RESTORED),
            before_save=before_save,
        )

    # --- locks ---------------------------------------------------------------------------------

    @asynccontextmanager
    async def _session_lock(self, session_id: str) -> AsyncIterator[None]:
        """One turn at a time per session: in this process, and across processes when the store
        can lock (Redis)."""
        entry = self._locks.setdefault(session_id, _LockEntry())
        entry.users += 1
        try:
            async with entry.lock:
                if self._locking_store is not None:
                    async with self._locking_store.lock(session_id):
                        yield
                else:
                    yield
        finally:
            entry.users -= 1
            if entry.users == 0:
                self._locks.pop(session_id, None)

    # --- the rest of a session's life ----------------------------------------------------------

    async def expire_idle(self) -> int:
        """Remove sessions idle for longer than their time to live; return how many."""
        return await self._store.expire()

    async def close(self) -> None:
        """Close the session store (the process is stopping)."""
        await self._store.close()

    async def ready(self) -> bool:
        """Whether turns can be handled now: the session store answers (for ``/readyz``)."""
        return await store_ready(self._store)

    async def state(self, session_id: str) -> SessionState | None:
        stored = await self._store.get(session_id)
        record = self._decode(stored.data) if stored is not None else None
        return record.state if record is not None else None

    async def erase(self, session_id: str) -> None:
        """Delete a session at once ("leave now", "erase my conversation"), and the copy kept
        under its resume phrase."""
        async with self._session_lock(session_id):
            stored = await self._store.get(session_id)
            record = self._decode(stored.data) if stored is not None else None
            await self._store.delete(session_id)
            if record is not None and record.resume is not None:
                await self._resume.forget(record.resume)
            if record is not None and self._conduct is not None:
                for effect in self._conduct.left(session_id, record):
                    await effect()
        log_event("session erased", session=session_tag(session_id))

    async def plan_text(self, session_id: str, action: str = "action_plan_summary") -> str | None:
        """The person's plan as plain text, built now and kept nowhere."""
        state = await self.state(session_id)
        if state is None or state.waiting is Waiting.NOT_STARTED:
            return None
        loaded = self._versions.get(state.program_version, self._loaded)
        if action not in loaded.program.actions:
            return None
        result = await self.run_action(session_id, loaded, state, action)
        if result.failed:
            return None
        shown = Renderer(loaded.catalog).outputs(list(result.messages), state.locale)
        return plain_text(shown)


def _with_said(before_save: BeforeSave | None, said: str) -> BeforeSave | None:
    """``before_save`` given the reply with what the person typed, as ``handle`` returns it."""
    if before_save is None:
        return None
    hook = before_save

    async def with_said(reply: Reply) -> None:
        await hook(replace(reply, said=said))

    return with_said


def _pending_action(turn: Turn) -> ActionRequest | None:
    if turn.state.waiting is not Waiting.ACTION:
        return None
    requests: list[Output] = [o for o in turn.outputs if isinstance(o, ActionRequest)]
    last = requests[-1] if requests else None
    return last if isinstance(last, ActionRequest) else None
