"""The runtime's side of a handoff: what one session's handoff does in one go.

The runtime calls ``HandoffConduct`` with the session it has locked and read: after an
engine turn that asked for a person (``requested``), for the person's own event while a
handoff is on (``person``), and for an operator's act or the passing of time (``apply``).
Each answers with a ``Handled``: the session's new state and handoff, what to show the
person, and what to do once the session is saved (tell the operators, change the desk's
queue, push to the person's channel). Saving first means an operator acting on another
instance always finds the session as the person left it.

While an operator has the conversation the bot is silent: the person's words go to the
operator only, screened (the risks found annotate them) and with identifying details
already hidden by the runtime; commands other than "leave now" get one short reminder that
a person is here, and the engine is not stepped. When the handoff ends (the operator
closes, or the person goes back) the engine resumes, where the person was or where the
operator chose, with its own "you are back with the program" message.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from redirection_bot.dialogue.graph import interrupting_flows
from redirection_bot.dialogue.model import CommandName, HandoffReason, HandoffUrgency
from redirection_bot.engine import (
    ActionResult,
    ChoicePicked,
    CommandGiven,
    Event,
    HandoffEnded,
    SessionState,
    Text,
    Turn,
    typed_command,
)
from redirection_bot.errors import ConfigError
from redirection_bot.handoff.machine import (
    Asked,
    Claimed,
    Duplicate,
    ForwardToOperator,
    ForwardToPerson,
    GiveFallback,
    HandoffChoice,
    HandoffEvent,
    HandoffKeys,
    HandoffState,
    HandoffStatus,
    KeepWaiting,
    OpenTicket,
    PersonSaid,
    ResumeBot,
    RiskSeen,
    ShareConversation,
    Shared,
    Situation,
    Step,
    TellPerson,
    TicketChange,
    UpdateTicket,
    Withdrawn,
    advance,
    choice_from_id,
)
from redirection_bot.handoff.record import Line, SessionRecord
from redirection_bot.handoff.wire import (
    ConversationShared,
    DeskEvent,
    PersonWrote,
    Push,
    TicketChanged,
    TicketOpened,
)
from redirection_bot.logs import log_event, session_tag
from redirection_bot.render import (
    Renderer,
    Shown,
    ShownChoice,
    ShownHandoff,
    ShownMessage,
    ShownOperator,
)

if TYPE_CHECKING:
    from redirection_bot.handoff.desk import HandoffDesk
    from redirection_bot.i18n import Catalog
    from redirection_bot.metrics import Metrics
    from redirection_bot.program.load import LoadedProgram

SERVICES_ACTION = "action_services"
_CHOICE_EVENTS: dict[HandoffChoice, HandoffEvent] = {
    HandoffChoice.SHARE: Shared(agreed=True),
    HandoffChoice.NO_SHARE: Shared(agreed=False),
    HandoffChoice.KEEP: KeepWaiting(),
    HandoffChoice.BACK: Withdrawn(),
    HandoffChoice.END: Withdrawn(),
}

Effect = Callable[[], Awaitable[object]]


class HandoffHost(Protocol):
    """What the runtime lends the conduct: the engine with its actions fulfilled."""

    async def engine_turn(
        self, session_id: str, loaded: LoadedProgram, state: SessionState, event: Event
    ) -> Turn: ...

    async def run_action(
        self, session_id: str, loaded: LoadedProgram, state: SessionState, action: str
    ) -> ActionResult: ...


@dataclass(slots=True)
class Handled:
    """One go of a session's handoff: what to save, to show, and to do once saved."""

    state: SessionState
    handoff: HandoffState
    shown: list[Shown] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    step: Step | None = None

    async def after_save(self) -> None:
        for effect in self.effects:
            await effect()


class HandoffConduct:
    """Runs one session's handoff for the runtime (see the module's description)."""

    def __init__(
        self, desk: HandoffDesk, host: HandoffHost, metrics: Metrics | None = None
    ) -> None:
        self.desk = desk
        self.host = host
        self.metrics = metrics

    @property
    def keeps_conversation(self) -> int:
        return self.desk.config.conversation_lines

    # --- an engine turn asked for a person ------------------------------------------------------

    async def requested(
        self,
        session_id: str,
        loaded: LoadedProgram,
        state: SessionState,
        record: SessionRecord,
        shown: list[Shown],
        services_shown: bool,
        risks: Sequence[str] = (),
    ) -> Handled:
        """Open (or update) the handoff for each request of a turn; the handoff's messages
        follow the request, and the program's own question stays the last with choices.
        ``risks``: the categories screening found in the person's message, which reach the
        ticket of a request still waiting (the operators see them before they claim)."""
        handled = Handled(state, record.handoff)
        for category in risks:
            if handled.handoff.active:
                seen = advance(handled.handoff, RiskSeen(category), self._now(), self.desk.timings)
                await self._perform(session_id, loaded, record, handled, seen, None)
        result: list[Shown] = []
        for index, item in enumerate(shown):
            result.append(item)
            if not isinstance(item, ShownHandoff):
                continue
            service = handled.handoff.service or self.desk.service_for(state.locale)
            ticket = handled.handoff.ticket if handled.handoff.active else None
            situation = await self.desk.situation(service, ticket, HandoffUrgency(item.urgency))
            asked = Asked(
                self.desk.new_ticket(),
                HandoffReason(item.reason),
                HandoffUrgency(item.urgency),
                item.flow,
                service,
            )
            step = advance(handled.handoff, asked, situation, self.desk.timings)
            before = len(handled.shown)
            await self._perform(
                session_id, loaded, record, handled, step, None, services_shown=services_shown
            )
            added = handled.shown[before:]
            del handled.shown[before:]
            if _asks_later(shown[index + 1 :]):
                added = [_without_choices(extra) for extra in added]
            result.extend(added)
        handled.shown = result
        return handled

    # --- the person's own event while a handoff is on --------------------------------------------

    async def person(
        self, session_id: str, loaded: LoadedProgram, record: SessionRecord, event: Event
    ) -> Handled:
        """The handoff's answer to the person's event (``routing.route`` sent it here: an
        answer to a handoff question, or anything but "leave now" while an operator has the
        conversation; a message too long or unreadable never comes here)."""
        state = record.state
        choice = choice_from_id(event.choice) if isinstance(event, ChoicePicked) else None
        if choice is not None:
            handled = await self.apply(session_id, loaded, record, _CHOICE_EVENTS[choice])
            if handled.step is not None and not handled.step.changed:
                # A late press (the handoff is over): show where the person is instead.
                turn = await self.host.engine_turn(
                    session_id, loaded, state, CommandGiven(CommandName.REPEAT)
                )
                handled.state = turn.state
                handled.shown.extend(Renderer(loaded.catalog).outputs(turn.outputs, state.locale))
            return handled
        if isinstance(event, Text):
            handled = await self._person_wrote(session_id, loaded, record, event)
            if typed_command(loaded.program, state.locale, event.text) is not None:
                # A command typed as words ("help", "back"): the words are the operator's
                # like any others, and the person is reminded how to end the chat, as when
                # they press a command's button.
                handled.shown.extend(self._reminder(loaded, record).shown)
            return handled
        if (
            isinstance(event, CommandGiven)
            and event.command is CommandName.LANGUAGE
            and event.argument in loaded.program.locales
        ):
            assert event.argument is not None
            record = replace(record, state=replace(state, locale=event.argument))
        return self._reminder(loaded, record)

    def _reminder(self, loaded: LoadedProgram, record: SessionRecord) -> Handled:
        """A person has the conversation: one short reminder, no engine."""
        handled = Handled(record.state, record.handoff)
        told = TellPerson(HandoffKeys.WITH_OPERATOR, choices=(HandoffChoice.END,))
        handled.shown.append(self._tell(loaded, record.state.locale, told))
        return handled

    async def _person_wrote(
        self, session_id: str, loaded: LoadedProgram, record: SessionRecord, event: Text
    ) -> Handled:
        found = tuple(dict.fromkeys(hit.category.value for hit in event.risks))
        handoff = record.handoff
        state = record.state
        handled = Handled(state, handoff)
        for category in found:
            risk_step = advance(handled.handoff, RiskSeen(category), self._now(), self.desk.timings)
            await self._perform(session_id, loaded, record, handled, risk_step, None)
        if found:
            seen = dict.fromkeys(state.risks)
            seen.update(dict.fromkeys(found))
            handled.state = replace(state, risks=tuple(seen))
        said = advance(handled.handoff, PersonSaid(), self._now(), self.desk.timings)
        await self._perform(session_id, loaded, record, handled, said, event.text, risks=found)
        return handled

    # --- an operator's act, or time passing -----------------------------------------------------

    async def apply(
        self,
        session_id: str,
        loaded: LoadedProgram,
        record: SessionRecord,
        event: HandoffEvent,
        words: str | None = None,
    ) -> Handled:
        handoff = record.handoff
        if isinstance(event, Claimed):
            asks = self.keeps_conversation > 0 and bool(record.conversation)
            event = replace(event, ask_to_share=asks)
        service = handoff.service or self.desk.service_for(record.state.locale)
        situation = await self.desk.situation(service, handoff.ticket, handoff.urgency)
        step = advance(handoff, event, situation, self.desk.timings)
        handled = Handled(record.state, handoff, step=step)
        await self._perform(session_id, loaded, record, handled, step, words)
        return handled

    def push_effect(self, session_id: str, handoff: HandoffState, handled: Handled) -> None:
        """Send what an operator's act or a tick showed to the person's channel (after saving)."""
        ticket = handoff.ticket or handled.handoff.ticket
        if not handled.shown or ticket is None:
            return
        feed = self.desk.feed(session_id, ticket)
        push = Push(tuple(handled.shown), handled.handoff.active)
        handled.effects.append(lambda: self.desk.push(feed, push))

    # --- the person leaves ----------------------------------------------------------------------

    def left(self, session_id: str, record: SessionRecord) -> list[Effect]:
        """The session is being erased: tell the operators, and drop the ticket and its feed."""
        handoff = record.handoff
        if not handoff.active or handoff.ticket is None:
            return []
        ticket = handoff.ticket
        service = handoff.service or self.desk.service_for(record.state.locale)
        change = TicketChanged(
            ticket, TicketChange.LEFT, _urgency(handoff), _risks(record.state, handoff), None
        )
        reason = handoff.reason or HandoffReason.OTHER

        async def tell() -> None:
            await self.desk.changed(ticket, None)
            await self.desk.announce(service, change)
            await self.desk.forget_feed(self.desk.feed(session_id, ticket))
            self._count(TicketChange.LEFT, reason)

        return [tell]

    # --- the conversation so far ---------------------------------------------------------------

    def remember(
        self, conversation: tuple[Line, ...], said: Line | None, shown: Sequence[Shown]
    ) -> tuple[Line, ...]:
        """The last lines of the conversation, kept for an operator if the person agrees."""
        keep = self.keeps_conversation
        if keep <= 0:
            return ()
        lines = list(conversation)
        if said is not None:
            lines.append(said)
        lines.extend(("program", item.text) for item in shown if isinstance(item, ShownMessage))
        return tuple(lines[-keep:])

    # --- doing what the machine says ------------------------------------------------------------

    def _now(self) -> Situation:
        """For events that need no queue or duty (a risk seen, the person writing)."""
        return Situation(self.desk.clock(), 0, False)

    async def _perform(
        self,
        session_id: str,
        loaded: LoadedProgram,
        record: SessionRecord,
        handled: Handled,
        step: Step,
        words: str | None,
        services_shown: bool = False,
        risks: tuple[str, ...] = (),
    ) -> None:
        before = handled.handoff
        handled.handoff = step.state
        after = step.state
        service = after.service or before.service or self.desk.service_for(handled.state.locale)
        locale = handled.state.locale
        for output in step.outputs:
            if isinstance(output, TellPerson):
                handled.shown.append(self._tell(loaded, locale, output))
            elif isinstance(output, OpenTicket):
                self._open(session_id, loaded, handled, service, output.ticket)
            elif isinstance(output, UpdateTicket):
                self._update(handled, before, after, service, output)
            elif isinstance(output, GiveFallback):
                await self._fallback(session_id, loaded, handled, services_shown)
            elif isinstance(output, ResumeBot):
                turn = await self.host.engine_turn(
                    session_id, loaded, handled.state, HandoffEnded(output.resume_at)
                )
                handled.state = turn.state
                handled.trace.extend(turn.trace)
                handled.shown.extend(Renderer(loaded.catalog).outputs(turn.outputs, locale))
            elif isinstance(output, ForwardToPerson):
                name = after.operator or ""
                handled.shown.append(ShownOperator(name, (words or "").strip()))
            elif isinstance(output, ForwardToOperator):
                assert after.ticket is not None
                wrote = PersonWrote(after.ticket, words or "", risks)
                handled.effects.append(_announce(self.desk, service, wrote))
            elif isinstance(output, ShareConversation):
                assert after.ticket is not None
                shared = ConversationShared(after.ticket, record.conversation)
                handled.effects.append(_announce(self.desk, service, shared))
            elif isinstance(output, Duplicate):
                log_event(
                    "handoff unchanged",
                    session=session_tag(session_id),
                    event=output.event,
                    reason=output.why,
                )

    def _tell(self, loaded: LoadedProgram, locale: str, told: TellPerson) -> ShownMessage:
        return tell(loaded, locale, told)

    def _open(
        self,
        session_id: str,
        loaded: LoadedProgram,
        handled: Handled,
        service: str,
        ticket: str,
    ) -> None:
        handoff, state = handled.handoff, handled.state
        requested_at = handoff.requested_at or self.desk.clock()
        urgency = _urgency(handoff)
        reason = handoff.reason or HandoffReason.OTHER
        loaded_flow = handoff.flow or "unknown"

        async def open_ticket() -> None:
            await self.desk.opened(ticket, session_id, service, urgency, requested_at)
            situation = await self.desk.situation(service, ticket, urgency)
            opened = TicketOpened(
                ticket=ticket,
                service=service,
                locale=state.locale,
                reason=reason,
                urgency=urgency,
                module=_module(loaded, state, loaded_flow),
                asked_in=loaded_flow,
                risks=_risks(state, handoff),
                requested_at=requested_at,
                fallback_given=handoff.fallback_given,
                position=situation.queue_position,
            )
            await self.desk.announce(service, opened)
            self._count(HandoffStatus.WAITING, reason)
            log_event(
                "handoff requested",
                session=session_tag(session_id),
                reason=reason,
                urgency=urgency,
                flow=loaded_flow,
            )

        handled.effects.append(open_ticket)

    def _update(
        self,
        handled: Handled,
        before: HandoffState,
        after: HandoffState,
        service: str,
        output: UpdateTicket,
    ) -> None:
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
            await self.desk.changed(ticket, status, after.operator_ref, urgency, requeued_at)
            await self.desk.announce(service, change)
            self._count(what, reason)

        handled.effects.append(update)

    async def _fallback(
        self, session_id: str, loaded: LoadedProgram, handled: Handled, services_shown: bool
    ) -> None:
        """The services for the person's country and language, then a short safety plan."""
        handled.shown.extend(
            await fallback(self.host, session_id, loaded, handled.state, services_shown)
        )

    def _count(self, state: str, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.handoff(state, reason)


def tell(loaded: LoadedProgram, locale: str, told: TellPerson) -> ShownMessage:
    """What the handoff tells the person, rendered in their language."""
    renderer = Renderer(loaded.catalog)
    text = renderer.text(told.key, locale, {name: str(value) for name, value in told.params})
    choices = tuple(
        ShownChoice(choice.choice_id, renderer.text(choice.label_key, locale))
        for choice in told.choices
    )
    return ShownMessage(told.key, text, choices)


async def fallback(
    host: HandoffHost,
    session_id: str,
    loaded: LoadedProgram,
    state: SessionState,
    services_shown: bool,
) -> list[Shown]:
    """The services for the person's country and language (unless the turn showed them
    already), then a short safety plan."""
    shown: list[Shown] = []
    if not services_shown and SERVICES_ACTION in loaded.program.actions:
        result = await host.run_action(session_id, loaded, state, SERVICES_ACTION)
        if not result.failed:
            shown.extend(Renderer(loaded.catalog).outputs(list(result.messages), state.locale))
    shown.append(tell(loaded, state.locale, TellPerson(HandoffKeys.SAFETY_PLAN)))
    return shown


async def without_team(
    host: HandoffHost,
    session_id: str,
    loaded: LoadedProgram,
    state: SessionState,
    shown: Sequence[Shown],
    services_shown: bool,
) -> list[Shown]:
    """A turn that asked for a person where no helpline is connected: right after the first
    request, the person is told honestly that nobody can join, and given the fallback."""
    at = next((i for i, item in enumerate(shown) if isinstance(item, ShownHandoff)), None)
    if at is None or not loaded.catalog.can_show(HandoffKeys.NO_TEAM, state.locale):
        return list(shown)
    told: list[Shown] = [tell(loaded, state.locale, TellPerson(HandoffKeys.NO_TEAM))]
    told.extend(await fallback(host, session_id, loaded, state, services_shown))
    if _asks_later(shown[at + 1 :]):
        told = [_without_choices(item) for item in told]
    return [*shown[: at + 1], *told, *shown[at + 1 :]]


def check_handoff_texts(catalog: Catalog, locales: Sequence[str]) -> None:
    """Raise ConfigError naming every handoff text the program lacks (a program connected to a
    helpline lists ``handoff`` in ``interface_texts``, and the validator then checks them)."""
    missing = [
        f"{key} ({locale})"
        for key in HandoffKeys.all()
        for locale in locales
        if not catalog.can_show(key, locale)
    ]
    if missing:
        raise ConfigError(
            "the program's locales lack texts the handoff shows: "
            + ", ".join(missing)
            + " (see locales/handoff.en.yml, and add `handoff` to interface_texts)"
        )


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


def _asks_later(rest: Sequence[Shown]) -> bool:
    return any(
        isinstance(item, ShownMessage) and (item.choices or item.expects_text) for item in rest
    )


def _without_choices(item: Shown) -> Shown:
    if isinstance(item, ShownMessage) and item.choices:
        return dataclasses.replace(item, choices=())
    return item
