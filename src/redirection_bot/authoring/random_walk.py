"""Random walks through the program: how many of its messages a person can meet by pressing
whatever is offered, and which messages no walk reached.

Each walk starts a conversation and, turn after turn, presses one of the offered choices at
random, types a short neutral answer where the program asks for the person's own words (a
number in range where it asks for a number), and now and then gives the ``help``, ``back``
or ``repeat`` command. Nothing typed is a risk word, so the safety flows are reached only
through what the program offers. A walk stops when the conversation ends or after
``max_turns`` turns. The same seed gives the same walks.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from redirection_bot.diagnostics import Span
from redirection_bot.dialogue.model import CommandName, Program, SlotType
from redirection_bot.engine import (
    ChoicePicked,
    CommandGiven,
    EngineKeys,
    Event,
    SessionState,
    Start,
    Text,
    Waiting,
)
from redirection_bot.language.i18n import Catalog
from redirection_bot.program.render import ShownEnd, ShownMessage
from redirection_bot.turn.runtime import Reply, Runtime

NEUTRAL_ANSWERS: Mapping[str, tuple[str, ...]] = {
    "en": ("a walk after dinner", "my family", "work and sleep", "reading a book"),
    "es": ("salir a caminar", "mi familia", "el trabajo", "leer un libro"),
    "fi": ("kävely illalla", "perhe", "työ ja uni", "kirjan lukeminen"),
}
"""What the walk types at a free-text question, per locale: short, neutral, never screened
as a risk (checked with ``redirection-bot screen --explain``)."""
FALLBACK_ANSWERS = NEUTRAL_ANSWERS["en"]
COMMANDS = (CommandName.HELP, CommandName.BACK, CommandName.REPEAT)
"""Commands a walk may give: those that keep the conversation going in the same language."""
COMMAND_CHANCE = 0.05
TYPE_CHANCE = 0.5
"""Where both a choice and the person's own words are possible, how often the walk types."""
STRAY_CHANCE = 0.03
"""Where only choices are offered, how often the walk types something instead, as people do."""
NOT_MESSAGES = frozenset({EngineKeys.YES, EngineKeys.NO, EngineKeys.LANGUAGE_NAME})
"""Engine texts that are labels or names, never said as a message."""


@dataclass(frozen=True, slots=True)
class WalkReport:
    """What the walks in one locale reached."""

    locale: str
    walks: int
    turns: int
    reached: frozenset[str]
    """Keys of the messages shown at least once."""
    never_reached: tuple[str, ...]
    """Keys of messages the program can say that no walk showed, in the program's order."""
    places: Mapping[str, Span]
    """Where each message the program says is written (a node's ``say``), for the report."""

    @property
    def total(self) -> int:
        return len(self.reached) + len(self.never_reached)


def message_keys(program: Program, catalog: Catalog) -> dict[str, Span]:
    """Every message the program can say, with where it is said: the nodes' ``say`` and
    ``reask`` texts, the engine's own messages, and the texts directly in the actions'
    namespaces (``plan.cope_alone``, ``services.entry``; not ``services.<id>.description``,
    which is part of a message). Labels of choices and the words that match them are not
    messages."""
    labels = _labels(program)
    keys: dict[str, Span] = {}
    for node in program.all_nodes():
        for message in node.say:
            keys.setdefault(message.key, message.span)
        if node.reask is not None:
            keys.setdefault(node.reask.key, node.reask.span)
    for key in EngineKeys.all():
        if key not in NOT_MESSAGES:
            keys.setdefault(key, program.span)
    namespaces = {action.texts for action in program.actions.values() if action.texts is not None}
    for entry in catalog.entries(program.default_locale):
        namespace, _dot, rest = entry.key.partition(".")
        if namespace in namespaces and "." not in rest and entry.key not in labels:
            keys.setdefault(entry.key, entry.span)
    return keys


def _labels(program: Program) -> set[str]:
    labels = {key for slot in program.slots.values() for key in slot.labels.values()}
    for node in program.all_nodes():
        for choice in node.choices:
            labels.add(choice.label)
            if choice.words is not None:
                labels.add(choice.words)
    for command in program.commands.values():
        labels.update((command.name.label_key, command.name.words_key))
    return labels


async def walk_locale(
    runtime: Runtime, locale: str, walks: int, seed: int, max_turns: int = 80
) -> WalkReport:
    """``walks`` seeded random walks in ``locale``; walk ``i`` uses the seed ``seed:i``."""
    loaded = runtime.loaded
    reached: set[str] = set()
    turns = 0
    for index in range(walks):
        rng = random.Random(f"{seed}:{index}")
        session = f"walk-{locale}-{seed}-{index}"
        reply = await runtime.handle(session, Start(locale))
        reached.update(_keys(reply))
        for _turn in range(max_turns):
            event = _next_event(loaded.program, reply, locale, rng)
            if event is None:
                break
            reply = await runtime.handle(session, event)
            turns += 1
            reached.update(_keys(reply))
        await runtime.erase(session)
    places = message_keys(loaded.program, loaded.catalog)
    never = tuple(key for key in places if key not in reached)
    return WalkReport(locale, walks, turns, frozenset(reached), never, places)


def _keys(reply: Reply) -> Iterable[str]:
    return (item.key for item in reply.shown if isinstance(item, ShownMessage))


def _next_event(program: Program, reply: Reply, locale: str, rng: random.Random) -> Event | None:
    """What the walking person does next; None when the conversation is over."""
    state = reply.state
    if state is None or any(isinstance(item, ShownEnd) for item in reply.shown):
        return None
    if rng.random() < COMMAND_CHANCE:
        return CommandGiven(rng.choice(COMMANDS))
    offered = _offered(reply)
    typed = _typed_answer(program, state, locale, rng)
    if typed is not None and (not offered or rng.random() < TYPE_CHANCE):
        return Text(typed)
    if offered and rng.random() >= STRAY_CHANCE:
        return ChoicePicked(rng.choice(offered))
    # Nothing to press and nothing asked: say something, as a person would.
    return Text(rng.choice(NEUTRAL_ANSWERS.get(locale, FALLBACK_ANSWERS)))


def _offered(reply: Reply) -> Sequence[str]:
    """The choices of the turn's last message with choices (what the person can press)."""
    offered: Sequence[str] = ()
    for item in reply.shown:
        if isinstance(item, ShownMessage) and item.choices:
            offered = [choice.id for choice in item.choices]
    return offered


def _typed_answer(
    program: Program, state: SessionState, locale: str, rng: random.Random
) -> str | None:
    """A typed answer where the program asks for the person's own words or a number."""
    if state.waiting is not Waiting.ANSWER or state.at is None:
        return None
    node = program.node(state.at.flow, state.at.node)
    if node.input is None:
        return None
    slot = program.slots[node.input.slot]
    if slot.type is SlotType.TEXT:
        return rng.choice(NEUTRAL_ANSWERS.get(locale, FALLBACK_ANSWERS))
    if slot.type is SlotType.INTEGER:
        low = slot.minimum if slot.minimum is not None else 0
        high = slot.maximum if slot.maximum is not None else 10
        return str(rng.randint(low, high))
    return None
