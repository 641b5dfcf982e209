"""Carrying out what the machines ask: the one executor of a turn's effects.

The dialogue engine and the handoff machine are pure: they ask (run this action, tell the
person this, open a ticket, resume the program) and ``Effects`` does it, for both:

- the engine's actions, through the ``ActionRunner`` seam, until the engine waits again
  (``engine``); the fallback (the services, then a short safety plan);
- the handoff machine's outputs (``handoff``): what it tells the person becomes messages
  (rendered with the engine's, at the edge), ``ResumeBot`` an engine step, and what concerns
  others (the desk record, the operators' topic, the person's feed) effects run once the
  session is saved;
- the save itself (``settle``): saved, parked under a resume phrase, or erased, and then
  those effects, so an operator acting on another instance finds the session as the person
  left it.

It is given everything it needs when built; it calls nothing back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from redirection_bot.dialogue.graph import interrupting_flows
from redirection_bot.dialogue.model import (
    CHILD_RISK_SUFFIX,
    COUNTRY_SLOT,
    CRISIS_WAITING_SLOT,
    ELSEWHERE_SUFFIX,
    HARM_TAKEN_SLOT,
    HELPLINE_SLOT,
    HERE_SUFFIX,
    REPEATED_SUFFIX,
    REQUESTED_SLOT,
    SUICIDAL_SUFFIX,
    TAKEN_SUFFIX,
    TOPICS_SLOT,
    UNDER_18_SLOT,
    CommandName,
    HandoffReason,
    HandoffUrgency,
    Program,
)
from redirection_bot.engine import (
    ActionRequest,
    ActionResult,
    CommandGiven,
    Event,
    HandoffEnded,
    HandoffRequest,
    Label,
    Message,
    Output,
    SessionState,
    Turn,
    Waiting,
    step,
)
from redirection_bot.engine.evolve import evolve
from redirection_bot.errors import ActionError, EngineError
from redirection_bot.handoff.conduct import BeforeSave, Effect, Handled
from redirection_bot.handoff.machine import (
    AskAgain,
    Duplicate,
    ForwardToOperator,
    ForwardToPerson,
    GiveFallback,
    HandoffKeys,
    HandoffState,
    HandoffStatus,
    OpenTicket,
    ResumeBot,
    ShareConversation,
    Step,
    TellPerson,
    TicketChange,
    UpdateTicket,
)
from redirection_bot.handoff.record import SessionRecord
from redirection_bot.handoff.wire import (
    ConversationShared,
    DeskEvent,
    PersonWrote,
    Push,
    TicketChanged,
    TicketOpened,
)
from redirection_bot.operations.logs import log_event, session_tag
from redirection_bot.program.render import OperatorWords, Said, Shown
from redirection_bot.safety.categories import CRISES, RiskCategory
from redirection_bot.store import SessionStore, StoreUnavailable, VersionConflict
from redirection_bot.store.resume import PhraseKey, ResumeVault
from redirection_bot.turn.actions import ActionCall, ActionRunner, AfterTurn
from redirection_bot.turn.recent import RecentRecords

if TYPE_CHECKING:
    from redirection_bot.handoff.appointments import AppointmentBook
    from redirection_bot.handoff.desk import HandoffDesk
    from redirection_bot.operations.metrics import Metrics
    from redirection_bot.program.load import LoadedProgram

MAX_ACTIONS_PER_TURN = 10
SERVICES_ACTION = "action_services"


@dataclass(frozen=True, slots=True)
class Kept:
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
        return evolve(self.record, state=state, resume=resume or self.record.resume)


class Effects:
    """Carries out what the engine and the handoff machine ask (see the module's description);
    the conduct's ``Executor``."""

    def __init__(
        self,
        store: SessionStore,
        resume: ResumeVault,
        actions: ActionRunner,
        desk: HandoffDesk | None,
        metrics: Metrics | None,
        ttl_for: Callable[[SessionState], float],
        appointments: AppointmentBook | None = None,
        tells_helpline: bool = True,
    ) -> None:
        self.store = store
        self.helpline_connected = desk is not None if tells_helpline else None
        """What the program is told in ``helpline_connected`` before every step (None: nothing,
        its default stands: conversation tests play the program as a helpline would)."""
        self.appointments = appointments
        """Leaving cancels the booking made with the words given (its place is freed)."""
        self.resume = resume
        self.actions = actions
        self.desk = desk
        self.metrics = metrics
        self.ttl_for = ttl_for
        """How long a session at a state is kept (``RuntimeSettings.ttl_for``)."""
        self.records = RecentRecords()
        """Every session record is encoded here and read back through here."""

    # --- the engine ------------------------------------------------------------------------------

    async def engine(
        self,
        session_id: str,
        loaded: LoadedProgram,
        state: SessionState,
        event: Event,
        after: AfterTurn | None = None,
        requested: bool = False,
    ) -> Turn:
        """One step of the engine, with the actions it asks for run on the way (what they ask
        for once the turn is saved goes into ``after``); ``requested``: a request for a person
        is open."""
        turn = step(loaded.program, self.told(loaded.program, state, requested), event)
        picked = turn.picked
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
        return Turn(turn.state, tuple(outputs), tuple(trace), picked)

    def told(self, program: Program, state: SessionState, requested: bool = False) -> SessionState:
        """``state`` with what the runtime tells the program before a step, where the program
        declares the slot: whether a helpline is connected (``helpline_connected``), and
        whether a request for a person is open (``person_requested``)."""
        told = {REQUESTED_SLOT: requested}
        if self.helpline_connected is not None:
            told[HELPLINE_SLOT] = self.helpline_connected
        changed = {
            name: value
            for name, value in told.items()
            if name in program.slots and state.slots.get(name) is not value
        }
        return evolve(state, slots={**state.slots, **changed}) if changed else state

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
            return await self.actions.run(call)
        except ActionError as error:
            log_event("action failed", action=action, error=type(error.__cause__ or error).__name__)
            return ActionResult(action, failed=True)

    async def fallback(
        self,
        session_id: str,
        loaded: LoadedProgram,
        state: SessionState,
        services_shown: bool,
        reason: HandoffReason | None = None,
        plan: bool = True,
    ) -> list[Said]:
        """The services for the person's country and language (unless the turn showed them
        already), then (unless ``plan`` is false) a short safety plan (``safety_plan_key``)."""
        said: list[Said] = []
        if not services_shown and SERVICES_ACTION in loaded.program.actions:
            result = await self.run_action(session_id, loaded, state, SERVICES_ACTION)
            if not result.failed:
                said.extend(result.messages)
        if plan:
            said.append(safety_plan(loaded, state, reason))
        return said

    async def without_team(
        self, session_id: str, loaded: LoadedProgram, state: SessionState, outputs: Sequence[Said]
    ) -> tuple[list[Said], SessionState]:
        """A turn that asked for a person where no helpline is connected: right after the
        request, the person is told honestly that nobody can join, and given the fallback.
        At a later request in the same conversation, more briefly (``NO_TEAM_AGAIN``, where
        the program has it), with the services but not the short plan again. The state
        returned remembers that it was said."""
        at = next((i for i, item in enumerate(outputs) if isinstance(item, HandoffRequest)), None)
        if at is None or not loaded.catalog.can_show(HandoffKeys.NO_TEAM, state.locale):
            return list(outputs), state
        key, again, state = said_once(loaded, state, HandoffKeys.NO_TEAM, HandoffKeys.NO_TEAM_AGAIN)
        asked = outputs[at]
        reason = asked.reason if isinstance(asked, HandoffRequest) else None
        shown = services_shown(outputs)
        told: list[Said] = [Message(key)]
        told.extend(await self.fallback(session_id, loaded, state, shown, reason, plan=not again))
        return [*outputs[: at + 1], *told, *outputs[at + 1 :]], state

    # --- the handoff machine ---------------------------------------------------------------------

    async def handoff(
        self,
        session_id: str,
        loaded: LoadedProgram,
        record: SessionRecord,
        handled: Handled,
        taken: Step,
        words: str | None,
        services_shown: bool = False,
        risks: tuple[str, ...] = (),
    ) -> None:
        """Do what one step of the handoff machine asks; ``handled`` collects it."""
        desk = self._desk()
        before = handled.handoff
        handled.handoff = taken.state
        after = taken.state
        service = after.service or before.service or desk.service_for(handled.state.locale)
        brief = False
        for output in taken.outputs:
            if isinstance(output, TellPerson):
                told = output
                if output.key == HandoffKeys.NOBODY_AVAILABLE:
                    # A second time in a conversation, briefly and without the short plan (the
                    # twenty-eighth retest: the whole block again).
                    key, brief, handled.state = said_once(
                        loaded, handled.state, output.key, HandoffKeys.NOBODY_AVAILABLE_AGAIN
                    )
                    told = replace(output, key=key)
                handled.said.append(told.message)
            elif isinstance(output, OpenTicket):
                handled.effects.extend(self._open(session_id, loaded, handled, service, output))
            elif isinstance(output, UpdateTicket):
                handled.effects.append(self._update(handled, before, after, service, output))
            elif isinstance(output, GiveFallback):
                reason = output.crisis or after.reason or before.reason
                # Over a crisis in hand, its services where its flow has chosen them
                # (``service_topics``: crisis lines after thoughts of suicide), never every kind
                # at its check question; the twenty-third retest: the plan said "or a crisis
                # line" and named none.
                chosen = bool(handled.state.slots.get(TOPICS_SLOT))
                shown = services_shown or (output.crisis is not None and not chosen)
                handled.said.extend(
                    await self.fallback(
                        session_id, loaded, handled.state, shown, reason, plan=not brief
                    )
                )
            elif isinstance(output, AskAgain):
                again = CommandGiven(CommandName.REPEAT)
                requested = handled.handoff.active
                turn = await self.engine(
                    session_id, loaded, handled.state, again, requested=requested
                )
                handled.state = turn.state
                handled.said.extend(turn.outputs)
            elif isinstance(output, ResumeBot):
                event = HandoffEnded(output.resume_at, output.crises)
                turn = await self.engine(session_id, loaded, handled.state, event)
                handled.state = turn.state
                handled.trace.extend(turn.trace)
                handled.said.extend(turn.outputs)
            elif isinstance(output, ForwardToPerson):
                handled.said.append(OperatorWords(after.operator or "", (words or "").strip()))
            elif isinstance(output, ForwardToOperator):
                assert after.ticket is not None
                wrote = PersonWrote(after.ticket, words or "", risks)
                handled.effects.append(_announce(desk, service, wrote))
            elif isinstance(output, ShareConversation):
                assert after.ticket is not None
                shared = ConversationShared(after.ticket, record.conversation)
                handled.effects.append(_announce(desk, service, shared))
            elif isinstance(output, Duplicate):
                log_event(
                    "handoff unchanged",
                    session=session_tag(session_id),
                    event=output.event,
                    reason=output.why,
                )

    def push(
        self, session_id: str, ticket: str | None, shown: Sequence[Shown], active: bool
    ) -> list[Effect]:
        """Send what an operator's act or a tick showed to the person's channel (after saving)."""
        desk = self._desk()
        if not shown or ticket is None:
            return []
        feed = desk.feed(session_id, ticket)
        push = Push(tuple(shown), active)
        return [lambda: desk.push(feed, push)]

    def left(self, session_id: str, record: SessionRecord) -> list[Effect]:
        """The session is being erased: tell the operators, drop the ticket and its feed, and
        the person's words to operators from the desk's topics (``forget_words``)."""
        desk = self.desk
        if desk is None:
            return []
        handoff = record.handoff

        async def forget_words() -> None:
            await desk.forget_words(session_id)

        if not handoff.active or handoff.ticket is None:
            return [forget_words]
        ticket = handoff.ticket
        service = handoff.service or desk.service_for(record.state.locale)
        change = TicketChanged(
            ticket, TicketChange.LEFT, _urgency(handoff), _risks(record.state, handoff), None
        )
        reason = handoff.reason or HandoffReason.OTHER

        async def tell() -> None:
            await desk.changed(ticket, None)
            await desk.announce(service, change)
            await desk.forget_feed(desk.feed(session_id, ticket))
            self._count(TicketChange.LEFT, reason)

        return [tell, forget_words]

    def _desk(self) -> HandoffDesk:
        assert self.desk is not None, "no helpline is connected"
        return self.desk

    def _open(
        self,
        session_id: str,
        loaded: LoadedProgram,
        handled: Handled,
        service: str,
        output: OpenTicket,
    ) -> list[Effect]:
        desk = self._desk()
        handoff, state = handled.handoff, handled.state
        ticket = output.ticket
        requested_at = handoff.requested_at or desk.clock()
        urgency = _urgency(handoff)
        reason = handoff.reason or HandoffReason.OTHER
        asked_in = handoff.flow or "unknown"
        safety_flows = {route.flow for route in loaded.program.safety}

        async def write_ticket() -> None:
            await desk.opened(ticket, session_id, service, urgency, requested_at)

        async def announce_ticket() -> None:
            situation = await desk.situation(service, ticket, urgency)
            opened = TicketOpened(
                ticket=ticket,
                service=service,
                locale=state.locale,
                reason=reason,
                urgency=urgency,
                module=_module(loaded, state, asked_in),
                asked_in=asked_in,
                risks=_risks(state, handoff),
                requested_at=requested_at,
                fallback_given=handoff.fallback_given,
                position=situation.queue_position,
            )
            await desk.announce(service, opened)
            self._count(HandoffStatus.WAITING, reason)
            # Nothing of the risk: the line comes in the same millisecond as the turn's, whose
            # tag it would tie "suicide" to (the forty-seventh attack: a tag on this line; the
            # fifty-sixth: the timestamps; docs/operators.md, Logs). The reason and urgency are
            # counted in the metrics; a safety flow's name is not logged either.
            flow = asked_in.partition(":")[0]
            if flow in safety_flows:
                log_event("handoff requested")
            else:  # "appointment", never its slot (docs/safety.md: logs never carry a slot)
                log_event("handoff requested", flow=flow)

        return [BeforeSave(write_ticket), announce_ticket]

    def _update(
        self,
        handled: Handled,
        before: HandoffState,
        after: HandoffState,
        service: str,
        output: UpdateTicket,
    ) -> Effect:
        desk = self._desk()
        ticket, what = output.ticket, output.what
        current = after if after.ticket == ticket else before
        urgency = _urgency(current)
        reason = current.reason or before.reason or HandoffReason.OTHER
        change = TicketChanged(
            ticket, what, urgency, _risks(handled.state, current), after.operator_ref
        )
        status: HandoffStatus | None
        if what.ends_ticket:
            status = None
        elif after.status is HandoffStatus.WITH_OPERATOR:
            status = HandoffStatus.WITH_OPERATOR
        else:
            status = HandoffStatus.WAITING
        requeued_at = after.requested_at if what is TicketChange.REQUEUED else None

        async def update() -> None:
            await desk.changed(ticket, status, after.operator_ref, urgency, requeued_at)
            await desk.announce(service, change)
            self._count(what, reason)

        return update

    def _count(self, state: str, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.handoff(state, reason)

    # --- the save, and what follows it -----------------------------------------------------------

    async def settle(
        self,
        session_id: str,
        kept: Kept,
        record: SessionRecord | None,
        effects: Sequence[Effect] = (),
        park_under: PhraseKey | None = None,
        forget_saved: bool = False,
    ) -> bool:
        """Save ``record`` (under a resume phrase when the turn gave one; None: erase the
        session and its ticket, and with ``forget_saved`` its parked copy), then run
        ``effects``. Whether a booking the parked copy held was cancelled with it."""
        cancelled = False
        # A ticket first, then the session that waits for it (``BeforeSave``).
        for early in [effect for effect in effects if isinstance(effect, BeforeSave)]:
            await early()
        effects = [effect for effect in effects if not isinstance(effect, BeforeSave)]
        if record is None:
            self.records.forget(session_id)
            # The parked copy first: the session names it, so if the store fails between the
            # two, a retry still finds the session and erases both (erasing the session first
            # left the copy for its words to open while a retry said "erased").
            if forget_saved and kept.resume is not None:
                await self.resume.forget(kept.resume)
                if self.appointments is not None:
                    cancelled = await self.appointments.forget_parked(kept.resume)
            await self.store.delete(session_id)
            if kept.record is not None:
                effects = [*self.left(session_id, kept.record), *effects]
        elif park_under is not None:
            await self._park(session_id, record, kept, park_under)
        else:
            # With nothing left to do, the save may end the session's lock in the same step.
            await self.save(session_id, record, kept, final=not effects)
        for effect in effects:
            try:
                await effect()
            except StoreUnavailable as error:
                # The turn is saved and its reply stands: what follows it (a ticket announced
                # to the operators, a feed forgotten) failing must not turn that reply into
                # "something went wrong", a crisis turn's emergency advice with it (the
                # fifty-sixth attack). A waiting ticket the desk holds still gets its
                # fallback on time (``HandoffDesk.run``).
                log_event("turn effect failed", error=type(error).__name__)
        return cancelled

    async def save(
        self, session_id: str, record: SessionRecord, kept: Kept, *, final: bool = False
    ) -> None:
        try:
            await self.store.save(
                session_id,
                self.records.encode(session_id, record),
                kept.version,
                self.ttl_for(record.state),
                final=final,
            )
        except VersionConflict:
            log_event("session conflict", session=session_tag(session_id))
            raise

    async def _park(
        self, session_id: str, record: SessionRecord, kept: Kept, key: PhraseKey
    ) -> None:
        # The parked copy holds the conversation's state only: no handoff, no lines kept, and
        # not last time's ratings: the slots parked now are the next visit's "last time".
        parked = replace(record.state, earlier={})
        await self.resume.park(key, SessionRecord(parked).encode())
        await self.save(
            session_id,
            replace(record, resume=key.name),
            kept,
        )
        if kept.resume is not None and kept.resume != key.name:
            # A new phrase replaces the one given before. A place the old words hold goes with
            # the new ones (words to continue later); booking again frees the earlier place.
            await self.resume.forget(kept.resume)
            if self.appointments is not None:
                await self.appointments.move_parked(kept.resume, key.name)


def services_shown(outputs: Sequence[Said]) -> bool:
    """Whether the turn ran the services action already (the fallback does not repeat it)."""
    return any(isinstance(o, ActionRequest) and o.action == SERVICES_ACTION for o in outputs)


def _pending_action(turn: Turn) -> ActionRequest | None:
    if turn.state.waiting is not Waiting.ACTION:
        return None
    requests: list[Output] = [o for o in turn.outputs if isinstance(o, ActionRequest)]
    last = requests[-1] if requests else None
    return last if isinstance(last, ActionRequest) else None


def _announce(desk: HandoffDesk, service: str, event: DeskEvent) -> Effect:
    return lambda: desk.announce(service, event)


def _urgency(handoff: HandoffState) -> HandoffUrgency:
    return handoff.urgency or HandoffUrgency.NORMAL


def _risks(state: SessionState, handoff: HandoffState) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*state.risks, *handoff.risks)))


def _module(loaded: LoadedProgram, state: SessionState, asked_in: str) -> str:
    """The part of the program the person was in: the innermost place outside the flows that
    interrupt (safety flows, the help flow, and what they call): the operator wants to know
    what they interrupted."""
    interrupting = interrupting_flows(loaded.program)
    places = [state.at] if state.at is not None else []
    places.extend(reversed(state.stack))
    for place in places:
        if place is not None and place.flow not in interrupting:
            return place.flow
    return asked_in


def said_once(
    loaded: LoadedProgram, state: SessionState, key: str, again: str
) -> tuple[str, bool, SessionState]:
    """``key`` the first time in a conversation (the state remembers it, ``told``), ``again``
    (said more briefly) after, where the program has it: the key to say, whether it is the
    brief one, and the state."""
    if key not in state.told:
        return key, False, evolve(state, told=(*state.told, key))
    if not loaded.catalog.can_show(again, state.locale):
        return key, False, state
    return again, True, state


def safety_plan(
    loaded: LoadedProgram, state: SessionState, reason: HandoffReason | None
) -> Message:
    """The short safety plan (``safety_plan_key``); its variants (``in_variants``) say what
    to do now where harm is already done, with the country's numbers."""
    return Message(safety_plan_key(loaded, state, reason))


def in_variants(loaded: LoadedProgram, state: SessionState, said: Sequence[Said]) -> Sequence[Said]:
    """``said`` with each message that has a variant for the person's situation said in it:
    ``_taken`` where something was already taken (``HARM_TAKEN_SLOT``: "call now, even if
    you feel fine", never "if you might act", the sixteenth retest; nor "thank you for
    talking with them" as an operator leaves, nor a plain "I didn't understand", the
    twenty-seventh), then in the country's variant (``with_local_numbers``)."""
    suffixes = situation_suffixes(state)
    if suffixes:
        can_show = loaded.catalog.can_show

        def varied(item: Said) -> Said:
            if not isinstance(item, Message):
                return item
            suffix = next((s for s in suffixes if can_show(item.key + s, state.locale)), None)
            return item if suffix is None else replace(item, key=item.key + suffix)

        said = [varied(item) for item in said]
    return with_local_numbers(loaded, state, said)


def said_again(
    loaded: LoadedProgram, state: SessionState, said: Sequence[Said]
) -> tuple[list[Said], SessionState]:
    """``said`` with each message that has a ``_repeated`` variant said in full the first time
    in the conversation (the state remembers it, ``told``) and in that variant after; never
    where the person's situation has a variant of its own (``situation_suffixes``: something
    taken is always told in full)."""
    can_show = loaded.catalog.can_show
    suffixes = situation_suffixes(state)
    told = list(state.told)
    result: list[Said] = []
    for item in said:
        if (
            isinstance(item, Message)
            and can_show(item.key + REPEATED_SUFFIX, state.locale)
            and not any(can_show(item.key + suffix, state.locale) for suffix in suffixes)
        ):
            if item.key in told:
                result.append(replace(item, key=item.key + REPEATED_SUFFIX))
                continue
            told.append(item.key)
        result.append(item)
    if len(told) == len(state.told):
        return result, state
    return result, evolve(state, told=tuple(told))


def situation_suffixes(state: SessionState) -> tuple[str, ...]:
    """The variants that hold for the person, in order: ``_taken`` where something was taken
    (``HARM_TAKEN_SLOT``), ``_suicidal`` where a suicidal crisis was confirmed in this
    conversation and nothing is known to be taken, ``_child_risk`` where a child at risk was
    (``SessionState.confirmed``)."""
    taken = state.slots.get(HARM_TAKEN_SLOT) is True
    held = (
        (TAKEN_SUFFIX, taken),
        (SUICIDAL_SUFFIX, not taken and RiskCategory.SUICIDE.value in state.confirmed),
        (CHILD_RISK_SUFFIX, RiskCategory.CHILD_AT_RISK.value in state.confirmed),
    )
    return tuple(suffix for suffix, holds in held if holds)


def with_local_numbers(
    loaded: LoadedProgram, state: SessionState, said: Sequence[Said]
) -> Sequence[Said]:
    """``said``, where the person's country is known, with each message that has a variant
    for it said in that variant: ``_here`` with the country's emergency numbers in it
    (``%{numbers}``), never "call 112 or 911" to a person who said they are in Canada, nor
    two messages before "999 · 112" (the sixteenth and eighteenth retests); ``_elsewhere``
    for a country the program does not list, never Colombia's and Mexico's numbers to a
    person in Venezuela (the eighteenth retest)."""
    country = state.slots.get(COUNTRY_SLOT)
    if not isinstance(country, str):
        return said
    numbers = loaded.services.emergency_numbers(country.upper())
    suffix = HERE_SUFFIX if numbers is not None else ELSEWHERE_SUFFIX
    added = {"numbers": Label(numbers.key)} if numbers is not None else {}
    can_show = loaded.catalog.can_show
    return [
        replace(item, key=item.key + suffix, params={**item.params, **added})
        if isinstance(item, Message) and can_show(item.key + suffix, state.locale)
        else item
        for item in said
    ]


def safety_plan_key(
    loaded: LoadedProgram, state: SessionState, reason: HandoffReason | None
) -> str:
    """The short safety plan shown when nobody can join: the one written for the request's
    reason, or else for a crisis confirmed earlier in the conversation
    (``SessionState.confirmed``), where the program has one (``handoff.safety_plan_suicide``:
    the person's own safety, nothing about children); else the general one. After "i want to
    die", a request for a person got the general plan, about urges and children nearby (an
    outside tester's finding). A request made for a crisis takes that crisis's plan or the
    general one, never another crisis's confirmed in the same turn (a person alone with a
    child who also wants to die: the plan about the child, then the suicide questions; the
    twenty-seventh retest)."""
    crisis = reason is not None and reason.value in {category.value for category in CRISES}
    young = state.slots.get(UNDER_18_SLOT) is True
    # A crisis's check question left waiting for the request (``CRISIS_WAITING_SLOT``): its
    # plan, as for one confirmed.
    waiting = state.slots.get(CRISIS_WAITING_SLOT)
    asked = (waiting,) if isinstance(waiting, str) else ()
    for cause in (reason,) if crisis else (reason, *state.confirmed, *asked):
        key = f"{HandoffKeys.SAFETY_PLAN}_{cause}"
        if young and cause != RiskCategory.SUICIDE.value:
            continue  # a young person's plan, never the one about keeping away from a child
        if cause is not None and loaded.catalog.can_show(key, state.locale):
            return key
    # A young person (said to be under 18): their own plan, where the program has one (the
    # forty-fifth retest: a 16-year-old hurt at home, handed back by an operator with nobody
    # free, got "if a child is near you and your thoughts worry you").
    minor = f"{HandoffKeys.SAFETY_PLAN}_{RiskCategory.MINOR.value}"
    if young and loaded.catalog.can_show(minor, state.locale):
        return minor
    return HandoffKeys.SAFETY_PLAN
