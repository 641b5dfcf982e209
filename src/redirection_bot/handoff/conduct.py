"""The handoff's decisions for one session: which machine events the person's and the
operators' acts become, and what the machine asks in answer.

The runtime calls ``HandoffConduct`` with the session it has locked and read: after an
engine turn that asked for a person (``requested``), for the person's own event while a
handoff is on (``person``), and for an operator's act or the passing of time (``apply``).
Each answers with a ``Handled``: the session's new state and handoff, the messages for the
person (rendered at the edge with the engine's), and what to do once the session is saved.
What the machine asks is carried out by the ``Executor`` the conduct is built with
(``effects.Effects``, the one executor for the engine and the handoff); nothing calls back.

While an operator has the conversation the bot is silent: the person's words go to the
operator only, screened (the risks found annotate them) and with identifying details
already hidden by the runtime (an answer of the program pressed then comes as its label,
``routing.pressed_to_operator_choice``); commands other than "leave now" get one short reminder
that a person is here, and the engine is not stepped. When the handoff ends (the operator
closes, or the person goes back) the engine resumes, where the person was or where the
operator chose, with its own "you are back with the program" message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from redirection_bot.dialogue.model import (
    COUNTRY_SLOT,
    HARM_TAKEN_SLOT,
    CommandName,
    HandoffReason,
    HandoffUrgency,
    Program,
)
from redirection_bot.engine import (
    ChoicePicked,
    CommandGiven,
    Event,
    HandoffRequest,
    SessionState,
    Text,
    Turn,
    typed_command,
)
from redirection_bot.engine import crisis_in_view as engine_crisis_in_view
from redirection_bot.engine.country_named import country_named
from redirection_bot.engine.taken_signs import tells_of_taking
from redirection_bot.errors import ConfigError
from redirection_bot.handoff.machine import (
    Asked,
    Claimed,
    HandoffChoice,
    HandoffEvent,
    HandoffKeys,
    HandoffState,
    KeepWaiting,
    PersonSaid,
    RiskSeen,
    Shared,
    Situation,
    Step,
    TellPerson,
    Tick,
    Withdrawn,
    advance,
    choice_from_id,
)
from redirection_bot.handoff.record import Line, SessionRecord
from redirection_bot.language.textnorm import fold
from redirection_bot.program.render import Said, Shown, ShownMessage
from redirection_bot.safety.categories import CRISES, RiskCategory

if TYPE_CHECKING:
    from redirection_bot.handoff.desk import HandoffDesk
    from redirection_bot.language.i18n import Catalog
    from redirection_bot.program.load import LoadedProgram

_CHOICE_EVENTS: dict[HandoffChoice, HandoffEvent] = {
    HandoffChoice.SHARE: Shared(agreed=True),
    HandoffChoice.NO_SHARE: Shared(agreed=False),
    HandoffChoice.KEEP: KeepWaiting(),
    HandoffChoice.BACK: Withdrawn(),
    HandoffChoice.END: Withdrawn(),
}

Effect = Callable[[], Awaitable[object]]
"""Something to do once the session is saved."""


@dataclass(frozen=True, slots=True)
class BeforeSave:
    """An effect done before the session is saved, whose failure fails the turn: a ticket
    written before the session that waits for it. Written after, a failed write left people
    told "you are number 2 in line" with no ticket behind it, no notice and no fallback ever
    (the fifty-seventh attack); written first, a save that fails leaves a ticket whose
    session never waited for it, which the desk's clock drops."""

    run: Effect

    async def __call__(self) -> object:
        return await self.run()


@dataclass(slots=True)
class Handled:
    """What the machines did in one go: what to save, the messages for the person (rendered
    at the edge), and what to do once the session is saved."""

    state: SessionState
    handoff: HandoffState
    said: list[Said] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    step: Step | None = None


class Executor(Protocol):
    """What carries out the machine's steps and the engine's turns (``effects.Effects``)."""

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
    ) -> None: ...

    async def engine(
        self,
        session_id: str,
        loaded: LoadedProgram,
        state: SessionState,
        event: Event,
        *,
        requested: bool = False,
    ) -> Turn: ...


class HandoffConduct:
    """Decides one session's handoff for the runtime (see the module's description)."""

    def __init__(self, desk: HandoffDesk, effects: Executor) -> None:
        self.desk = desk
        self.effects = effects

    @property
    def keeps_conversation(self) -> int:
        return self.desk.config.conversation_lines

    # --- an engine turn asked for a person ------------------------------------------------------

    async def requested(
        self,
        session_id: str,
        loaded: LoadedProgram,
        record: SessionRecord,
        outputs: Sequence[Said],
        services_shown: bool,
        risks: Sequence[str] = (),
    ) -> Handled:
        """Open (or update) the handoff for each request of a turn; the handoff's messages
        follow the request. ``risks``: the categories screening found in the person's
        message, which reach the ticket of a request still waiting (the operators see them
        before they claim)."""
        state = record.state
        handled = Handled(state, record.handoff)
        for category in risks:
            if handled.handoff.active:
                seen = advance(
                    handled.handoff, risk_seen(category, state), self._now(), self.desk.timings
                )
                await self.effects.handoff(session_id, loaded, record, handled, seen, None)
        result: list[Said] = []
        for item in outputs:
            result.append(item)
            if not isinstance(item, HandoffRequest):
                continue
            service = handled.handoff.service or self.desk.service_for(state.locale)
            ticket = handled.handoff.ticket if handled.handoff.active else None
            situation = await self.desk.situation(service, ticket, item.urgency)
            asked = Asked(self.desk.new_ticket(), item.reason, item.urgency, item.flow, service)
            taken = advance(handled.handoff, asked, situation, self.desk.timings)
            before = len(handled.said)
            await self.effects.handoff(
                session_id, loaded, record, handled, taken, None, services_shown=services_shown
            )
            result.extend(handled.said[before:])
            del handled.said[before:]
        handled.said = result
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
                repeat = CommandGiven(CommandName.REPEAT)
                requested = handled.handoff.active
                turn = await self.effects.engine(
                    session_id, loaded, state, repeat, requested=requested
                )
                handled.state = turn.state
                handled.said.extend(turn.outputs)
            return handled
        if isinstance(event, Text):
            handled = await self._person_wrote(session_id, loaded, record, event)
            if typed_command(loaded.program, state.locale, event.text) is not None:
                # A command typed as words ("help", "back"): the words are the operator's
                # like any others, and the person is reminded how to end the chat, as when
                # they press a command's button.
                handled.said.extend(self._reminder(record).said)
            return handled
        if (
            isinstance(event, CommandGiven)
            and event.command is CommandName.LANGUAGE
            and event.argument in loaded.program.locales
        ):
            assert event.argument is not None
            record = replace(record, state=replace(state, locale=event.argument))
        return self._reminder(record)

    def _reminder(self, record: SessionRecord) -> Handled:
        """A person has the conversation: one short reminder, no engine."""
        handled = Handled(record.state, record.handoff)
        told = TellPerson(HandoffKeys.WITH_OPERATOR, choices=(HandoffChoice.END,))
        handled.said.append(told.message)
        return handled

    async def _person_wrote(
        self, session_id: str, loaded: LoadedProgram, record: SessionRecord, event: Text
    ) -> Handled:
        found = tuple(dict.fromkeys(hit.category.value for hit in event.risks))
        state = record.state
        if RiskCategory.SUICIDE.value in found and tells_of_taking(
            loaded.program, state, event.text
        ):
            # Told to the operator as to the program: the notice, the close and all that
            # follows say "you have taken something" (the thirtieth retest: "are you in
            # danger?" again once the operator left).
            state = replace(state, slots={**state.slots, HARM_TAKEN_SLOT: True})
            record = replace(record, state=state)
        named = None
        if any(category in CRISES for category in found) and state.slots.get(COUNTRY_SLOT) is None:
            named = country_named(loaded.program, state.locale, fold(event.text))
        if named is not None:
            # A country written with a crisis to the operator ("uk. my hands r shaking": the
            # thirty-fourth retest): the notice, and all that follows, give its own number.
            state = replace(state, slots={**state.slots, COUNTRY_SLOT: named})
            record = replace(record, state=state)
        handled = Handled(state, record.handoff)
        for category in found:
            # One the conversation had before is on the ticket already: no "new risk".
            seen_before = category in state.risks
            risk_step = advance(
                handled.handoff,
                risk_seen(category, state, seen_before),
                self._now(),
                self.desk.timings,
            )
            await self.effects.handoff(session_id, loaded, record, handled, risk_step, None)
        # Two crises read in one message ("i swallowed 5 of them. feeling dizzy": suicide and
        # distress) each bring the same notice: said once (the forty-third retest: twice).
        handled.said[:] = [
            item for index, item in enumerate(handled.said) if item not in handled.said[:index]
        ]
        if found:
            seen = dict.fromkeys(state.risks)
            seen.update(dict.fromkeys(found))
            handled.state = replace(state, risks=tuple(seen))
        crises = tuple(category for category in found if category in CRISES)
        said = advance(handled.handoff, PersonSaid(crises), self._now(), self.desk.timings)
        await self.effects.handoff(
            session_id, loaded, record, handled, said, event.text, risks=found
        )
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
        if isinstance(event, Tick):
            event = Tick(crisis_in_view(loaded.program, record.state))
        if isinstance(event, Claimed):
            asks = self.keeps_conversation > 0 and bool(record.conversation)
            event = replace(event, ask_to_share=asks)
        service = handoff.service or self.desk.service_for(record.state.locale)
        situation = await self.desk.situation(service, handoff.ticket, handoff.urgency)
        taken = advance(handoff, event, situation, self.desk.timings)
        handled = Handled(record.state, handoff, step=taken)
        await self.effects.handoff(session_id, loaded, record, handled, taken, words)
        return handled

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

    def _now(self) -> Situation:
        """For events that need no queue or duty (a risk seen, the person writing)."""
        return Situation(self.desk.clock(), 0, False)


def risk_seen(category: str, state: SessionState, known: bool = False) -> RiskSeen:
    """A category screening read while a handoff is on: a crisis (``CRISES``) puts a request
    still waiting at least ``high`` in line, certain or not (its check question is asked at
    once, and the operators should not wait for the answer); so does distress once something
    was taken (``HARM_TAKEN_SLOT``: "mua vähän huimaa", dizzy, written to the operator after
    an overdose, had no notice; the twenty-seventh retest). A child in danger puts it at
    ``immediate``, as the child-at-risk flow's own request does (the thirty-ninth retest: a
    child at risk written while waiting reached only `high`). ``known``: the conversation
    had it before (``RiskSeen.known``)."""
    taken = state.slots.get(HARM_TAKEN_SLOT) is True
    if category == RiskCategory.CHILD_AT_RISK:
        return RiskSeen(category, HandoffUrgency.IMMEDIATE, known)
    urgent = category in CRISES or (taken and category == RiskCategory.DISTRESS)
    return RiskSeen(category, HandoffUrgency.HIGH if urgent else None, known)


def crisis_in_view(program: Program, state: SessionState) -> HandoffReason | None:
    """The crisis whose safety flow the person is in (``engine.crisis_in_view``; None: none)."""
    category = engine_crisis_in_view(program, state.at, state.stack)
    return HandoffReason(category.value) if category is not None else None


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
