"""Who takes an event: a pure decision from (session record, event, program).

The runtime asks ``route`` once per turn, after the message was admitted (``ingress``) and
screened, and does what the answer says. Nothing here awaits, stores or renders, so every rule
of who answers what can be tested without asyncio:

- a pressed handoff answer (keep waiting, share, end the chat) goes to the handoff;
- while an operator has the conversation, everything the person sends goes to the handoff
  (their words to the operator, commands to a reminder), except "leave now", typed or pressed;
  one of the program's own answers pressed then (a button left on the page) is words to the
  operator too (``pressed_to_operator_choice``: the runtime makes it the answer's label);
- a message that cannot be taken (too long, unreadable) gets its notice, unless a risk that
  the program has a safety flow for was found in it (or, while an operator has the
  conversation, any risk: then it reaches the operator): safety comes before every limit;
- a resume phrase brings back a parked conversation;
- everything else goes to the dialogue engine.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from redirection_bot.dialogue.model import CommandName, Program
from redirection_bot.engine import (
    ChoicePicked,
    CommandGiven,
    Event,
    SessionState,
    Text,
    Waiting,
    typed_command,
)
from redirection_bot.engine.step import COMMAND_CHOICE_PREFIX
from redirection_bot.handoff.machine import HandoffState, HandoffStatus, choice_from_id
from redirection_bot.store.resume import PUBLIC_CHECK, RESUME_ACTION, PhraseAttempt, PhraseCheck
from redirection_bot.turn.ingress import Problem


class Route(enum.Enum):
    """Who takes the event."""

    HANDOFF = "handoff"
    """The handoff: an answer to one of its questions, or anything while an operator has it."""
    NOTICE = "notice"
    """A polite notice (``Routed.problem``); the words are neither kept nor passed on."""
    RESTORE = "restore"
    """A resume phrase (``Routed.phrase``)."""
    ENGINE = "engine"
    """The dialogue engine."""


@dataclass(frozen=True, slots=True)
class Routed:
    route: Route
    problem: Problem | None = None
    phrase: PhraseAttempt | None = None
    repeat: bool = True
    """For a notice: whether the program then repeats where the person is (not while an
    operator has the conversation: the program is silent then)."""


def route(
    program: Program,
    state: SessionState,
    handoff: HandoffState | None,
    event: Event,
    problem: Problem | None = None,
    phrases: PhraseCheck = PUBLIC_CHECK,
) -> Routed:
    """Who takes ``event`` (already admitted and screened) for a session at ``state``.
    ``handoff``: the session's handoff, None when no helpline is connected or nothing is
    stored yet; ``problem``: what admitting the message found wrong with it; ``phrases``: how
    the service's resume phrases are checked."""
    preempts = isinstance(event, Text) and preempts_flow(program, event)
    operator_has_it = with_operator(handoff)
    if (
        handoff is not None
        and isinstance(event, ChoicePicked)
        and choice_from_id(event.choice) is not None
    ):
        return Routed(Route.HANDOFF)
    if operator_has_it and not leaves(program, state.locale, event):
        if problem is not None and not (isinstance(event, Text) and event.risks):
            return Routed(Route.NOTICE, problem, repeat=False)
        return Routed(Route.HANDOFF)
    if problem is not None and not preempts:
        return Routed(Route.NOTICE, problem)
    phrase = None if preempts else phrase_attempt(program, state, event, phrases)
    if phrase is not None:
        return Routed(Route.RESTORE, phrase=phrase)
    return Routed(Route.ENGINE)


def with_operator(handoff: HandoffState | None) -> bool:
    """Whether an operator has the conversation."""
    return handoff is not None and handoff.status is HandoffStatus.WITH_OPERATOR


def pressed_to_operator_choice(event: ChoicePicked) -> bool:
    """Whether ``event``, pressed while an operator has the conversation, is one of the
    program's answers (not a handoff answer, not a command): the person meant it as words, and
    the operator is told them ("Yes, I'm in danger now" pressed as the operator claimed the
    chat got only "a person is here", the forty-fourth retest, and the operator never saw it)."""
    return choice_from_id(event.choice) is None and not event.choice.startswith(
        COMMAND_CHOICE_PREFIX
    )


def preempts_flow(program: Program, event: Text) -> bool:
    """Whether the program has a safety flow for a risk found in the message."""
    return any(program.safety_route(hit.category) for hit in event.risks)


def phrase_attempt(
    program: Program, state: SessionState, event: Event, phrases: PhraseCheck
) -> PhraseAttempt | None:
    """A typed resume phrase, when the program offers phrases. Where the person is asked for
    their own words, only a phrase with a right check word counts: anything else is an answer."""
    if not isinstance(event, Text) or RESUME_ACTION not in program.actions:
        return None
    attempt = phrases.read(event.text)
    if attempt is None or attempt.checked:
        return attempt
    return None if asked_slot(program, state) is not None else attempt


def asked_slot(program: Program, state: SessionState) -> str | None:
    """The slot the question the person is at fills with what they type, if any."""
    at = state.at
    if state.waiting is not Waiting.ANSWER or at is None:
        return None
    asked = program.node(at.flow, at.node).input
    return asked.slot if asked is not None else None


def leaves(program: Program, locale: str, event: Event) -> bool:
    """ "Leave now" or "erase", pressed or typed: they always work, even while a person has
    the chat, and whatever the rate of messages."""
    return leaving_command(program, locale, event) is not None


def leaving_command(program: Program, locale: str, event: Event) -> CommandName | None:
    """``stop`` or ``erase`` when ``event`` is "leave now" or "erase", pressed or typed."""
    if isinstance(event, CommandGiven):
        command: CommandName | None = event.command
    elif isinstance(event, Text):
        command = typed_command(program, locale, event.text)
    else:
        return None
    return command if command in (CommandName.STOP, CommandName.ERASE) else None
