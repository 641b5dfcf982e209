"""The runtime: one turn top to bottom. lock -> read -> admit -> screen -> route -> act -> save
-> render.

Connectors call ``Runtime.handle`` with a session id and an event and get back what to show.
The runtime keeps the programs that running sessions started on, so that a reload never
breaks a conversation mid-way: a session finishes on its version while that version is
loaded, and is moved to the program's home node otherwise.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from redirection_bot.dialogue.model import CommandName, HandoffReason, HandoffUrgency, Place
from redirection_bot.engine import (
    CameBack,
    ChoicePicked,
    CommandGiven,
    End,
    EngineKeys,
    Event,
    HandoffRequest,
    Label,
    SessionState,
    Start,
    Text,
    Waiting,
    crisis_in_view,
    new_state,
    offered_choice,
    step,
)
from redirection_bot.engine.outputs import ChoiceOption, Message
from redirection_bot.engine.step import (
    COMMAND_CHOICE_PREFIX,
    asked_command,
    came_back,
    is_slot_value,
    numbered_choice,
    typed_answer,
    typed_choice,
)
from redirection_bot.engine.taken_signs import with_taken_signs
from redirection_bot.errors import EngineError
from redirection_bot.handoff.appointments import Arrival
from redirection_bot.handoff.conduct import Effect, HandoffConduct, check_handoff_texts
from redirection_bot.handoff.machine import HandoffState, choice_from_id
from redirection_bot.handoff.record import Line, SessionRecord
from redirection_bot.handoff.wire import Push
from redirection_bot.operations.evaluation import (
    EvaluationCounts,
    MemoryCounts,
)
from redirection_bot.operations.logs import log_enabled, log_event, session_tag
from redirection_bot.operations.outcomes import OutcomeExport
from redirection_bot.operations.partners import (
    FOLLOWED,
    Funnel,
    FunnelStage,
    PartnerSettings,
    stages_reached,
)
from redirection_bot.program.load import LoadedProgram
from redirection_bot.program.render import (
    Renderer,
    Said,
    Shown,
    ShownHandoff,
    ShownMessage,
    plain_text,
)
from redirection_bot.safety.categories import RiskCategory, RiskHit
from redirection_bot.store import (
    LockingStore,
    SessionLost,
    SessionStore,
    StoreUnavailable,
    kept_since,
    store_ready,
)
from redirection_bot.store.encrypted import EncryptedStore
from redirection_bot.store.resume import (
    PUBLIC_CHECK,
    PhraseAttempt,
    PhraseCheck,
    PhraseKey,
    ResumeKeys,
    ResumeVault,
)
from redirection_bot.turn.actions import ActionRunner, AfterTurn
from redirection_bot.turn.appointment_actions import (
    AGAIN_NODE,
    APPOINTMENT_FLOW,
    CONTINUE_CHOICE,
    AppointmentActions,
    AppointmentKeys,
)
from redirection_bot.turn.builtin_actions import BuiltInActions
from redirection_bot.turn.effects import Effects, Kept, in_variants, said_again, services_shown
from redirection_bot.turn.ingress import Admitted, Problem, admit
from redirection_bot.turn.routing import (
    Route,
    Routed,
    asked_slot,
    leaving_command,
    phrase_attempt,
    preempts_flow,
    pressed_to_operator_choice,
    route,
    with_operator,
)
from redirection_bot.turn.screening_lane import ScreeningLane
from redirection_bot.turn.session_lock import LockEntry, SessionLock
from redirection_bot.work_lane import LaneFull

if TYPE_CHECKING:
    from redirection_bot.handoff.appointments import AppointmentBook
    from redirection_bot.handoff.desk import HandoffDesk
    from redirection_bot.handoff.machine import HandoffEvent, Step
    from redirection_bot.operations.metrics import Metrics
    from redirection_bot.safety.screen import Screening

DEFAULT_SESSION_TTL_SECONDS = 24 * 3600
DEFAULT_UNTOUCHED_TTL_SECONDS = 30 * 60
DEFAULT_MAX_TEXT_LENGTH = 2000
READY_WITHIN_SECONDS = 1.0
"""How long ``Runtime.ready`` waits for the session store to answer."""
_NOTICES = {Problem.TOO_LONG: EngineKeys.TOO_LONG, Problem.UNREADABLE: EngineKeys.UNREADABLE}
_STAGE_NAMES = frozenset(FunnelStage)
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
    """The person's side of the conversation, as the program read it: what they typed
    (``ingress.admit``, then screening, so with identifying details hidden as in the store),
    or the label of the choice they picked (``Runtime._picked``), also when they picked it by
    typing. None for other events, or a choice not offered where they were."""

    @property
    def messages(self) -> list[ShownMessage]:
        return [item for item in self.shown if isinstance(item, ShownMessage)]


@dataclass(slots=True)
class RuntimeSettings:
    session_ttl_seconds: float = DEFAULT_SESSION_TTL_SECONDS
    untouched_ttl_seconds: float = DEFAULT_UNTOUCHED_TTL_SECONDS
    """How long a conversation the person has only opened is kept (``SessionState.untouched``,
    at most ``session_ttl_seconds``): opening costs nothing, so a script opening conversations
    by the thousand fills the store for this long, not for a day (docs/operators.md)."""
    max_text_length: int = DEFAULT_MAX_TEXT_LENGTH
    assume_helpline: bool = False
    """Play the program as if a helpline were connected: the runtime does not tell it in
    ``helpline_connected`` that none is (conversation tests, unless a test says otherwise)."""

    def ttl_for(self, state: SessionState) -> float:
        """How long a conversation at ``state`` is kept from its last turn."""
        if state.untouched:
            return min(self.untouched_ttl_seconds, self.session_ttl_seconds)
        return self.session_ttl_seconds

    @property
    def screened_length(self) -> int:
        """How much of a message is screened: ten times the length limit, at least
        ``SCREENED_AT_LEAST``, so that a risk in a text refused as too long is still found
        (a channel should let that much through, for the person to be told it is too long)."""
        return max(SCREENED_AT_LEAST, 10 * self.max_text_length)


@dataclass(slots=True)
class _Acted:
    """What the part that took the event did: what to show (rendered), the state after it,
    the record to save (None: nothing to save) and what follows the save."""

    kept: Kept
    """What the record is saved over (a restored session's, after a resume phrase)."""
    shown: list[Shown]
    state: SessionState
    record: SessionRecord | None = None
    trace: tuple[str, ...] = ()
    effects: list[Effect] = field(default_factory=list)
    park_under: PhraseKey | None = None
    erase: bool = False
    """The person left ("leave now"): the session and its ticket go."""
    forget_saved: bool = False
    """The person erased everything: the copy parked under their resume words goes too."""
    picked: ChoiceOption | None = None
    """The answer the engine found picked (``Turn.picked``), so it is not looked for again."""


BeforeSave = Callable[[Reply], Awaitable[None]]
"""Called with a turn's reply just before the turn changes the store (``Runtime.handle``)."""


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
        desk: HandoffDesk | None = None,
        appointments: AppointmentBook | None = None,
        partners: PartnerSettings | None = None,
    ) -> None:
        """``desk``: the helpline's desk (handoff/desk.py), when one is connected; requests
        for a person go there. ``appointments``: the slots and bookings, when the service
        offers appointments. ``partners``: the platforms whose links open the program's
        partner door, each with its funnel counted beside the evaluation counts. Raises
        ConfigError if the program lacks the texts the handoff shows."""
        self._loaded = loaded
        self._versions: dict[str, LoadedProgram] = {loaded.program.version: loaded}
        self._store = store
        self.settings = settings or RuntimeSettings()
        self._clock = clock
        self._locks: dict[str, LockEntry] = {}
        # Checked once: isinstance against a runtime-checkable protocol is slow on every turn.
        self._locking_store = store if isinstance(store, LockingStore) else None
        self._resume = resume or ResumeVault(store)
        self.screening_lane = ScreeningLane()
        self.metrics = metrics
        self.appointments = appointments
        booking = AppointmentActions(appointments, self._resume) if appointments else None
        counts = evaluation or MemoryCounts()
        self.partners = partners or PartnerSettings()
        self.funnel = Funnel(counts, self.partners.suppress_below)
        self.outcomes = OutcomeExport(counts)
        builtin = BuiltInActions(actions, self._resume, counts, metrics, booking)
        self._effects = Effects(
            store,
            self._resume,
            builtin,
            desk,
            metrics,
            self.settings.ttl_for,
            appointments,
            tells_helpline=not self.settings.assume_helpline,
        )
        self._conduct: HandoffConduct | None = None
        if desk is not None:
            check_handoff_texts(loaded.catalog, loaded.program.locales)
            self._conduct = HandoffConduct(desk, self._effects)

    @property
    def loaded(self) -> LoadedProgram:
        return self._loaded

    @property
    def store(self) -> SessionStore:
        """The session store (sealed when it leaves the process), for what a connector keeps
        beside the conversations (a REST client's answers to replay)."""
        return self._store

    def channel_keys(self, purpose: str) -> tuple[bytes, ...]:
        """Keys for a channel's own keyed hashes, newest first, derived from the store's keys:
        the same on every instance sharing the store, and after a restart. None (empty) for a
        store without keys (in memory)."""
        if isinstance(self._store, EncryptedStore):
            return self._store.keyring.derived(purpose)
        return ()

    @property
    def handoff_desk(self) -> HandoffDesk | None:
        return self._effects.desk

    def reload(self, loaded: LoadedProgram) -> None:
        """Use a new program for new sessions; running ones finish on theirs."""
        self._loaded = loaded
        self._versions[loaded.program.version] = loaded

    # --- turns ---------------------------------------------------------------------------------

    async def handle(
        self,
        session_id: str,
        event: Event,
        known: bool = False,
        before_save: BeforeSave | None = None,
        key: str | None = None,
        redraw: bool = False,
    ) -> Reply:
        """Apply one event to a session and return what to show: one turn, top to bottom (the
        numbers are those of docs/architecture.md, "One turn"). ``known``: the channel knows
        the store held the session; raise SessionLost if it no longer does. ``before_save``
        gets the reply before the store is changed (saved, parked or erased), so that a
        connector can record it first: a crash after the save then loses no reply. ``key``:
        the message's own key (a REST ``Idempotency-Key``), saved with the turn; a message
        whose key the session's last turn saved was applied already, and only shows again
        where the conversation is. ``redraw``: ``event`` (``repeat``) only draws a page again
        (reloaded where another instance drew it, or after a restart), not the person's
        doing: nothing is saved."""
        started = self._clock()
        if isinstance(event, Start) and event.partner is not None:
            event = self._door(event)
        async with self._session_lock(session_id):  # 1. lock
            kept = await self._read(session_id)  # 2. read
            if known and kept.record is None:
                raise SessionLost("the store no longer holds this session")
            if key is not None and kept.record is not None and kept.record.applied == key:
                event, key = CommandGiven(CommandName.REPEAT), None  # applied: never twice
            if kept.record is None:
                locale = event.locale if isinstance(event, Start) else None
                state = new_state(self._loaded.program, locale)
            else:
                state = kept.record.state
            loaded = self._versions.get(state.program_version, self._loaded)
            admitted: Admitted | None = None
            phrases = await self._resume.phrase_check()
            if isinstance(event, Text):
                admitted = admit(event.text, self.settings.max_text_length)  # 3. admit
                event, state = await self._screen(loaded, state, admitted.text, phrases)  # 4.
            handoff = kept.record.handoff if self._conduct and kept.record else None
            if with_operator(handoff):
                event = self._for_the_operator(loaded, state, event)
            problem = admitted.problem if admitted is not None else None
            routed = route(loaded.program, state, handoff, event, problem, phrases)  # 5. route
            acted = await self._act(session_id, loaded, state, kept, event, routed)  # 6. act
            if acted.record is not None and (acted.record.partner or isinstance(event, Start)):
                acted.record = await self._follow_partner(loaded, event, acted.record, acted.trace)
            if (
                isinstance(event, Text)
                and acted.picked is not None
                and is_slot_value(loaded.program, state, acted.picked.id)
            ):
                # A value typed in one's own words (a place, a number) is shown back as that
                # value, as if pressed: nothing else of them is kept ("im in the uk, in leeds
                # near the hospital" is "United Kingdom" in the transcript).
                said: str | None = self._picked(
                    loaded, state, handoff, acted.picked.id, acted.picked
                )
            elif isinstance(event, Text):
                # As screened: identifying details hidden, as in the store (not as typed);
                # an answer pressed for the operator, its label; also when taken as one of
                # the question's answers ("no me dejes sola porfa"
                # was shown as "Yes, I'm in danger now", "kinda" as "I'm not sure": words
                # put in the person's mouth, the twenty-second and twenty-third retests).
                said = event.text.strip()
            elif isinstance(event, ChoicePicked):
                said = self._picked(loaded, state, handoff, event.choice, acted.picked)
            else:
                said = None
            reply = self._reply(session_id, kept, acted, said)  # 7. the reply (acted.shown)
            if redraw and kept.record is not None:
                # A page drawn again (reloaded where another instance drew it, its plan read
                # there, or after a restart): nothing saved, so that the conversation is as it
                # was. One only opened stays only opened, and its first answer still goes to
                # a copy (``fork``; the forty-second attack: drawn at a second instance, a
                # given-out address was answered in place); the page drawn at the first
                # instance is still the current question's (the forty-third: its next press
                # was refused as out of date after a read at the other).
                reply = replace(reply, state=state)
            elif acted.erase or acted.record is not None:  # 8. save, then what follows it
                if before_save is not None:
                    await before_save(reply)
                record = None if acted.erase else acted.record
                if record is not None and key is not None:
                    record = replace(record, applied=key)
                await self._effects.settle(
                    session_id,
                    acted.kept,
                    record,
                    acted.effects,
                    acted.park_under,
                    forget_saved=acted.forget_saved,
                )
        duration = self._clock() - started
        # The session's tag is made once, for the log line and the metrics, and the line only
        # when it is written (its fields are safe by construction: a tag, a class name, numbers).
        tag = session_tag(session_id) if log_enabled() or self.metrics is not None else ""
        if log_enabled():
            log_event(
                "turn handled",
                session=tag,
                event=type(event).__name__.lower(),
                outputs=len(reply.shown),
                duration_ms=round(duration * 1000, 2),
            )
        if self.metrics is not None:
            self._count(tag, event, duration, reply)
        return reply

    async def _screen(
        self, loaded: LoadedProgram, state: SessionState, text: str, phrases: PhraseCheck
    ) -> tuple[Text, SessionState]:
        """Safety before flow: screen what the person typed before the dialogue sees it.

        The engine gets the categories found (a risk pre-empts the current node) and the text
        with identifying details hidden, so that they reach no slot, state or operator. A
        message is screened up to ten times the length limit (far longer ones are refused as
        too long unless that part raises a risk), so that no message can hold up the others.
        The state keeps what the message weighed for each category (numbers, never words), so
        that the next one is read in context."""
        limit = self.settings.screened_length
        # An answer the program offers ("keep my place", "eight") is the program's own words,
        # and so are resume words it gave (random words from its list, with the right check
        # word: "grasp yelp lived elm relax email" must open the copy, not ask about an
        # e-mail address): the rules still read them, the second layer does not
        # (docs/safety.md, H-R21). What earlier messages weighed (numbers, never words) is
        # read with them (H-R23).
        # A long message is screened in a worker thread, one at a time (``ScreeningLane``).
        screened = text[:limit]
        if len(text) > limit and not text[limit].isspace():
            # Never a word cut in half: its piece is not what was typed ("wo" of "words" read
            # by the second layer as a request, the twenty-fifth round's model).
            whole_words = screened.rsplit(None, 1)
            screened = whole_words[0] if len(whole_words) == 2 else screened
        if typed_choice(loaded.program, state, text):
            # Exactly an answer offered here: as pressing it, which is not screened either.
            return Text(text), state

        def screen() -> Screening:
            phrase = phrases.read(screened)
            offered = typed_answer(loaded.program, state, screened) or (
                phrase is not None and phrase.checked
            )
            return loaded.screener.screen(
                screened,
                state.locale,
                False,
                state.screening_carry,
                with_model=not offered,
                answering=asked_slot(loaded.program, state),
                in_flow=state.at.flow if state.at is not None else None,
            )

        screening = await self.screening_lane.run(len(screened), screen)
        # Counted, never logged: a line naming the category, written just before the turn's
        # own line with its session tag, told which conversation disclosed what (the
        # fourteenth attack).
        if self.metrics is not None:
            for hit in screening.hits:
                self.metrics.safety_hit(hit.category.value)
        state = replace(state, screening_carry=screening.carry)
        hits = with_taken_signs(loaded.program, state, screening.redacted, screening.hits)
        return Text(screening.redacted, hits), state

    async def _act(
        self,
        session_id: str,
        loaded: LoadedProgram,
        state: SessionState,
        kept: Kept,
        event: Event,
        routed: Routed,
    ) -> _Acted:
        """Step 6: the part the router chose takes the event."""
        if routed.route is Route.HANDOFF:
            assert self._conduct is not None
            assert kept.record is not None
            handled = await self._conduct.person(session_id, loaded, kept.record, event)
            record = replace(kept.record, state=handled.state, handoff=handled.handoff)
            shown = _shown(loaded, handled.state, handled.said)
            return _Acted(kept, shown, handled.state, record, tuple(handled.trace), handled.effects)
        if routed.route is Route.NOTICE:
            return self._notice(loaded, state, kept, routed)
        if routed.route is Route.RESTORE:
            assert routed.phrase is not None
            return await self._restore(session_id, loaded, state, kept, routed.phrase)
        said = self._said(loaded, state, event)
        return await self._turn(session_id, loaded, state, kept, event, said=said)

    async def _turn(
        self,
        session_id: str,
        loaded: LoadedProgram,
        state: SessionState,
        kept: Kept,
        event: Event,
        notice: Message | None = None,
        said: Line | None = None,
        request: HandoffRequest | None = None,
    ) -> _Acted:
        """The engine takes the event (its actions run on the way); a request for a person
        (the engine's, or ``request``: an appointment kept) goes to the handoff, or is
        answered honestly where no helpline is connected."""
        after = AfterTurn()
        requested = kept.record is not None and kept.record.handoff.active
        turn = await self._effects.engine(
            session_id, loaded, state, event, after, requested=requested
        )
        outputs: list[Said] = [notice, *turn.outputs] if notice is not None else list(turn.outputs)
        if await self._booking_moves(kept, after):
            at = next(
                (
                    i
                    for i, o in enumerate(outputs)
                    if isinstance(o, Message) and o.key == ResumeKeys.PHRASE
                ),
                len(outputs) - 1,
            )
            outputs.insert(at + 1, Message(AppointmentKeys.MOVED))
        if request is not None:
            outputs.insert(1 if notice is not None else 0, request)
        ends = [output for output in outputs if isinstance(output, End)]
        erase = any(end.erase for end in ends)
        conduct = self._conduct
        handled = None
        # The program's texts said before, briefly (``_repeated``), before the handoff's own.
        outputs, state = said_again(loaded, turn.state, outputs)
        if state is not turn.state:
            turn = replace(turn, state=state)
        if conduct is None and not erase:
            outputs, state = await self._effects.without_team(
                session_id, loaded, turn.state, outputs
            )
            if state is not turn.state:  # it was said: the state remembers (``told``)
                turn = replace(turn, state=state)
        record = kept.keeping(turn.state)
        if conduct is not None and not erase:
            risks = (
                tuple(dict.fromkeys(hit.category.value for hit in event.risks))
                if isinstance(event, Text)
                else ()
            )
            shown_services = services_shown(outputs)
            handled = await conduct.requested(
                session_id, loaded, record, outputs, shown_services, risks
            )
            outputs = handled.said
            # What the handoff remembers it said ("nobody is available": ``told``).
            turn = replace(turn, state=handled.state)
        shown = _shown(loaded, turn.state, outputs)
        if conduct is not None and handled is not None:
            # The lines an operator may read are the person's words and what was shown.
            conversation = conduct.remember(record.conversation, said, shown)
            record = replace(
                record, state=turn.state, handoff=handled.handoff, conversation=conversation
            )
        return _Acted(
            kept,
            shown,
            turn.state,
            record,
            turn.trace,
            handled.effects if handled is not None else [],
            after.park_under,
            erase,
            any(end.forget_saved for end in ends),
            turn.picked,
        )

    def _notice(
        self, loaded: LoadedProgram, state: SessionState, kept: Kept, routed: Routed
    ) -> _Acted:
        """A message that cannot be taken: a polite notice, then (unless an operator has the
        conversation) where the person is, again. The words are neither kept nor passed on."""
        notice = Message(_NOTICES[routed.problem or Problem.UNREADABLE])
        if not routed.repeat:
            return _Acted(kept, _shown(loaded, state, [notice]), state)
        requested = kept.record is not None and kept.record.handoff.active
        told = self._effects.told(loaded.program, state, requested)
        turn = step(loaded.program, told, CommandGiven(CommandName.REPEAT))
        shown = _shown(loaded, turn.state, [notice, *turn.outputs])
        return _Acted(kept, shown, turn.state, kept.keeping(turn.state), turn.trace)

    def _reply(self, session_id: str, kept: Kept, acted: _Acted, said: str | None) -> Reply:
        """Step 8: what to show (rendered in the session's locale), the new state, and the
        handoff's view for the connector."""
        if acted.erase:
            return Reply(tuple(acted.shown), acted.state.locale, None, acted.trace, None, said)
        record = acted.record or kept.record
        view = self._view(session_id, record.handoff) if record is not None else None
        return Reply(tuple(acted.shown), acted.state.locale, acted.state, acted.trace, view, said)

    async def _read(self, session_id: str) -> Kept:
        stored = await self._store.get(session_id)
        record = self._decode(stored.data, session_id) if stored is not None else None
        return Kept(stored.version if stored is not None else None, record)

    # --- handoff ----------------------------------------------------------------------------------

    async def apply_handoff(
        self, session_id: str, event: HandoffEvent, words: str | None = None
    ) -> Step | None:
        """Apply an operator's act or a tick to a session, under its lock; what was shown to
        the person goes to their channel's feed. None: the session no longer exists. An
        operator's ``words`` come in by the same door as a person's (``ingress.admit``)."""
        conduct = self._conduct
        assert conduct is not None, "no helpline is connected"
        if words is not None:
            words = admit(words).text
        async with self._session_lock(session_id):
            kept = await self._read(session_id)
            record = kept.record
            if record is None:
                return None
            loaded = self._versions.get(record.state.program_version, self._loaded)
            handled = await conduct.apply(session_id, loaded, record, event, words)
            unchanged = handled.handoff == record.handoff and handled.state is record.state
            if unchanged and not handled.said and not handled.effects:
                return handled.step
            shown = _shown(loaded, handled.state, handled.said)
            ticket = record.handoff.ticket or handled.handoff.ticket
            push = self._effects.push(session_id, ticket, shown, handled.handoff.active)
            changed = replace(record, state=handled.state, handoff=handled.handoff)
            await self._effects.settle(session_id, kept, changed, [*handled.effects, *push])
            return handled.step

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
        if isinstance(event, ChoicePicked) and state.waiting is Waiting.ANSWER:
            # Answers only: a command or a language pressed is not the person's words.
            if event.choice.startswith(COMMAND_CHOICE_PREFIX):
                return None
            label = self._picked(loaded, state, None, event.choice)
            return ("person", label) if label is not None else None
        return None

    def _for_the_operator(self, loaded: LoadedProgram, state: SessionState, event: Event) -> Event:
        """While an operator has the conversation: one of the program's answers pressed (a
        button still on the page, ``routing.pressed_to_operator_choice``) or its number typed alone
        ("6") is told to them as words, with the crisis whose question it answers; anything
        else as it came (the forty-fourth and forty-seventh retests)."""
        if isinstance(event, Text):
            numbered = numbered_choice(loaded.program, state, event.text)
            named = self._as_words(loaded, state, numbered) if numbered is not None else None
            if named is None:
                return event
            # A number may be the operator's answer too ("6 out of 10"): both are shown, never
            # one for the other.
            typed = event.text.strip()
            return replace(named, text=f"{typed} ({named.text})", risks=event.risks + named.risks)
        if isinstance(event, ChoicePicked) and pressed_to_operator_choice(event):
            return self._as_words(loaded, state, event.choice) or event
        return event

    def _as_words(self, loaded: LoadedProgram, state: SessionState, choice: str) -> Text | None:
        """The answer ``choice`` as the person's words: its label where they are, or as the
        crisis flow in view offers it at another of its questions (its label one and the same
        wherever it does), with that crisis as a certain risk; None: no answer of the program."""
        crisis = crisis_in_view(loaded.program, state.at, state.stack)
        label = self._picked(loaded, state, None, choice)
        if label is None and crisis is not None:
            label = self._crisis_answer(loaded, crisis, choice, state.locale)
        if label is None:
            return None
        return Text(label, (RiskHit(crisis),) if crisis is not None else ())

    def _crisis_answer(
        self, loaded: LoadedProgram, crisis: RiskCategory, choice_id: str, locale: str
    ) -> str | None:
        route = loaded.program.safety_route(crisis)
        flow = loaded.program.flows.get(route.flow) if route is not None else None
        if flow is None:
            return None
        labels = {
            choice.label
            for node in flow.nodes.values()
            for choice in node.choices
            if choice.id == choice_id and not choice.typed_only
        }
        if len(labels) != 1:
            return None
        (key,) = labels
        return Renderer(loaded.catalog).label(ChoiceOption(choice_id, Label(key)), locale)

    def _picked(
        self,
        loaded: LoadedProgram,
        state: SessionState,
        handoff: HandoffState | None,
        choice: str,
        found: ChoiceOption | None = None,
    ) -> str | None:
        """The label of what the person picked, as it was offered to them (by the handoff, or
        by the engine: ``found`` when its step found it), rendered in their language: the one
        place this label is made."""
        asked = choice_from_id(choice) if handoff is not None else None
        if asked is not None:
            option: ChoiceOption | None = asked.option
        elif found is not None and found.id == choice:
            option = found
        else:
            option = offered_choice(loaded.program, state, choice)
        return Renderer(loaded.catalog).label(option, state.locale) if option is not None else None

    def _count(self, tag: str, event: Event, seconds: float, reply: Reply) -> None:
        """``tag``: the session's ``session_tag``."""
        assert self.metrics is not None
        kind = type(event).__name__.lower()
        self.metrics.turn(kind, seconds, tag, self._loaded.program, reply.trace)
        for item in reply.shown:
            if isinstance(item, ShownHandoff):
                self.metrics.handoff("requested", item.reason)

    # --- partner platforms ------------------------------------------------------------------

    def _door(self, start: Start) -> Start:
        """A start through a partner's link: the partner if it is one, in its language unless
        the person chose one; otherwise a plain start, the value dropped unseen."""
        partner = self.partners.known(start.partner)
        if partner is None:
            return Start(start.locale)
        return Start(start.locale or partner.locale, partner.id)

    async def _follow_partner(
        self, loaded: LoadedProgram, event: Event, record: SessionRecord, trace: tuple[str, ...]
    ) -> SessionRecord:
        """Count the partner's funnel stages this turn reached, each once per conversation;
        the partner is forgotten once nothing more is awaited (or at a plain start)."""
        if isinstance(event, Start):
            awaiting = tuple(stage.value for stage in FOLLOWED) if event.partner else ()
            record = replace(record, partner=event.partner, awaiting=awaiting)
            partner = self.partners.known(event.partner)
            if partner is not None:
                await self.funnel.count(partner, FunnelStage.STARTED)
        partner = self.partners.known(record.partner)
        if partner is None:  # no longer declared: nothing to count it for
            return replace(record, partner=None, awaiting=())
        reached = stages_reached(loaded.program, trace)
        still: list[str] = []
        for name in record.awaiting:
            if name not in _STAGE_NAMES:
                continue
            stage = FunnelStage(name)
            if stage in reached:
                await self.funnel.count(partner, stage)
            else:
                still.append(name)
        if not still:
            return replace(record, partner=None, awaiting=())
        return replace(record, awaiting=tuple(still))

    def _decode(self, data: bytes, session_id: str | None = None) -> SessionRecord | None:
        """A stored record; ``session_id`` when it is the session's own (not a parked copy)."""
        try:
            if session_id is not None:
                return self._effects.records.decode(session_id, data)
            return SessionRecord.decode(data)
        except EngineError:
            log_event("session unreadable")
            return None

    # --- resume phrases ------------------------------------------------------------------------

    async def _restore(
        self,
        session_id: str,
        loaded: LoadedProgram,
        state: SessionState,
        kept: Kept,
        phrase: PhraseAttempt,
    ) -> _Acted:
        """Bring back the session parked under ``phrase``; every failure gets the same answer,
        but "too many phrases waiting", where nothing was tried (``ResumeKeys.BUSY``)."""
        parked: SessionRecord | None = None
        key: PhraseKey | None = None
        outcome = "failed"
        try:
            found = await self._resume.restore(session_id, phrase)
        except LaneFull:
            found, outcome = None, "busy"
        if found is not None:
            key, data = found
            parked = self._decode(data)
        repeat = CommandGiven(CommandName.REPEAT)
        if parked is None or key is None:
            log_event(f"resume {outcome}", session=session_tag(session_id))
            if self.metrics is not None:
                self.metrics.resume(outcome)
            return await self._turn(
                session_id,
                loaded,
                state,
                kept,
                repeat,
                Message(ResumeKeys.BUSY if outcome == "busy" else ResumeKeys.NOT_FOUND),
            )
        log_event("resume restored", session=session_tag(session_id))
        if self.metrics is not None:
            self.metrics.resume("restored")
        restored = self._versions.get(parked.state.program_version, self._loaded)
        state = came_back(restored.program, parked.state)
        current = kept.record or SessionRecord(state)
        back = replace(current, state=state, resume=key.name)
        welcome, request, team = await self._appointment(key.name)
        if (request is not None or welcome.key == AppointmentKeys.EARLY) and state.at == Place(
            APPOINTMENT_FLOW, AGAIN_NODE
        ):
            # Waiting for (or at) their time, "book another time" makes no sense: the person
            # goes on from where they booked.
            state = step(restored.program, state, ChoicePicked(CONTINUE_CHOICE)).state
        if team is not None and not back.handoff.active:
            back = replace(back, handoff=replace(back.handoff, service=team))
        return await self._turn(
            session_id,
            restored,
            state,
            Kept(kept.version, back),
            CameBack(),  # the program's return_entry first, then where they were
            welcome,
            request=request,
        )

    async def _booking_moves(self, kept: Kept, after: AfterTurn) -> bool:
        """Whether the turn gives new words (not by booking again) to a person whose words
        hold a place: the place goes with the new words once saved, and they are told so."""
        book, new, old = self.appointments, after.park_under, kept.resume
        if book is None or new is None or old is None or old == new.name:
            return False
        return await book.waiting_for(old) and not await book.waiting_for(new.name)

    async def _appointment(self, parked: str) -> tuple[Message, HandoffRequest | None, str | None]:
        """What a person who came back with their words is told about their appointment:
        welcome back (no appointment), how long to wait (early), that it has passed (late), or
        that the counsellor is told (on time: a request for the slot's team, marked as an
        appointment for the operators, and the service that takes it)."""
        book = self.appointments
        if book is None:
            return Message(ResumeKeys.RESTORED), None, None
        arrived = await book.arrival(parked)
        if arrived.arrival is Arrival.EARLY and arrived.slot is not None:
            wait = max(0, round((arrived.slot.start - book.clock()) / 60))
            hours, minutes = divmod(wait, 60)
            early = book.settings.early_minutes
            if hours == 0:
                told = Message(AppointmentKeys.EARLY_MINUTES, {"minutes": minutes, "early": early})
            else:
                told = Message(
                    AppointmentKeys.EARLY, {"hours": hours, "minutes": minutes, "early": early}
                )
            return told, None, None
        if arrived.arrival is Arrival.LATE:
            return Message(AppointmentKeys.LATE), None, None
        if arrived.arrival is Arrival.ON_TIME and arrived.slot is not None:
            log_event("appointment arrived")
            slot = arrived.slot
            flow = f"{APPOINTMENT_FLOW}:{slot.id}"
            request = HandoffRequest(HandoffReason.ASKED, HandoffUrgency.NORMAL, flow)
            desk = self.handoff_desk
            team = slot.team if desk is not None and slot.team in desk.services else None
            return Message(AppointmentKeys.ARRIVED), request, team
        return Message(ResumeKeys.RESTORED), None, None

    # --- locks ---------------------------------------------------------------------------------

    def _session_lock(self, session_id: str) -> SessionLock:
        """One turn at a time per session: in this process, and across processes when the store
        can lock (Redis)."""
        return SessionLock(self._locks, session_id, self._locking_store)

    # --- the rest of a session's life ----------------------------------------------------------

    async def expire_idle(self) -> int:
        """Remove sessions idle for longer than their time to live; return how many."""
        return await self._store.expire()

    async def close(self) -> None:
        """Close the session store (the process is stopping)."""
        await self._store.close()

    async def ready(self, within_seconds: float = READY_WITHIN_SECONDS) -> bool:
        """Whether turns can be handled now: the session store answers, within a second (for
        ``/readyz``: a store that hangs, Redis paused, is not ready, rather than a probe that
        hangs too)."""
        try:
            async with asyncio.timeout(within_seconds):
                return await store_ready(self._store)
        except TimeoutError:
            return False

    @property
    def shares_store(self) -> bool:
        """Whether other instances may use the same store (Redis, or an SQLite file other
        processes open too): a conversation this process holds a page for may have been
        erased there."""
        return self._locking_store is not None or bool(
            getattr(self._store, "shared_between_processes", False)
        )

    async def kept_since(self) -> float | None:
        """Since when (Unix time) the store has kept every session saved to it; None for a
        store that never loses any (``store.ForgetfulStore``). A channel that finds no session
        for a conversation it knows was opened before then tells the person it was lost."""
        return await kept_since(self._store)

    async def first_words_need_a_turn(self, text: str, locale: str | None = None) -> bool:
        """Whether the message that opens a conversation must also be taken as a turn after
        the greeting. Channels open a conversation with its first message, the greeting
        answering it (Rasa's way: "hi" needs no other answer), but no message goes unread:
        words in which screening raises anything (safety before flow: "i want to end my
        life" as the first words starts the safety flow under the greeting), resume words (a
        person coming back as a new sender or in a new room), and a message that cannot be
        taken (too long, unreadable: told, as at any other turn) are taken too."""
        loaded = self._loaded
        state = new_state(loaded.program, locale)
        admitted = admit(text, self.settings.max_text_length)
        if admitted.problem is not None:
            return True  # too long or unreadable: the person is told so after the greeting
        screened = admitted.text[: self.settings.screened_length]
        try:
            phrases = await self.phrase_check()
        except StoreUnavailable:  # the turn itself will tell the person; here, any check
            phrases = self._resume.check or PUBLIC_CHECK  # six words of the list are words
        if phrase_attempt(loaded.program, state, Text(screened), phrases) is not None:
            return True
        if asked_command(loaded.program, state.locale, screened) is not None:
            # A question the program answers ("is this thing anonymous", "im in australia, do
            # you have a number") got the greeting alone (the fifty-sixth retest).
            return True
        return await self._raises_risk(screened, state.locale)

    async def phrase_check(self) -> PhraseCheck:
        """How this service's resume phrases are checked (its secret, from the store)."""
        return await self._resume.phrase_check()

    def leaving(self, event: Event, locale: str) -> CommandName | None:
        """``stop`` or ``erase`` when ``event`` is "leave now" or "erase", pressed or typed: a
        channel that would refuse it (over the rate limit), or that cannot reach the store,
        takes it all the same."""
        return leaving_command(self._loaded.program, locale, event)

    async def raises_risk(self, text: str, locale: str | None = None) -> bool:
        """Whether screening raises anything in ``text``, read as a turn reads it (admitted,
        as far as screened) but without the conversation's context: for a channel deciding
        whether a message it would not take (its first, one over the rate limit) must be
        taken all the same."""
        screened = admit(text, self.settings.max_text_length).text
        chosen = locale or self._loaded.program.default_locale
        return await self._raises_risk(screened[: self.settings.screened_length], chosen)

    async def _raises_risk(self, screened: str, locale: str) -> bool:
        screener = self._loaded.screener
        screening = await self.screening_lane.run(
            len(screened), lambda: screener.screen(screened, locale)
        )
        return bool(screening.hits)

    async def fork(self, session_id: str, into: str) -> bool:
        """A copy under ``into`` of a conversation only opened (``SessionState.untouched``,
        no request for a person): for a page whose address others may hold, the person's
        first press goes to the copy, and what they say there is never read at the address
        given out (the fifteenth attack: whoever opened a conversation and gave its address
        away read along). False: nothing to copy (gone, or touched already)."""
        async with self._session_lock(session_id):
            kept = await self._read(session_id)
        record = kept.record
        if record is None or not record.state.untouched or record.handoff.active:
            return False
        async with self._session_lock(into):
            await self._effects.save(into, replace(record, opened_from=session_id), Kept())
        return True

    async def state(self, session_id: str) -> SessionState | None:
        stored = await self._store.get(session_id)
        record = self._decode(stored.data, session_id) if stored is not None else None
        return record.state if record is not None else None

    async def erase(self, session_id: str) -> bool:
        """Delete a session at once ("erase my conversation"), and the copy kept under its
        resume phrase; whether a booking that copy held was cancelled (the person is told)."""
        cancelled = await self._end(session_id, forget_saved=True)
        log_event("session erased", session=session_tag(session_id))
        return cancelled

    async def leave(self, session_id: str) -> None:
        """Delete a session at once ("leave now", or left idle), keeping the copy parked under
        its resume phrase: only the phrase opens it, until it expires (docs/safety.md)."""
        await self._end(session_id, forget_saved=False)
        log_event("session left", session=session_tag(session_id))

    async def _end(self, session_id: str, forget_saved: bool) -> bool:
        """Delete a session, and the conversation only opened it is a copy of (``fork``) if
        nobody has answered there since: after "erase" or "leave now", the address the page
        was first drawn at, in the device's history, is as gone as the one it moved to (the
        forty-second attack: it showed a live chat for half an hour)."""
        async with self._session_lock(session_id):
            kept = await self._read(session_id)
            cancelled = await self._effects.settle(
                session_id, Kept(None, kept.record), None, forget_saved=forget_saved
            )
        opened_from = kept.record.opened_from if kept.record is not None else None
        if opened_from is not None:
            async with self._session_lock(opened_from):
                first = await self._read(opened_from)
                if first.record is not None and first.record.state.untouched:
                    await self._effects.settle(opened_from, Kept(None, first.record), None)
        return cancelled

    async def plan_text(self, session_id: str, action: str = "action_plan_summary") -> str | None:
        """The person's plan as plain text, built now and kept nowhere."""
        state = await self.state(session_id)
        if state is None or state.waiting is Waiting.NOT_STARTED:
            return None
        loaded = self._versions.get(state.program_version, self._loaded)
        if action not in loaded.program.actions:
            return None
        result = await self._effects.run_action(session_id, loaded, state, action)
        if result.failed:
            return None
        shown = Renderer(loaded.catalog).outputs(list(result.messages), state.locale)
        return plain_text(shown)


def _shown(loaded: LoadedProgram, state: SessionState, said: Sequence[Said]) -> list[Shown]:
    """What the person sees of ``said``: in their locale, with their country's emergency
    numbers, or for something already taken, where a text has a variant for it
    (``effects.in_variants``)."""
    return Renderer(loaded.catalog).reply(in_variants(loaded, state, said), state.locale)
