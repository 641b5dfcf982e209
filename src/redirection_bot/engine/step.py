"""The engine: ``step(program, state, event) -> Turn``. Pure and deterministic.

No I/O, no clock, no randomness, no i18n and no rasa-sdk in here: the engine reads the
program and the state, and returns the new state with what to show and what to ask of
the world (run an action, hand over). The runtime does the rest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from redirection_bot.dialogue.conditions import SlotRef
from redirection_bot.dialogue.graph import interrupting_flows
from redirection_bot.dialogue.lexicon import (
    ABOUT_WORDS_KEY,
    AND_WORDS_KEY,
    BUT_WORDS_KEY,
    GO_ON_WORDS_KEY,
    LANGUAGE_WORDS_KEY,
    NOT_THERE_WORDS_KEY,
    NOT_WORDS_KEY,
    PAST_WORDS_KEY,
    Lexicon,
    held_specifically,
)
from redirection_bot.dialogue.model import (
    COUNTRY_SLOT,
    CRISIS_WAITING_SLOT,
    HARM_TAKEN_SLOT,
    HELPLINE_SLOT,
    REQUESTED_SLOT,
    Choice,
    CommandName,
    HandoffReason,
    HandoffUrgency,
    InputSpec,
    Node,
    NodeKind,
    Place,
    PlaceRef,
    Program,
    SafetyRoute,
    SlotChange,
    SlotDecl,
    SlotType,
    SlotValue,
    Transition,
)
from redirection_bot.dialogue.parts import Parts, program_parts
from redirection_bot.dialogue.per_program import per_program
from redirection_bot.engine.country_named import country_named
from redirection_bot.engine.events import (
    ActionResult,
    CameBack,
    ChoicePicked,
    CommandGiven,
    Event,
    HandoffEnded,
    Start,
    Text,
)
from redirection_bot.engine.evolve import evolve
from redirection_bot.engine.outputs import (
    NO_KEY,
    YES_KEY,
    ActionRequest,
    ChoiceOption,
    End,
    HandoffRequest,
    Label,
    Message,
    Output,
    Param,
    slot_param,
)
from redirection_bot.engine.state import HeldAnswer, SessionState, Waiting, shared_frame
from redirection_bot.engine.taken_signs import records_taken
from redirection_bot.errors import EngineError
from redirection_bot.language.textnorm import MAX_TYPED_DIGITS, fold, typed_index
from redirection_bot.safety.categories import (
    ACKNOWLEDGED_ONCE,
    CHECKED_ONCE,
    CRISES,
    RiskCategory,
    RiskHit,
)

MAX_NODES_PER_TURN = 10_000

_LIST_PIECES = re.compile(r"[,;/\n+&]")
"""Where the items of a list typed in one message are cut, besides ``engine.and_words``."""
RUN_WHEN_SETTLED = CRISES | {RiskCategory.MINOR}
"""Queued safety flows that run as soon as the crisis in hand has its numbers (``settled_at``):
another crisis, and the question for a young person, whose lines are then added (the
twenty-ninth retest: a suicidal 15-year-old never got the lines for young people)."""
_FIRST_PART = re.compile(r"\s*(?:[,.;:!?\u2026]|\s[-\u2013\u2014]\s)")
"""Where an answer's first part ends: "no, ..." or "yes - ..." (not "e-mail")."""
COMMAND_CHOICE_PREFIX = "command:"
GO_ON_CHOICE = "go_on"
"""The id of a choice that goes on: ``engine.go_on_words`` ("ok", "dale") pick it."""
NUMBER_ANSWER_WORDS = 4
"""The most words a typed number may come with ("like a 7", "10 obviously") at a question
that asks for one."""
_NOT_WHOLE = re.compile(r"\d\s*[.,]\s*\d|(?:^|[^\w])[.,]\d|[-\u2212]\s*\d|\d{10}")
"""A number with a decimal part, a sign, or more digits than a typed number may have."""
_NUMBER = re.compile(rf"-?\d{{1,{MAX_TYPED_DIGITS}}}")
_EMPTY_LEXICON = Lexicon()
LABEL_PART_LETTERS = 4
"""A single word typed as part of one label ("familia" for "Mi familia") is that answer from
this many letters on; a shorter one only as the label's first word ("si" for "Sí, voy a
responder")."""


class EngineKeys:
    """Texts the engine itself says; every locale must have them."""

    NOT_UNDERSTOOD = "engine.not_understood"
    INVALID_INPUT = "engine.invalid_input"
    CHOICE_UNAVAILABLE = "engine.choice_unavailable"
    OFFER_PERSON = "engine.offer_person"
    OFFER_HELP = "engine.offer_help"
    """``OFFER_PERSON`` where no helpline is connected: nobody could join."""
    ENDED = "engine.ended"
    CHOOSE_LANGUAGE = "engine.choose_language"
    ACTION_FAILED = "engine.action_failed"
    PROGRAM_UPDATED = "engine.program_updated"
    WAITING_FOR_PERSON = "engine.waiting_for_person"
    HANDOFF_ENDED = "engine.handoff_ended"
    CANNOT_GO_BACK = "engine.cannot_go_back"
    LEAVE_IN_CRISIS = "engine.leave_in_crisis"
    """A one-word "stop" typed inside a safety flow: how to leave, and the numbers to call."""
    LEAVE_CONFIRM = "engine.leave_confirm"
    """A one-word "stop" typed at a question that offers no such answer: how to leave, and
    that answering carries on (nothing is erased on one word)."""
    UNANSWERED = "engine.unanswered"
    TOO_LONG = "engine.too_long"
    UNREADABLE = "engine.unreadable"
    ALL_PARTS_DONE = "engine.all_parts_done"
    YES = YES_KEY
    NO = NO_KEY
    LANGUAGE_NAME = "language.name"

    @classmethod
    def all(cls) -> tuple[str, ...]:
        return tuple(value for name, value in vars(cls).items() if name.isupper())


@dataclass(frozen=True, slots=True)
class Turn:
    """The result of one step: the new state, what to do, and the nodes passed through."""

    state: SessionState
    outputs: tuple[Output, ...]
    trace: tuple[str, ...] = ()
    picked: ChoiceOption | None = field(default=None, compare=False)
    """The answer a ``ChoicePicked``, or typed words taken as a choice, picked among the
    question's choices, as offered (for the person's side of the transcript); not part of
    what the turn did."""


def new_state(program: Program, locale: str | None = None) -> SessionState:
    """The state of a conversation that has not started."""
    chosen = locale if locale in program.locales else program.default_locale
    defaults = {
        name: slot.default for name, slot in program.slots.items() if slot.default is not None
    }
    return SessionState(program_version=program.version, locale=chosen, slots=defaults)


def step(program: Program, state: SessionState, event: Event) -> Turn:
    """Apply one event to a conversation."""
    run = _Run(program, state)
    if state.program_version != program.version and not isinstance(event, Start):
        run.migrate(event)
        return run.finish()
    run.handle(event)
    return run.finish()


class _Run:
    """One turn in progress: a mutable copy of the state and the outputs so far."""

    def __init__(self, program: Program, state: SessionState) -> None:
        self.program = program
        self.lexicon = program.lexicon or _EMPTY_LEXICON
        self.state = state
        self.slots = dict(state.slots)
        self.stack = list(state.stack)
        self.outputs: list[Output] = []
        self.trace: list[str] = []
        self.worked = _worked(program)
        self.parts = self.worked.parts
        self.picked: ChoiceOption | None = None

    def finish(self) -> Turn:
        state = evolve(
            self.state, slots=self.slots, stack=tuple(self.stack), turn=self.state.turn + 1
        )
        return Turn(state, tuple(self.outputs), tuple(self.trace), self.picked)

    # --- dispatch ----------------------------------------------------------------------------

    def handle(self, event: Event) -> None:
        if isinstance(event, Text) and self.screened(event):
            return
        waiting = self.state.waiting
        if isinstance(event, Start):
            door = self.program.partner_entry if event.partner else None
            self.start(event.locale, door)
        elif waiting is Waiting.NOT_STARTED:
            self.start(None)
        elif isinstance(event, CommandGiven):
            self.command(event.command, event.argument)
        elif isinstance(event, ActionResult):
            self.action_result(event)
        elif isinstance(event, HandoffEnded):
            self.handoff_ended(event)
        elif isinstance(event, CameBack):
            self.welcome_back()
        elif isinstance(event, ChoicePicked):
            self.choice_picked(event.choice)
        else:
            self.text(event.text)

    def start(self, locale: str | None, door: PlaceRef | None = None) -> None:
        fresh = new_state(self.program, locale or self.state.locale)
        self.state = fresh
        self.slots = dict(fresh.slots)
        self.stack = []
        self.enter(door or self.program.entry)

    def migrate(self, event: Event) -> None:
        """Move a conversation from an older program to the home node, keeping valid slots.

        A message that raises a risk still pre-empts: its safety flow runs, then home."""
        kept = {
            name: value
            for name, value in self.state.slots.items()
            if name in self.program.slots and self.program.slots[name].accepts(value)
        }
        locale = (
            self.state.locale
            if self.state.locale in self.program.locales
            else self.program.default_locale
        )
        self.state = evolve(
            new_state(self.program, locale), turn=self.state.turn, done=self.state.done
        )
        self.slots = {**self.slots_defaults(), **kept}
        self.stack = []
        self.say(EngineKeys.PROGRAM_UPDATED)
        home = self._node(self.program.home.flow, self.program.home.node)
        if isinstance(event, Text) and self.screened(event, home.place):
            return
        self.enter(self.program.home)

    def slots_defaults(self) -> dict[str, SlotValue]:
        return {
            name: slot.default
            for name, slot in self.program.slots.items()
            if slot.default is not None
        }

    # --- safety: pre-emption ------------------------------------------------------------------

    def screened(self, event: Text, resume_at: Place | None = None) -> bool:
        """Pre-empt the current node when screening raised a risk the program has a flow for.

        Routes are tried crises a phrase raised first (``CRISES``), certain hits before
        uncertain ones, then the others the same way, each group in the program's order
        (highest priority first): act on what is clear, then check what is not, a life
        before anything else. When the person is
        already in a route's flow, a hit goes to its ``again`` node (without one, the message
        is an answer like any other). Otherwise the current place is kept on the stack
        (the flow's ``return`` comes back to it), lower categories marked ``after_others`` are
        queued to run afterwards, and the flow starts: at its ``check`` node when the hit is
        uncertain. A higher category that waited only because it was uncertain is queued too.
        Text that pre-empts is never stored.
        """
        if not event.risks:
            return False
        self.note_risks(event)
        hits = {hit.category: hit for hit in event.risks}
        if self.plainly_meant(event, hits) or self.crisis_holds(hits):
            return False
        self.note_heard(fold(event.text))
        routes = [route for route in self.program.safety if route.category in hits]
        # Certain hits first, in program order (stable); a route that defers to a category a
        # clinician's phrase raised with it waits for that flow ("i cant take this life
        # anymore": the suicide question before the breathing exercise). A crisis (``CRISES``)
        # a clinician's phrase raised comes before anything else, asked about if uncertain
        # (the model's guess alone does not hold up "heart attack" advice): "are you thinking
        # of suicide?" before the refusal of a request said with it (the forty-first retest:
        # "pasame un link ..., o me quito del medio de una vez" got the refusal, and the
        # suicide question only after "back"). One raised only by the question's own
        # ``check_in_answers`` ("my kids" at the triggers question) comes after them.
        routes.sort(
            key=lambda route: (
                waits_for(route, hits),
                route.category not in CRISES
                or hits[route.category].learned
                or hits[route.category].from_answer,
                not hits[route.category].certain,
            )
        )
        current = self.current_route()
        own = hits.get(current.category) if current is not None else None
        if (
            current is not None
            and own is not None
            and (
                self.taken_named_here(current, event)
                if own.certain
                else self.check_answered_here(current, event)
            )
        ):
            return True
        if self.deferred_to_current(routes):
            self.set_on_raise(routes, hits)
            return True
        for position, route in enumerate(routes):
            if self.in_flow(route.flow):
                again = route.again
                at = self.state.at
                certain = hits[route.category].certain
                if again is None and certain and at is not None and at.node == route.check:
                    # What the check asks, said for certain ("joo oon 15" at "are you under
                    # 18?": the nineteenth retest, not understood): the flow in full.
                    again = self.program.flows[route.flow].start
                if (
                    again is not None
                    and not certain
                    and route.check is not None
                    and at is not None
                    and at.node != route.check
                    and route.category in CHECKED_ONCE
                    and route.category.value not in self.state.confirmed
                ):
                    # A guess about the person's own risk where only another's was told ("i
                    # feel the same as her. no point to any of this" on the friend's path:
                    # the twenty-eighth retest, "Please choose a country"): asked about
                    # directly, then back to the question.
                    self.interrupt(resume_at)
                    self.state = evolve(self.state, misses=0)
                    self.enter(Place(route.flow, route.check))
                    return True
                if again is not None:
                    self.state = evolve(self.state, misses=0)
                    self.set_on_raise(routes, hits)
                    self.enter(Place(route.flow, again))
                    return True
                continue
            if self.state.waiting is Waiting.NOT_STARTED:
                fresh = new_state(self.program, self.state.locale)
                self.state = evolve(fresh, risks=self.state.risks)
                self.slots = dict(fresh.slots)
                self.stack = []
            self.keep_choice_typed_with(event)
            if route.category in CRISES:
                # A place named with the crisis ("la escucho llorar ahorita mismo, estoy en
                # guadalajara": the forty-third retest, "123 en Colombia, 911 en México..."):
                # its own number from the first answer, as at a crisis question.
                self.note_country(fold(event.text))
            self.interrupt(resume_at)
            rank = self.program.safety.index
            queued = [
                later
                for later in routes[position + 1 :]
                if (later.after_others or rank(later) < rank(route) or waits_for(later, hits))
                and later.flow != route.flow
                and not self.in_flow(later.flow)
            ]
            for later in reversed(queued):
                self.unqueue(later)
                self.stack.append(Place(later.flow, self.safety_entry(later, hits)))
            self.unqueue(route)
            self.state = evolve(self.state, misses=0, held=self.held(event, route, hits))
            self.set_on_raise(routes, hits)
            entry = self.safety_entry(route, hits)
            if not self.answered_on_entry(route, entry, event):
                self.enter(self.past_opening_if_confirmed(route, Place(route.flow, entry)))
            return True
        return False

    def keep_choice_typed_with(self, event: Text) -> None:
        """The one value of a choice slot a crisis message also answers at a question asking
        for it ("us. also i already took a bunch of pills" at "Which country are you in?":
        the twenty-eighth retest, "us" ignored and asked again). Only a choice's value, never
        the person's words; the question is not asked again on return (``_asked_unless_known``)."""
        at = self.state.at
        if at is None or self.state.waiting is not Waiting.ANSWER:
            return
        node = self._node(at.flow, at.node)
        if node.input is None:
            return
        declared = self.program.slots[node.input.slot]
        if declared.type is not SlotType.CHOICE:
            return
        options: list[tuple[ChoiceOption, Choice | None]] = [
            (option, None) for option in self.generated_choices(declared, node, typed=True)
        ]
        named = self.match_choice(node, options, fold(event.text), event.text)
        if named is not None:
            self.slots[declared.name] = _generated_value(declared, named[0].id)

    def set_on_raise(self, routes: list[SafetyRoute], hits: dict[RiskCategory, RiskHit]) -> None:
        """The ``set`` of every route raised for certain, before the first flow says anything
        (a young person who is also suicidal: the crisis lists know their age at once)."""
        for route in routes:
            if hits[route.category].certain:
                for change in route.sets:
                    self.apply(change)

    def deferred_to_current(self, routes: list[SafetyRoute]) -> bool:
        """Run the current safety flow's ``again`` node when every route raised defers to its
        category (``defers_to``); at its check question too, where "i cant take this life
        anymore" or "help me please" answers "are you having thoughts of ending your life?"."""
        at = self.state.at
        current = self.current_route()
        if current is None or at is None or current.again is None:
            return False
        if not routes or not all(
            route is current or current.category in route.defers_to for route in routes
        ):
            return False
        self.state = evolve(self.state, misses=0)
        self.enter(Place(current.flow, current.again))
        return True

    def taken_named_here(self, route: SafetyRoute, event: Text) -> bool:
        """A message of the flow's own crisis, read for certain, that tells of something taken
        at a question of the flow offering "I've already taken something" (its check, "are
        you in danger?", the menu after the lines): that answer, so the advice for harm done,
        never the flow over again as danger now (the fortieth retest: "i just took all my
        sleeping pills" at the check got "put away anything you could use", and no "even if
        you feel fine", in three languages)."""
        at = self.state.at
        if at is None or self.state.waiting is not Waiting.ANSWER:
            return False
        node = self._node(at.flow, at.node)
        taken = [choice for choice in self.named_choices(node, event) if records_taken(choice)]
        if not taken:
            return False
        self.state = evolve(self.state, misses=0)
        self.note_confirmed(route.category)
        self.take(node, taken[0])
        return True

    def check_answered_here(self, route: SafetyRoute, event: Text) -> bool:
        """A message of the flow's own category, read as uncertain, typed at the flow's check
        question and naming one of its answers only: that answer ("pitäiskö mun soittaa
        jonnekin? pelkään et se satuttaa niitä" at "are you afraid you might harm a child?"
        is "someone else may be harming a child", the forty-first retest: the advice for
        one's own urges instead)."""
        at = self.state.at
        if at is None or at.node != route.check or at.flow != route.flow:
            return False
        if self.state.waiting is not Waiting.ANSWER:
            return False
        node = self._node(at.flow, at.node)
        named = self.named_choices(node, event)
        if len(named) != 1:
            return False
        self.state = evolve(self.state, misses=0)
        self.take(node, named[0])
        return True

    def named_choices(self, node: Node, event: Text) -> list[Choice]:
        """The choices offered at ``node`` whose "...phrase..." words the message holds (a
        message that is exactly an answer offered is a press, never screened: not here)."""
        folded, locale = fold(event.text), self.state.locale
        named = [
            choice
            for _option, choice in self.visible_choices(node, typed=True)
            if choice is not None
            and not self.told_as_past(choice, folded)
            and self.lexicon.mentions(locale, choice.words, folded)
        ]
        return shown_first(named)

    def crisis_waiting(self) -> RiskCategory | None:
        """The crisis whose flow waits on the stack under the flow running now, the latest
        first (``CRISIS_WAITING_SLOT``): "quiero que me hable alguien ya" typed at "are you
        having thoughts of ending your life?", "voinko puhua oikeen ihmisen kaa?" at "are you
        away from the child now?"."""
        crises = _crisis_flows(self.program)
        return next(
            (
                category
                for place in reversed(self.stack)
                if (category := crises.get(place.flow)) is not None
            ),
            None,
        )

    def told_as_past(self, choice: Choice | None, folded: str) -> bool:
        """Whether ``choice`` is ``now_only`` and ``folded`` tells of the past ("last time i
        cut myself it didnt work": not harm just done)."""
        return (
            choice is not None
            and choice.now_only
            and self.lexicon.holds(self.state.locale, PAST_WORDS_KEY, folded)
        )

    def answered_on_entry(self, route: SafetyRoute, entry: str, event: Text) -> bool:
        """Take the ``answered_by`` choice that the message starting a safety flow already
        names, by its "...phrase..." words, at the route's ``answered_at`` question (or at the
        ``check`` question, where the flow starts there): a child who writes "my uncle is
        hurting me" is not first told to step away from a child. A message that names another
        choice of the question too answers nothing here, unless the one it names records
        that something was taken."""
        question = entry if entry == route.check else route.answered_at
        if question is None or not route.answered_by:
            return False
        node = self._node(route.flow, question)
        named = self.named_choices(node, event)
        # Something taken outweighs whatever else the words name ("took my whole prescription
        # an hour ago, starting to feel dizzy": taken, not only in danger).
        taken = [choice for choice in named if records_taken(choice)]
        named = taken or named
        if len(named) != 1 or named[0].id not in route.answered_by:
            return False
        if question == route.check and records_taken(named[0]):
            # An uncertain hit is asked about first ("i took some pills" may be for a
            # headache), even where the check offers "I've already taken something".
            return False
        if named[0].id in route.about_another and entry != route.check and route.check:
            # Another person's crisis, told with words the rules read for certain: what to do
            # for them first, then the question about the person themselves (queued until
            # the lines are shown, ``settled_at``).
            confirmed = route.category.value in self.state.confirmed
            start = self.program.flows[route.flow].start
            self.stack.append(Place(route.flow, start if confirmed else route.check))
        elif entry != route.check:
            # The flow in full, its opening words skipped ("i already took all my pills"):
            # confirmed as at its start.
            self.note_confirmed(route.category)
        self.take(node, named[0])
        return True

    def plainly_meant(self, event: Text, hits: dict[RiskCategory, RiskHit]) -> bool:
        """Whether the message is taken for what it plainly is, its risk not pre-empting:

        - a command typed as the whole message ("where can i get help") when every hit is
          uncertain (a certain hit still pre-empts);
        - a message typed at a safety flow's question (not its ``check``) with no certain
          hit of a higher category: taken as the answer if it matches one of the choices
          ("im not safe" at the suicide flow's danger question is not the distress flow;
          "my uncle is hurting me" at the child-at-risk flow's question is its "someone is
          hurting me", not the flow's ``again``), and, where a higher category's hit is
          uncertain and none is of the flow's own, as an answer (or asked again) whether it
          matches or not: the crisis in hand is not left for a guess. Without a match, a hit
          of the flow's own category goes to its ``again``. A higher category's uncertain
          hit, and lower ones marked ``after_others``, are queued to run once the flow
          returns (a higher one from its ``check``); its own is not run again. A category
          the flow ``defers_to`` is never queued: it pre-empts, certain or not.
        """
        folded = fold(event.text)
        if all(not hit.certain for hit in hits.values()) and (
            folded_command(self.program, self.state.locale, folded) is not None
        ):
            return True
        at = self.state.at
        current = self.current_route()
        if current is None or at is None or self.state.waiting is not Waiting.ANSWER:
            return False
        rank = self.program.safety.index
        if at.node == current.check:
            # What plainly answers the check question ("not really, no") is that answer
            # where only the second layer read a risk into it: its guess never overrides a
            # plain answer (the twelfth retest: "not really, no" was told to call now), nor
            # a plain first part explained ("ei, tarkotin et tää kattominen loppuu", "no, I
            # meant the watching should end": the eighteenth retest, told to call now). A
            # first part never outweighs what the rules read in the rest ("no, i just want
            # to disappear"), nor a rest that turns it round ("no, but ...").
            # The second layer's guess alone at its own check question, answering nothing
            # ("ei ei, siis et tää kattominen loppuu"): the question asked again, with the
            # number, never "call now" for a guess.
            node = self._node(at.flow, at.node)
            answers = self.match_choice(
                node, self.visible_choices(node, typed=True), folded, event.text
            )
            if not all(hit.learned for hit in hits.values()):
                # A category that defers to this flow, read by the rules in a plain answer
                # ("ei oo, oon vaan ihan poikki": no, just worn out, the thirty-sixth retest,
                # taken as danger now and an immediate request for a person): the answer.
                # Without one ("help me please") it still goes to the flow's ``again``.
                deferring = all(
                    hit.learned
                    or (
                        (route := self.program.safety_route(category)) is not None
                        and current.category in route.defers_to
                    )
                    for category, hit in hits.items()
                )
                return deferring and answers is not None
            # A lower category's guess never takes the check in hand away ("pues como q si..
            # no se" at "are you worried you might harm a child?", read as perhaps suicidal:
            # the suicide question instead, the twenty-ninth retest): asked again.
            # Another crisis guessed in a message that holds no answer's words at all ("i
            # cant see a way out of this anymore" at the child check: "didn't understand"
            # three times, the forty-fourth retest) is asked about now; the check in hand
            # comes back after.
            rank = self.program.safety.index
            routes = {route.category: route for route in self.program.safety}
            says_nothing = not self.holds_any_answer(node, folded)
            lower = all(
                (route := routes.get(category)) is not None
                and rank(route) > rank(current)
                and not (category in CRISES and says_nothing)
                for category in hits
            )
            return answers is not None or set(hits) == {current.category} or lower
        if any(category in current.defers_to for category in hits):
            # The flow in hand gives way to these ("nobody would even notice if i was gone"
            # during the breathing exercise: the suicide question, not "didn't understand").
            return False
        routes = {route.category: route for route in self.program.safety}
        for category, hit in hits.items():
            route = routes.get(category)
            if route is not None and hit.certain and rank(route) < rank(current):
                return False
            if route is not None and route.check_at_once and route is not current:
                return False  # "are you a bot?" in the minor flow: answered now, then back
        node = self._node(at.flow, at.node)
        higher = any(
            (route := routes.get(category)) is not None and rank(route) < rank(current)
            for category in hits
        )
        options = self.visible_choices(node, typed=True)
        answered = self.match_choice(node, options, folded, event.text)
        own = hits.get(current.category)
        if answered is None and own is not None and not own.certain:
            # Hedged, and holding two answers' words: *no no, yo no me quiero matar, es por
            # la niña* at "are you in danger?" is no new disclosure (the twenty-fourth retest:
            # taken as "yes, I'm in danger"): the question again, with the numbers.
            held = self.mentioned(options, self.words_of(node, options), folded, False)
            if len([choice for _option, choice in held if choice is not None]) > 1:
                return True
        other_crisis = any(category in CRISES for category in hits if category != current.category)
        if (
            answered is None
            and (current.category in hits or not higher or current.gives_way or other_crisis)
        ) or (current.gives_way and other_crisis):
            # ``gives_way``: "i cant take it anymore" while waiting for a person is asked
            # about now, never "Sorry, I didn't understand" (an answer that fits stays one).
            # Another crisis, even guessed, answering nothing here: asked about now ("the kid
            # im babysitting is asleep in the next room and my head is going to bad places"
            # at the suicide flow's country question: the twenty-fifth retest, "Please choose
            # a country", the child's check queued for after the crisis lines).
            # A flow that gives way asks about a crisis now even when the message also answers
            # its question ("i cant tell my parents they would freak ... maybe itd be easier if
            # i just didnt wake up" at a young person's menu: the fear answered, the suicide
            # check queued behind the menu and never asked, the fifty-sixth retest).
            return False
        if own is not None and own.certain and self.match_choice(node, options, folded) is None:
            # "no. im alone tho and the pills are here" at "are you in danger?": the first
            # part answers, the rest raises the flow's own risk for certain: its `again`.
            return False
        for category, hit in hits.items():
            route = routes.get(category)
            if (
                route is not None
                and route is not current
                and (route.after_others or rank(route) < rank(current))
                # The second layer's guess at an answer to the crisis question ("no se, que
                # numero?" read as a child at risk): never a question about it afterwards.
                and not (hit.learned and answered is not None)
            ):
                self.unqueue(route)
                self.stack.append(Place(route.flow, self.safety_entry(route, hits)))
        return True

    def crisis_holds(self, hits: dict[RiskCategory, RiskHit]) -> bool:
        """Whether the crisis path the person is on holds against what was raised: every hit
        is an uncertain one of another kind than a crisis, and none is answered at once
        ("are you a bot?"). "a veces si, pero pq pregunta eso" at the suicide question, read
        by the second layer as perhaps a request for images, and "if i call will they send
        the police round" at the country question, after an earlier request for links, were
        met with the request's check or its refusal and a word about prison (the
        twenty-second retest). A guess never takes a person off a crisis path: the message
        is an answer there, or the question is asked again with the number. A certain hit
        still pre-empts ("just send me the links")."""
        if crisis_in_view(self.program, self.state.at, self.stack) is None:
            return False
        routes = {route.category: route for route in self.program.safety}
        return all(
            not hit.certain
            and category not in CRISES
            and not ((route := routes.get(category)) is not None and route.check_at_once)
            for category, hit in hits.items()
        )

    def held(
        self, event: Text, route: SafetyRoute, hits: dict[RiskCategory, RiskHit]
    ) -> HeldAnswer | None:
        """A free-text answer typed at a question, kept while its uncertain risk is checked
        first (other answers are simply asked for again, as after any interruption)."""
        at = self.state.at
        keeps = route.keeps_answer_when
        if (
            not route.keeps_answer
            or (keeps is not None and not keeps.evaluate(self.slots))
            or self.safety_entry(route, hits) != route.check
            or self.state.waiting is not Waiting.ANSWER
            or at is None
        ):
            return None
        node = self._node(at.flow, at.node)
        if node.input is None or self.program.slots[node.input.slot].type is not SlotType.TEXT:
            return None
        return HeldAnswer(at, event.text)

    def note_confirmed(self, category: RiskCategory) -> None:
        """The person is at the full safety flow of ``category``: the risk was real. What they
        typed while it was checked is never stored, and a later uncertain hit of it is not
        checked again (``safety_entry``)."""
        if self.state.held is not None:
            self.state = evolve(self.state, held=None)
        if category in CHECKED_ONCE and category.value not in self.state.confirmed:
            self.state = evolve(self.state, confirmed=(*self.state.confirmed, category.value))

    def note_risks(self, event: Text) -> None:
        seen = dict.fromkeys(self.state.risks)
        seen.update(dict.fromkeys(hit.category.value for hit in event.risks))
        self.state = evolve(self.state, risks=tuple(seen))

    def queued_crisis(self, node: Node) -> Place | None:
        """A crisis queued behind the one in hand (raised with it, or a question about the
        person themselves) that runs now: ``node`` is a question its route is ``settled_at``,
        where the crisis in hand has said what to do and given its numbers. The question is
        asked when the queued flow returns."""
        route = self.program.safety_route_of(node.flow)
        if route is None or node.id not in route.settled_at or not self.stack:
            return None
        queued = self.stack[-1]
        crisis = next(
            (
                route
                for route in self.program.safety
                if route.flow == queued.flow and route.category in RUN_WHEN_SETTLED
            ),
            None,
        )
        if crisis is None or queued.node not in (
            self.program.flows[crisis.flow].start,
            crisis.check,
        ):
            return None
        self.stack[-1] = node.place
        return queued

    def in_safety_flow(self) -> bool:
        """Whether the person is at a node of one of the program's safety flows now."""
        return self.current_route() is not None

    def current_route(self) -> SafetyRoute | None:
        """The safety route whose flow the person is in now, if any."""
        return next((route for route in self.program.safety if self.in_flow(route.flow)), None)

    def in_flow(self, flow: str) -> bool:
        """Whether the person is at a node of ``flow`` now."""
        at = self.state.at
        return at is not None and at.flow == flow and self.state.waiting is not Waiting.ENDED

    def unqueue(self, route: SafetyRoute) -> None:
        """Drop a safety flow queued to run later (it runs now, or is queued again)."""
        starts = {self.program.flows[route.flow].start, route.check}
        self.stack = [
            place for place in self.stack if not (place.flow == route.flow and place.node in starts)
        ]

    def safety_entry(self, route: SafetyRoute, hits: dict[RiskCategory, RiskHit]) -> str:
        """Where a raised route's flow starts: its ``check`` for an uncertain hit not
        confirmed earlier, or its ``again`` where the flow already runs below the current
        one ("are you a bot?" at a question asked while a request for a person is open: the
        honest answer about the open request, never a second offer of a person; the
        nineteenth retest); else the flow's start."""
        start = self.program.flows[route.flow].start
        if (
            not hits[route.category].certain
            and route.check is not None
            and route.category.value not in self.state.confirmed
        ):
            begun = any(
                place.flow == route.flow and place.node not in (start, route.check)
                for place in self.stack
            )
            # Begun for another, never confirmed for oneself (the friend's path, whose
            # country question is another flow's): the check, asked directly (the
            # twenty-eighth retest).
            another = route.category in CHECKED_ONCE  # "are you a bot?": its `again`, as before
            return route.again if begun and route.again is not None and not another else route.check
        return start

    def past_opening_if_confirmed(self, route: SafetyRoute, entry: Place) -> Place | PlaceRef:
        """A flow confirmed earlier in the conversation starts past its opening words (what
        they set still set): its first question ("are you in danger right now?", or the
        emergency advice once something was taken), never its acknowledgement a second or
        third time (the thirty-sixth retest, after a chat with an operator; the forty-second,
        "i bought a rope yesterday" at the services' country question after the suicide
        flow had begun: "Thank you for telling me..." again)."""
        opening = self._node(entry.flow, entry.node)
        if (
            route.category not in ACKNOWLEDGED_ONCE
            or route.category.value not in self.state.confirmed
            or entry.node != self.program.flows[route.flow].start
            or opening.kind is not NodeKind.SAY
        ):
            return entry
        for change in opening.changes:
            self.apply(change)
        return self.follow(opening.then, opening)

    def interrupt(self, resume_at: Place | None = None) -> None:
        """Keep where the person is on the stack, so that a ``return`` comes back to it."""
        at = self.state.at
        if resume_at is not None:
            self.stack.append(resume_at)
        elif at is not None and self.state.waiting in (
            Waiting.ANSWER,
            Waiting.HANDOFF,
            Waiting.LANGUAGE,
        ):
            self.stack.append(at)
        else:
            place = self.program.entry if self.state.waiting is Waiting.NOT_STARTED else None
            target = place or self.program.home
            node = self._node(target.flow, target.node)
            self.stack.append(node.place)

    # --- walking the program -----------------------------------------------------------------

    def enter(self, place: Place | PlaceRef) -> None:
        """Run from a node until the conversation waits for something."""
        for _ in range(MAX_NODES_PER_TURN):
            node = self._node(place.flow, place.node)
            confirmed = self.program.safety_category_at(node.place)
            if confirmed is not None:
                self.note_confirmed(confirmed)
            self.trace.append(node.qualified_id)
            self.note_finished(node.place)
            next_place = self.run_node(node)
            if next_place is None:
                return
            place = next_place
        raise EngineError(
            f"more than {MAX_NODES_PER_TURN} nodes in one turn; the validator should prevent this"
        )

    def _node(self, flow: str, node_id: str | None) -> Node:
        try:
            return self.program.node(flow, node_id)
        except KeyError as error:
            raise EngineError(f"no node {flow}.{node_id}") from error

    def run_node(self, node: Node) -> Place | PlaceRef | None:
        """Do what a node says; return where to go next, or None when waiting."""
        kind = node.kind
        for change in node.changes:
            self.apply(change)
        if kind.waits:
            queued = self.queued_crisis(node)
            if queued is not None:
                return queued
            self.prompt(node)
            self.wait(Waiting.ANSWER, node)
            return None
        for message in node.say:
            self.say(message.key)
        if kind is NodeKind.SAY:
            return self.follow(node.then, node)
        if kind is NodeKind.BRANCH:
            if CRISIS_WAITING_SLOT in self.program.slots:
                if (waiting := self.crisis_waiting()) is not None:
                    self.slots[CRISIS_WAITING_SLOT] = waiting.value
                else:
                    self.slots.pop(CRISIS_WAITING_SLOT, None)
            for branch in node.branches:
                if branch.when.evaluate(self.slots):
                    return self.follow(branch.then, node)
            return self.follow(node.otherwise, node)
        if kind is NodeKind.ACTION:
            assert node.action is not None
            self.request_action(node.action, node)
            return None
        if kind is NodeKind.HANDOFF:
            assert node.handoff is not None
            urgency = node.handoff.urgency
            if self.slots.get(HARM_TAKEN_SLOT) is True:
                # Something already taken and no help called yet: whoever is asked for, from
                # the crisis menu or the main one, is asked for now (the twenty-sixth retest:
                # "high").
                urgency = HandoffUrgency.IMMEDIATE
            elif urgency in (HandoffUrgency.LOW, HandoffUrgency.NORMAL) and (
                any(risk in CRISES for risk in self.state.confirmed)
                or self.crisis_waiting() is not None
            ):
                urgency = HandoffUrgency.HIGH
            self.outputs.append(HandoffRequest(node.handoff.reason, urgency, node.flow))
            if REQUESTED_SLOT in self.program.slots:
                self.slots[REQUESTED_SLOT] = True  # the runtime tells the truth next turn
            if node.then is None or node.then.is_empty:
                self.wait(Waiting.HANDOFF, node)
                return None
            return self.follow(node.then, node)
        if kind is NodeKind.RETURN:
            if not self.stack:
                return self.program.home
            back = self.stack.pop()
            held = self.state.held
            if held is not None and back == held.at:
                # The check ended by going back: what was typed there is the answer now.
                self.state = evolve(self.state, held=None, waiting=Waiting.ANSWER, at=held.at)
                self.answer(self._node(held.at.flow, held.at.node), held.text, fold(held.text))
                return None
            resumed = self._node(back.flow, back.node)
            if (
                back in _asked_unless_known(self.program)
                and resumed.input is not None
                and self.slots.get(resumed.input.slot) is not None
            ):
                # Answered meanwhile, in the flow that interrupted it ("im in the US" in the
                # suicide flow, then "Go back": the child flow's country question again; the
                # twenty-seventh retest): not asked again.
                return self.follow(resumed.then, resumed)
            return back
        self.outputs.append(End())
        self.wait(Waiting.ENDED, node)
        return None

    def follow(self, transition: Transition | None, node: Node) -> Place | PlaceRef:
        """Where a transition leads; a ``call`` leaves its continuation on the stack."""
        if transition is None or transition.is_empty:
            if node.kind.waits:
                return node.place
            return self.program.home
        if transition.call is not None:
            if transition.goto is not None:
                continuation = self.program.find_node(transition.goto)
                if continuation is not None:
                    self.stack.append(continuation.place)
            else:
                self.stack.append(node.place)
            return PlaceRef(transition.call, None, transition.call_span or node.span)
        assert transition.goto is not None
        return transition.goto

    def wait(self, waiting: Waiting, node: Node) -> None:
        self.state = evolve(self.state, waiting=waiting, at=node.place, pending_action=None)

    def request_action(self, action: str, node: Node) -> None:
        self.outputs.append(ActionRequest(action))
        self.state = evolve(
            self.state,
            waiting=Waiting.ACTION,
            at=node.place,
            pending_action=action,
        )

    # --- messages ----------------------------------------------------------------------------

    def say(
        self, key: str, choices: tuple[ChoiceOption, ...] = (), expects_text: bool = False
    ) -> None:
        self.outputs.append(Message(key, self.params(key), choices, expects_text))

    def params(self, key: str) -> dict[str, Param]:
        names = self.lexicon.placeholders.get(key)
        if not names:
            return {}
        return {name: self.param(name) for name in names}

    def param(self, name: str) -> Param:
        declared = self.program.slots.get(name)
        return None if declared is None else slot_param(declared, self.slots.get(name))

    def note_finished(self, place: Place) -> None:
        """Arriving at a part's end finishes the part (``dialogue.parts``)."""
        part = self.parts.finished_at(place)
        if part is not None and part not in self.state.done:
            self.state = evolve(self.state, done=(*self.state.done, part))

    def offers_review(self, node: Node) -> bool:
        """Every part is done: choices that lead on to a part ("Next: my triggers") give way
        to saying so, outside the home menu (which always lists every part)."""
        return (
            node.flow != self.program.home.flow
            and self.parts.all_done(self.state.done)
            and any(self.parts.leads_to_a_part(choice.then) for choice in node.choices)
        )

    def prompt(self, node: Node, extra: tuple[ChoiceOption, ...] = ()) -> None:
        """A waiting node's question, with its choices on the last message."""
        review = self.offers_review(node)
        choices = tuple(option for option, _choice in self.visible_choices(node, review)) + extra
        keys = [message.key for message in node.say]
        if review:
            keys.append(EngineKeys.ALL_PARTS_DONE)
        for index, key in enumerate(keys):
            last = index == len(keys) - 1
            self.say(key, choices if last else (), node.kind is NodeKind.INPUT and last)

    def visible_choices(
        self, node: Node, review: bool | None = None, typed: bool = False
    ) -> list[tuple[ChoiceOption, Choice | None]]:
        """The quick replies shown now: generated from an input slot, then the node's own.
        ``review``: ``offers_review(node)``, when the caller has it already. ``typed``: with
        the slot's values a typed answer may name though none is shown (``offer: []``), and
        the choices only typed (``typed_only``)."""
        shown: list[tuple[ChoiceOption, Choice | None]] = []
        if node.input is not None:
            declared = self.program.slots[node.input.slot]
            generated = self.generated_choices(declared, node, typed)
            shown.extend((option, None) for option in generated)
        if review is None:
            review = self.offers_review(node)
        for choice in node.choices:
            if review and self.parts.leads_to_a_part(choice.then):
                continue
            if choice.typed_only and not typed:
                continue
            if choice.when is None or choice.when.evaluate(self.slots):
                shown.append((self.option(choice), choice))
        return shown

    def option(self, choice: Choice) -> ChoiceOption:
        """A choice as offered: its label filled from the slots if it has placeholders."""
        params = self.params(choice.label)
        if params:
            return ChoiceOption(choice.id, Label(choice.label, params=tuple(params.items())))
        plain = self.worked.plain_options
        key = (choice.id, choice.label)
        found = plain.get(key)
        if found is None:
            found = plain[key] = ChoiceOption(choice.id, Label(choice.label))
        return found

    def generated_choices(
        self, declared: SlotDecl, node: Node, typed: bool = False
    ) -> tuple[ChoiceOption, ...]:
        """The options an input node offers for its slot: the same every time (made once per
        program and node), but for a checklist's, which show what is picked so far.
        ``typed``: those a typed answer may name, also where none is shown (``offer: []``:
        every value of the slot, typed only), and the slot's values only typed anywhere
        (``SlotDecl.typed_only``)."""
        assert node.input is not None
        none_shown = typed and node.input.offer == ()
        asked = evolve(node.input, offer=None) if none_shown else node.input
        key = (node.flow, node.id, declared.name, typed)
        options = self.worked.generated.get(key)
        if options is None:
            options = self.worked.generated[key] = _generated(declared, asked, typed)
        if declared.type is not SlotType.LIST:
            return options
        chosen = self.slots.get(declared.name, ())
        if not isinstance(chosen, tuple) or not chosen:
            return options
        return tuple(evolve(o, picked=True) if o.id in chosen else o for o in options)

    def welcome_back(self) -> None:
        """Back with resume words: the program's ``return_entry`` is called from the question
        the person was at (its ``return`` asks that question again); inside a safety flow, not
        at a question, or without a ``return_entry``, what they were waiting for is shown
        again."""
        entry, at = self.program.return_entry, self.state.at
        safety = {route.flow for route in self.program.safety}
        # a safety flow's question comes first, never the return_entry's
        inside_safety = at is not None and any(p.flow in safety for p in (at, *self.stack))
        if entry is None or at is None or self.state.waiting is not Waiting.ANSWER or inside_safety:
            self.redisplay()
            return
        self.stack.append(at)
        self.enter(entry)

    def redisplay(self) -> None:
        """Show again what the conversation is waiting for."""
        waiting, at = self.state.waiting, self.state.at
        if waiting is Waiting.ENDED or at is None:
            self.say(EngineKeys.ENDED, self.command_choices(CommandName.RESTART))
            return
        node = self._node(at.flow, at.node)
        if waiting is Waiting.ANSWER:
            self.prompt(node)
        elif waiting is Waiting.HANDOFF:
            self.say(EngineKeys.WAITING_FOR_PERSON)
        elif waiting is Waiting.ACTION and self.state.pending_action:
            self.outputs.append(ActionRequest(self.state.pending_action))
        elif waiting is Waiting.LANGUAGE:
            self.language_menu()

    def command_choices(self, *names: CommandName) -> tuple[ChoiceOption, ...]:
        return tuple(
            ChoiceOption(COMMAND_CHOICE_PREFIX + name.value, Label(name.label_key))
            for name in names
            if name in self.program.commands
        )

    # --- the person's answers ----------------------------------------------------------------

    def text(self, raw: str) -> None:
        folded = fold(raw)
        command = folded_command(self.program, self.state.locale, folded)
        one_word_leaving = command in (CommandName.STOP, CommandName.ERASE) and " " not in folded
        if one_word_leaving and self.in_safety_flow():
            # One word ("stop", "lopeta") in a crisis may mean "stop asking", not "erase
            # everything and leave": say how to leave ("leave now", the button) and give the
            # numbers, then ask again. Two words ("leave now") leave at once.
            self.say(EngineKeys.LEAVE_IN_CRISIS)
            self.redisplay()
            return
        typed_word = not raw.lstrip().startswith("/")  # "/stop", "/back": always the command
        if command is not None and (one_word_leaving or command is CommandName.BACK) and typed_word:
            offered = self.offered_for(folded, command)
            if offered is not None:
                self.choice_picked(offered)
                return
        if one_word_leaving and typed_word and self.state.waiting is Waiting.ANSWER:
            # "stop" typed at "how important is it to you to stop?" or as a reason: a person's
            # plan is never erased on one word; say how to leave, and ask again.
            self.say(EngineKeys.LEAVE_CONFIRM)
            self.redisplay()
            return
        if command is not None:
            self.command(command, None)
            return
        waiting = self.state.waiting
        if waiting is Waiting.LANGUAGE:
            chosen = self.match_language(folded)
            if chosen is None:
                self.language_menu()
            else:
                self.change_language(chosen)
            return
        if waiting is not Waiting.ANSWER or self.state.at is None:
            self.redisplay()
            return
        self.answer(self._node(self.state.at.flow, self.state.at.node), raw, folded)

    def offered_for(self, folded: str, command: CommandName) -> str | None:
        """The choice of the question waiting for an answer that a typed one-word stop or
        erase, or a typed back, means: one typed as ``folded``, or one whose id is the
        command's name. "stop" at a question offering "I want to stop", "back" (*volver*)
        where "Go back to where I was" is offered: that answer, never "erase everything and
        leave" or a step back inside a crisis flow ("leave now" and the buttons leave)."""
        at = self.state.at
        if self.state.waiting is not Waiting.ANSWER or at is None:
            return None
        node = self._node(at.flow, at.node)
        options = self.visible_choices(node)
        named = next((option.id for option, _choice in options if option.id == command.value), None)
        if named is not None:
            return named
        found = self.match_choice(node, options, folded)
        return None if found is None else found[0].id

    def answer(self, node: Node, raw: str, folded: str) -> None:
        """What the person typed, as their answer to ``node``."""
        # The question asking for the country, not a question that also takes one typed
        # (``offer: []``, "ok im in mexico actually" at what would help now).
        asks_country = (
            node.input is not None and node.input.slot == COUNTRY_SLOT and node.input.offer != ()
        )
        if self.in_safety_flow() or asks_country:
            # "no puedo ... q numero llamo? estoy en colombia"; at the country question too,
            # where "q numero? estoy en mexico" is answered as "who do I call", and the
            # country is kept (the thirtieth retest: asked again, and again).
            self.note_country(folded)
            self.note_heard(folded)
        if node.input is not None and _NOT_WHOLE.search(raw):
            declared = self.program.slots[node.input.slot]
            if declared.type is SlotType.INTEGER:  # "-3", ".5" are not the 3 or 5 offered
                self.missed(node, node.reask.key if node.reask else EngineKeys.INVALID_INPUT)
                return
        options = self.visible_choices(node, typed=True)
        # Several items of a list first ("hopeless, drinking" is both, not its first part).
        items = self.typed_items(node, options, raw, False)
        picked = None if items else self.match_choice(node, options, folded, raw)
        one_item = (
            picked is not None
            and picked[1] is None
            and node.input is not None
            and self.program.slots[node.input.slot].type is SlotType.LIST
        )
        if picked is not None and not one_item:
            # The event's own answer: a held answer taken later in the turn is not it.
            self.picked = self.picked or picked[0]
            self.pick(node, *picked)
            return
        if picked is not None:
            items = [picked[0]]  # one item of a list, typed: ticked by ``tick`` as the others
        if items:
            self.picked = self.picked or items[0]
            self.tick(node, items)
            return
        noted = self.slots.get(COUNTRY_SLOT) if asks_country else None
        named = next(((o, c) for o, c in options if noted is not None and o.id == noted), None)
        if named is not None:
            # The country named with other words ("a quien llamo? estoy en medellin, es
            # gratis?"): the answer, never the help menu a phrase of it names (the thirtieth
            # retest: the country lost, and no number in that turn).
            self.picked = self.picked or named[0]
            self.pick(node, *named)
            return
        asked = self.lexicon.mentioned_command(self.state.locale, folded)
        if asked is not None and asked in self.program.commands:
            # "is there a number i can call" at "your reasons": a request for help, not
            # words to keep (a command's "...phrase..." words; never stop, erase or restart).
            # A country named with it ("im in australia, do you have a number") is kept: the
            # help that follows writes its numbers (the fifty-sixth retest: 112 or 911, then
            # "which country are you in?").
            self.note_country(folded)
            if asks_country and asked is CommandName.HELP:
                # "what number do i call?" at the country question: the question is the way
                # to the numbers, asked again, never the help menu that leads back to it.
                self.missed(node, node.reask.key if node.reask else EngineKeys.NOT_UNDERSTOOD)
                return
            self.command(asked, None)
            return
        if node.input is not None:
            declared = self.program.slots[node.input.slot]
            value = _parse_input(declared, raw)
            if value is None and declared.type is SlotType.INTEGER:
                value = self.typed_number(declared, folded)
                if value is None:
                    value = self.number_at_an_end(declared, raw, last=False)
                if value is None:
                    value = self.number_at_an_end(declared, raw, last=True)
            if value is not None:
                self.answered(node)
                self.slots[declared.name] = value
                self.compare_with_last_time(declared, value)
                self.enter(self.follow(node.then, node))
                return
            typed = declared.type in (SlotType.TEXT, SlotType.INTEGER)
            default = EngineKeys.INVALID_INPUT if typed else EngineKeys.NOT_UNDERSTOOD
            self.missed(node, node.reask.key if node.reask else default)
            return
        self.missed(node, node.reask.key if node.reask else EngineKeys.NOT_UNDERSTOOD)

    def note_country(self, folded: str) -> None:
        """A country named at a crisis question it does not answer (*estoy en medellin* at "are
        you in danger?": the twenty-eighth retest, asked again with "123 en Colombia, 911 en
        México..."), kept while none is known: the question asked again, and all that
        follows, write that country's numbers."""
        if self.slots.get(COUNTRY_SLOT) is not None:
            return
        named = country_named(self.program, self.state.locale, folded)
        if named is not None:
            self.slots[COUNTRY_SLOT] = named

    def note_heard(self, folded: str) -> None:
        """The boolean slots whose ``heard`` words ``folded`` holds, set (a gun named at "are
        you in danger?" or with the words that started the crisis: the advice to put it
        away follows); never where a negation comes right before ("no gun")."""
        locale = self.state.locale
        for declared in self.program.slots.values():
            if declared.heard is not None and self.lexicon.mentions(
                locale, declared.heard, folded, NOT_WORDS_KEY
            ):
                self.slots[declared.name] = True

    def goes_on(self, folded: str) -> bool:
        """Whether ``folded`` is one of ``engine.go_on_words``, or made of them alone ("joo
        jatka", "ok go on", "si dale")."""
        forms = self.lexicon.words_of(self.state.locale, GO_ON_WORDS_KEY)
        return folded in forms or all(word in forms for word in folded.split())

    def typed_items(
        self,
        node: Node,
        options: list[tuple[ChoiceOption, Choice | None]],
        raw: str,
        whole: bool,
    ) -> list[ChoiceOption]:
        """The items of a list question typed together ("feeling hopeless and pulling away
        from people", "hopeless, isolating"): two or more parts, between commas, semicolons,
        slashes or ``engine.and_words``, each of which is one of the list's own answers (as
        ``match_choice`` reads a message, ``whole`` as there). Empty unless every part is."""
        if node.input is None or self.program.slots[node.input.slot].type is not SlotType.LIST:
            return []
        joins = self.lexicon.words_of(self.state.locale, AND_WORDS_KEY)
        parts = [
            " ".join(words)
            for piece in _LIST_PIECES.split(raw)
            for words in _split_on(fold(piece).split(), joins)
            if words
        ]
        if len(parts) < 2:
            return []
        values: list[tuple[ChoiceOption, Choice | None]] = [
            (option, choice) for option, choice in options if choice is None
        ]
        found: list[ChoiceOption] = []
        for part in parts:
            picked = self.match_choice(node, values, part, part, whole)
            if picked is None or picked[0] in found:
                return []
            found.append(picked[0])
        return found

    def typed_number(self, declared: SlotDecl, folded: str) -> int | None:
        """A number typed with a few words ("10 obviously", "like a 9 i guess", *kymppi*, "8
        out of 10", *un 8 de 10*): the one number, in digits or as words (``numbers.<n>``), or
        the first of two where the second is the scale's top; in a message of at most
        ``NUMBER_ANSWER_WORDS`` words that it begins or ends, or of at most twice as many
        whose other words are all ``engine.about_words`` ("idk maybe 5 ish", *mas o menos un
        4*). Anything else is asked again ("7 8", "i have 2 kids at home"), and so is a number
        that is not whole or not as typed ("-3", "2.99", ".5", "not 5": the thirteenth attack
        found them taken as 3, 2, 5 and 5)."""
        words = folded.split()  # "-3", ".5" never come here: ``answer`` asks them again
        if not words or len(words) > 2 * NUMBER_ANSWER_WORDS:
            return None
        locale = self.state.locale
        if any(word in self.lexicon.words_of(locale, NOT_WORDS_KEY) for word in words):
            return None
        found = [
            (position, number)
            for position, word in enumerate(words)
            if (number := _word_number(word, self.lexicon, locale)) is not None
        ]
        if len(found) == 2 and found[1][1] == declared.maximum and found[0][1] != found[1][1]:
            found = found[:1]  # "8 out of 10", "un 8 de 10": the 10 is the scale
            words = words[: len(words) - 1] if words[-1] == str(declared.maximum) else words
        if len(found) != 1:
            return None
        position, number = found[0]
        about = self.lexicon.words_of(locale, ABOUT_WORDS_KEY)
        around = [word for at, word in enumerate(words) if at != position]
        plain = len(words) <= NUMBER_ANSWER_WORDS and position in (0, len(words) - 1)
        if not (plain or all(word in about for word in around)):
            return None
        return number if declared.accepts(number) else None

    def number_at_an_end(self, declared: SlotDecl, raw: str, last: bool) -> int | None:
        """A number said first or last, as ``typed_number`` takes it, with words around it
        that name no number: first ("idk like a 7? this week was rough", *un 8, ya me tiene
        harto esto*, *varmaan 8, oon ihan kuollu tähän*: the nineteenth and twentieth retests)
        or last ("jaja este ejercicio me mata pero bueno, un 6", "been good since, so maybe
        7": the twenty-fifth), all asked again in three languages. The part before the first
        (or after the last) comma, full stop, question mark or dash; "7, no wait, 3" is asked
        again."""
        # Empty parts left out: "no se, un 2?" ends with its question mark.
        parts = [part for part in _FIRST_PART.split(raw) if part.strip()]
        if len(parts) < 2:
            return None
        said, others = (parts[-1], parts[:-1]) if last else (parts[0], parts[1:])
        locale = self.state.locale
        if any(
            _word_number(word, self.lexicon, locale) is not None
            for part in others
            for word in fold(part).split()
        ):
            return None
        return self.typed_number(declared, fold(said))

    def match_choice(
        self,
        node: Node,
        options: list[tuple[ChoiceOption, Choice | None]],
        folded: str,
        raw: str = "",
        whole: bool = False,
    ) -> tuple[ChoiceOption, Choice | None] | None:
        """The choice the person typed: its number, its label or its words as the whole
        message; else (unless ``whole``) the one choice whose "...phrase..." words the
        message holds; else, when no choice's phrase is in it, the choice its first part
        answers ("yes, i took them" is "yes": the part before a comma, a full stop, a dash or
        a question mark), unless the rest turns it round ("no, but ...": ``engine.but_words``)."""
        if not folded:
            return None
        numbers_are_values = (
            node.input is not None and self.program.slots[node.input.slot].type is SlotType.INTEGER
        )
        index = None if numbers_are_values else typed_index(folded)
        if index is not None:
            # A number counts the buttons shown, not answers only typed: "1" at the crisis
            # menu (which also takes a country typed, `offer: []`) is its first button, never
            # the first country of a hidden list.
            buttons = {option.id for option, _choice in self.visible_choices(node)}
            listed = [picked for picked in options if picked[0].id in buttons]
            return listed[index] if 0 <= index < len(listed) else None
        locale = self.state.locale
        words = self.words_of(node, options)
        for (option, choice), typed in zip(options, words, strict=True):
            shown = _shown(choice)
            if shown and option.id == folded and not numbers_are_values:
                return option, choice
            if (shown and self.label_matches(option.label, folded)) or self.lexicon.matches(
                locale, typed, folded
            ):
                return option, choice
        if whole:
            return None
        if numbers_are_values and raw and node.input is not None:
            declared = self.program.slots[node.input.slot]
            if any(
                self.number_at_an_end(declared, raw, last) is not None for last in (False, True)
            ):
                # "no se, un 2?": the number said is the answer, never "not sure" its first
                # part would be (the fifty-sixth retest: taken as "no lo sé").
                return None
        # "ok", "dale", *jatketaan*: the one answer offered, or the one whose id is `go_on`
        # (never in a safety flow, where it may be "Go back to where I was", nor beside a
        # question's own input).
        going_on = [o for o in options if len(options) == 1 or o[0].id == GO_ON_CHOICE]
        if (
            len(going_on) == 1
            and node.input is None
            and not self.in_safety_flow()
            and self.goes_on(folded)
        ):
            return going_on[0]
        # A sentence that holds one choice's "...phrase..." words, and no other choice's.
        mentioned = self.mentioned(options, words, folded)
        if len(mentioned) > 1 and raw:
            # Two asked at once ("cual numero?? es gratis?"): the one asked first, where
            # its part names one only (the twenty-seventh retest: "didn't understand"),
            # unless the rest turns it round ("no not right now. but ive got it planned":
            # the plan, the forty-third retest).
            first, *rest = _FIRST_PART.split(raw, maxsplit=1)
            after = fold(rest[0]) if rest else ""
            turned = bool(after) and self.lexicon.matches(
                locale, BUT_WORDS_KEY, after.split(" ", 1)[0]
            )
            part = after if turned else fold(first)
            mentioned = self.mentioned(options, words, part) if part else []
            if len(mentioned) != 1:
                # Or the first part is an answer of its own ("en tiiä. ehk vähä. mikä numero?
                # onks se ilmanen": "not sure", the thirty-second retest: three times "didn't
                # understand"), unless the rest turns it round, as everywhere.
                return self.first_part_answer(options, words, raw, folded)
        if mentioned:
            return mentioned[0] if len(mentioned) == 1 else None
        # Part of one label as it is shown: "familia" for "Mi familia", "de acuerdo" for "De
        # acuerdo, sigamos" (the twelfth retest: everyday typing not understood).
        held = [
            picked
            for picked in options
            if _shown(picked[1]) and self.label_holds(picked[0].label, folded)
        ]
        if held:
            return held[0] if len(held) == 1 else None
        return self.first_part_answer(options, words, raw, folded)

    def first_part_answer(
        self,
        options: list[tuple[ChoiceOption, Choice | None]],
        words: list[str | None],
        raw: str,
        folded: str,
    ) -> tuple[ChoiceOption, Choice | None] | None:
        """The choice the message's first part answers as a whole message ("yes, i took
        them" is "yes"), unless the rest turns it round ("no, but ...": ``engine.but_words``);
        then the choice its last part answers as a whole message, if it does ("no. well.
        yes", *ei oo. tai no. on*: "yes", never the "no" it took back, the forty-first retest)."""
        locale = self.state.locale
        first, *rest = _FIRST_PART.split(raw, maxsplit=1)
        first = fold(first)
        if not first or first == folded:
            return self.leading_yes(options, words, folded)
        turned = fold(rest[0]).split(" ", 1)[0] if rest else ""
        if self.lexicon.matches(locale, BUT_WORDS_KEY, turned):
            parts = [part for part in map(fold, _FIRST_PART.split(rest[0])) if part]
            # "i dunno. maybe": the rest alone, when it is the turning word ("maybe")
            last = parts[-1] if parts else ""
            return self.whole_answer(options, words, last) if last else None
        return self.whole_answer(options, words, first) or self.leading_yes(
            options, words, fold(first)
        )

    def leading_yes(
        self,
        options: list[tuple[ChoiceOption, Choice | None]],
        words: list[str | None],
        folded: str,
    ) -> tuple[ChoiceOption, Choice | None] | None:
        """At a safety flow's check question, a first word that is its first answer, the one
        that goes on with the flow, with more said after it and no pause ("yes im scared", *si
        estoy preocupado*, *kylla pelkaan*: "didn't understand" in three languages, the
        fiftieth and fifty-first retests). Only the first answer: "no one can come" is never
        read as "no", and a rest that turns it round ("yes but ...") is not read at all."""
        current, at = self.current_route(), self.state.at
        if current is None or at is None or at.node != current.check or not options:
            return None
        head, _, rest = folded.partition(" ")
        if not rest or self.lexicon.matches(self.state.locale, BUT_WORDS_KEY, rest.split(" ")[0]):
            return None
        return self.whole_answer(options[:1], words[:1], head)

    def whole_answer(
        self,
        options: list[tuple[ChoiceOption, Choice | None]],
        words: list[str | None],
        folded: str,
    ) -> tuple[ChoiceOption, Choice | None] | None:
        """The choice ``folded`` is as a whole message: its label or one of its words."""
        locale = self.state.locale
        for (option, choice), typed in zip(options, words, strict=True):
            if (_shown(choice) and self.label_matches(option.label, folded)) or (
                self.lexicon.matches(locale, typed, folded)
            ):
                return option, choice
        return None

    def words_of(
        self, node: Node, options: list[tuple[ChoiceOption, Choice | None]]
    ) -> list[str | None]:
        """Each option's words key: a choice's own, or its slot value's."""
        value_words = self.program.slots[node.input.slot].words if node.input is not None else {}
        return [
            choice.words if choice is not None else value_words.get(option.id)
            for option, choice in options
        ]

    def mentioned(
        self,
        options: list[tuple[ChoiceOption, Choice | None]],
        words: list[str | None],
        folded: str,
        specific: bool = True,
    ) -> list[tuple[ChoiceOption, Choice | None]]:
        """The options whose "...phrase..." words ``folded`` holds, not as a place the
        person says they are not in ("im not in the us"). ``specific``: a phrase held only as
        part of a longer one another option names is that option's: "not tonight" (not now)
        inside "not tonight tomorrow" (in danger; the forty-third retest: a plan for a day
        taken as "not right now"). A ``now_only`` choice's phrases do not count in a message
        that tells of the past ("last time i cut myself")."""
        locale = self.state.locale
        held = [
            (option, phrases)
            for option, typed in zip(options, words, strict=True)
            if not self.told_as_past(option[1], folded)
            and (phrases := self.lexicon.phrases_held(locale, typed, folded, NOT_THERE_WORDS_KEY))
        ]
        if not specific:
            return [option for option, _phrases in held]
        return held_specifically(folded, held)

    def holds_any_answer(self, node: Node, folded: str) -> bool:
        """Whether ``folded`` holds any of the question's answers' words anywhere, as whole
        words ("pues como q si.. no se" holds "si" and "no se"): more than a match."""
        options = self.visible_choices(node, typed=True)
        return any(
            self.lexicon.holds(self.state.locale, typed, folded)
            for typed in self.words_of(node, options)
        )

    def label_holds(self, label: Label | int, folded: str) -> bool:
        """Whether ``folded`` is a run of whole words of ``label`` as shown that says enough
        (two words or more, a word of four letters or more, or the label's first word) and
        leaves none of its negations out ("right now" is not "No, not right now")."""
        shown = self.shown_label(label)
        if shown is None or folded == shown:
            return False
        typed, words = folded.split(" "), shown.split(" ")
        if not (len(typed) > 1 or len(typed[0]) >= LABEL_PART_LETTERS):
            starts = [0] if words[: len(typed)] == typed else []
        else:
            starts = [i for i in range(len(words)) if words[i : i + len(typed)] == typed]
        negations = self.lexicon.words_of(self.state.locale, NOT_WORDS_KEY)
        return any(
            not any(word in negations for word in words[:start] + words[start + len(typed) :])
            for start in starts
        )

    def shown_label(self, label: Label | int) -> str | None:
        """``label`` as the person reads it, folded (its slots' values filled in)."""
        if not isinstance(label, Label):
            return None
        locale = self.state.locale
        if not label.params:
            text = self.lexicon.label_text(locale, label.key)
            return fold(text) if text is not None else None
        values: dict[str, str] = {}
        for name, value in label.params:
            typed = _as_typed(self.lexicon, locale, value)
            if typed is None:
                return None
            values[name] = typed
        filled = self.lexicon.filled(locale, label.key, values)
        return fold(filled) if filled is not None else None

    def label_matches(self, label: Label | int, folded: str) -> bool:
        """Whether the person typed ``label`` as it is shown (its slots' values filled in)."""
        if isinstance(label, Label) and not label.params:
            return self.lexicon.matches(self.state.locale, label.key, folded)
        return self.shown_label(label) == folded

    def choice_picked(self, choice_id: str) -> None:
        if choice_id.startswith(COMMAND_CHOICE_PREFIX):
            try:
                command = CommandName(choice_id.removeprefix(COMMAND_CHOICE_PREFIX))
            except ValueError:
                command = None
            if command is not None:
                self.command(command, None)
                return
        if self.state.waiting is Waiting.LANGUAGE:
            if choice_id in self.program.locales:
                self.change_language(choice_id)
            else:
                self.language_menu()
            return
        if self.state.waiting is not Waiting.ANSWER or self.state.at is None:
            self.say(EngineKeys.CHOICE_UNAVAILABLE)
            self.redisplay()
            return
        node = self._node(self.state.at.flow, self.state.at.node)
        for option, choice in self.visible_choices(node):
            if option.id == choice_id:
                self.picked = option
                self.pick(node, option, choice)
                return
        self.say(EngineKeys.CHOICE_UNAVAILABLE)
        self.prompt(node)

    def tick(self, node: Node, items: list[ChoiceOption]) -> None:
        """Items of a list typed: ticked, never unticked ("häpeä" typed after "syyllisyys",
        both words of "Syyllisyys ja häpeä", keeps it ticked); a press unticks."""
        assert node.input is not None
        declared = self.program.slots[node.input.slot]
        self.answered(node)
        for option in items:
            if not option.picked:
                self.apply(SlotChange("add", declared.name, option.id, declared.span))
        self.enter(node.place)

    def pick(self, node: Node, option: ChoiceOption, choice: Choice | None) -> None:
        self.answered(node)
        if choice is None:
            assert node.input is not None
            declared = self.program.slots[node.input.slot]
            value = _generated_value(declared, option.id)
            if declared.type is SlotType.LIST:
                operation = "remove" if option.picked else "add"
                self.apply(SlotChange(operation, declared.name, option.id, declared.span))
                self.enter(node.place)
                return
            self.slots[declared.name] = value
            self.compare_with_last_time(declared, value)
            self.enter(self.follow(node.then, node))
            return
        self.take(node, choice)

    def take(self, node: Node, choice: Choice) -> None:
        """Go where a choice leads. An answer that leaves the flow while a typed answer is
        held ("someone is hurting me" at a check question, to the young person's words)
        means the risk was real: what was typed is dropped, never stored when the person
        comes back to the question. So does an answer that says it was about another person
        (the route's ``about_another``: a partner's goodbye typed as one's "reasons for
        change" is never kept as one's own words; the thirty-ninth retest)."""
        for change in choice.changes:
            self.apply(change)
        target = self.follow(choice.then, node)
        route = self.program.safety_route_of(node.flow)
        another = route is not None and choice.id in route.about_another
        if self.state.held is not None and (target.flow != node.flow or another):
            self.state = evolve(self.state, held=None)
        self.enter(target)

    def compare_with_last_time(self, declared: SlotDecl, today: SlotValue) -> None:
        """A ``progress`` slot answered again after coming back: "last time 4, today 6"."""
        if not declared.progress or declared.name not in self.state.earlier:
            return
        earlier = self.state.earlier[declared.name]
        self.outputs.append(
            Message(
                PROGRESS_KEY,
                {"earlier": slot_param(declared, earlier), "today": slot_param(declared, today)},
            )
        )

    def apply(self, change: SlotChange) -> None:
        if change.operation == "set":
            self.slots[change.slot] = change.value
            return
        current = self.slots.get(change.slot, ())
        items = list(current) if isinstance(current, tuple) else []
        if change.operation == "add" and change.value not in items:
            items.append(str(change.value))
        elif change.operation == "remove" and change.value in items:
            items.remove(str(change.value))
        self.slots[change.slot] = tuple(items)

    def answered(self, node: Node) -> None:
        """The person answered ``node``: remember it for ``back`` and reset the miss count."""
        frame = shared_frame(node.place, tuple(self.stack))
        history = (*self.state.history, frame)[-self.program.settings.history_size :]
        self.state = evolve(self.state, history=history, misses=0)

    def missed(self, node: Node, key: str) -> None:
        misses = self.state.misses + 1
        self.state = evolve(self.state, misses=misses)
        # Never "it seems I'm not helping right now" in a crisis: a safety flow's own question
        # asked again already gives the numbers (the sixteenth retest: said to a suicidal
        # person asked for their country).
        if (
            misses >= self.program.settings.misses_before_offering_person
            and CommandName.HELP in self.program.commands
            and node.place.flow not in interrupting_flows(self.program)
        ):
            self.say(key)
            options = tuple(option for option, _choice in self.visible_choices(node))
            nobody = self.slots.get(HELPLINE_SLOT, True) is False
            self.say(
                EngineKeys.OFFER_HELP if nobody else EngineKeys.OFFER_PERSON,
                options + self.command_choices(CommandName.HELP),
                node.kind is NodeKind.INPUT,
            )
            return
        options = tuple(option for option, _choice in self.visible_choices(node))
        self.say(key, options, node.kind is NodeKind.INPUT)

    # --- commands ----------------------------------------------------------------------------

    def command(self, command: CommandName, argument: str | None) -> None:
        if command not in self.program.commands:
            self.say(EngineKeys.NOT_UNDERSTOOD)
            self.redisplay()
            return
        if command in (CommandName.STOP, CommandName.ERASE):
            self.outputs.append(End(erase=True, forget_saved=command is CommandName.ERASE))
            self.state = evolve(
                self.state, waiting=Waiting.ENDED, at=None, history=(), pending_action=None
            )
            self.slots = {}
            self.stack = []
        elif command is CommandName.RESTART:
            self.start(self.state.locale)
        elif command is CommandName.REPEAT:
            self.redisplay()
        elif command is CommandName.LANGUAGE:
            if argument in self.program.locales:
                self.change_language(argument)
            else:
                self.language_menu()
        elif command is CommandName.BACK:
            self.back()
        else:
            self.call_command(command)

    def help(self) -> None:
        self.call_command(CommandName.HELP)

    def call_command(self, command: CommandName) -> None:
        """Run the command's flow (``help``, ``about``), which returns to where the person was."""
        spec = self.program.commands[command]
        assert spec.call is not None
        self.interrupt()
        self.enter(PlaceRef(spec.call, None, spec.span))

    def back(self) -> None:
        """The previous question, within a safety flow only its own (a typed "back" at the
        danger question never leaves the flow before its crisis lines: the flow's own "go
        back to where I was" does that)."""
        history = self.state.history
        at = self.state.at
        leaves_safety = (
            bool(history)
            and at is not None
            and history[-1].at.flow != at.flow
            and any(route.flow == at.flow for route in self.program.safety)
        )
        if (
            not history
            or leaves_safety
            or self.state.waiting not in (Waiting.ANSWER, Waiting.HANDOFF)
        ):
            self.say(EngineKeys.CANNOT_GO_BACK)
            self.redisplay()
            return
        frame = history[-1]
        self.state = evolve(self.state, history=history[:-1], misses=0)
        self.stack = list(frame.stack)
        self.enter(frame.at)

    def language_menu(self) -> None:
        if self.state.waiting is not Waiting.LANGUAGE:
            self.state = evolve(self.state, waiting=Waiting.LANGUAGE)
        self.say(EngineKeys.CHOOSE_LANGUAGE, self.language_choices())

    def language_choices(self) -> tuple[ChoiceOption, ...]:
        """Each language by its own name, in that language."""
        return tuple(
            ChoiceOption(locale, Label(EngineKeys.LANGUAGE_NAME, locale))
            for locale in self.program.locales
        )

    def match_language(self, folded: str) -> str | None:
        for locale in self.program.locales:
            if (
                folded == fold(locale)
                or self.lexicon.matches(locale, EngineKeys.LANGUAGE_NAME, folded)
                or self.lexicon.matches(locale, LANGUAGE_WORDS_KEY, folded)
            ):
                return locale
        return None

    def change_language(self, locale: str) -> None:
        at = self.state.at
        waiting = self.state.waiting
        if waiting is Waiting.LANGUAGE and at is not None:
            kind = self._node(at.flow, at.node).kind
            waiting = (
                Waiting.ANSWER
                if kind.waits
                else Waiting.HANDOFF
                if kind is NodeKind.HANDOFF
                else Waiting.ENDED
            )
        # What was said in the language left may not have been understood: said in full once
        # more in the new one (``told``: the welcome's brief "we're back at the start" to a
        # person who could not read it the first time).
        self.state = evolve(self.state, locale=locale, waiting=waiting, told=())
        self.redisplay()

    # --- the world's answers -----------------------------------------------------------------

    def action_result(self, result: ActionResult) -> None:
        if self.state.waiting is not Waiting.ACTION or self.state.pending_action != result.action:
            return  # a late or repeated result changes nothing
        at = self.state.at
        assert at is not None
        node = self._node(at.flow, at.node)
        if result.failed:
            self.say(EngineKeys.ACTION_FAILED)
            self.enter(self.follow(node.then, node))
            return
        declared_action = self.program.actions.get(result.action)
        allowed = set(declared_action.sets) if declared_action else set()
        for name, value in result.slot_sets:
            declared = self.program.slots.get(name)
            if (
                declared is None
                or name not in allowed
                or (value is not None and not declared.accepts(value))
            ):
                raise EngineError(f"action {result.action} set slot {name} it may not set")
            if value is None:
                self.slots.pop(name, None)
            else:
                self.slots[name] = value
        self.outputs.extend(result.messages)
        if result.restart:
            self.start(self.state.locale)
            return
        if result.pause:
            self.outputs.append(
                HandoffRequest(HandoffReason.OTHER, HandoffUrgency.NORMAL, node.flow)
            )
        if result.followup is not None and result.followup in self.program.actions:
            self.request_action(result.followup, node)
            return
        self.enter(self.follow(node.then, node))

    def handoff_ended(self, event: HandoffEnded) -> None:
        """Back from a person: where the operator chose, or past the handoff node, or the
        question the person was at again. A crisis the person wrote of to the operator is
        asked about first, as an uncertain hit would be (its flow in full once confirmed),
        whatever the operator answered (the nineteenth retest: "mulla on tosi huono olo, en
        tiiä jaksanko", then the operator closed; the twenty-first: "i have pills here",
        "please call 112 now", closed; both times the program carried on with no question),
        and its flow returns there; one confirmed before the chat, from its first question."""
        self.say(EngineKeys.HANDOFF_ENDED)
        resume: Place | PlaceRef | None = event.resume_at
        if resume is not None and self.program.find_node(resume) is None:
            resume = None
        at = self.state.at
        if resume is None and self.state.waiting is Waiting.HANDOFF and at is not None:
            node = self._node(at.flow, at.node)
            resume = self.follow(node.then, node)
        told = [r for r in self.program.safety if r.category.value in event.crises]
        if told:
            if resume is not None:
                found = self.program.find_node(resume)
                if found is not None:
                    self.stack.append(found.place)
            else:
                self.interrupt()
            # Each crisis written to the operator, the highest first; the others follow when it
            # returns (the forty-third retest: a young person's suicide and a child at risk,
            # told to the operator; after the close only the child was asked about).
            entries = [
                Place(
                    route.flow,
                    self.safety_entry(
                        route, {route.category: RiskHit(route.category, certain=False)}
                    ),
                )
                for route in told
            ]
            self.stack.extend(reversed(entries[1:]))  # as a raise queues those after it
            self.enter(self.past_opening_if_confirmed(told[0], entries[0]))
            return
        if resume is not None:
            self.enter(resume)
            return
        self.redisplay()


PROGRESS_KEY = "resume.progress"
"""The comparison's text (``ResumeKeys.PROGRESS``): ``%{earlier}`` and ``%{today}``."""


def came_back(program: Program, state: SessionState) -> SessionState:
    """The person came back with resume words: the ``progress`` slots' answers in the copy
    become last time's, to compare today's with."""
    earlier = {
        name: value
        for name, value in state.slots.items()
        if name in program.slots and program.slots[name].progress
    }
    return evolve(state, earlier=earlier)


@per_program
def _crisis_flows(program: Program) -> dict[str, RiskCategory]:
    """Each crisis's safety flow, and its category (``CRISES``); worked out once a program,
    not at every branch of a turn."""
    return {route.flow: route.category for route in program.safety if route.category in CRISES}


def shown_first(named: list[Choice]) -> list[Choice]:
    """Of the choices a message names by their words, the ones shown as buttons where it
    names any: an answer only typed gives way ("should i call someone? im scared hes going
    to hurt them" at the child's check question names "Someone else may be harming a child"
    and the question about calling, only typed: the first)."""
    shown = [choice for choice in named if not choice.typed_only]
    return shown or named


def _shown(choice: Choice | None) -> bool:
    """Whether the option is shown as a button: its label (or id) typed takes it, not only
    its words (a ``typed_only`` choice's label is never seen, so never typed)."""
    return choice is None or not choice.typed_only


def offered_choice(program: Program, state: SessionState, choice_id: str) -> ChoiceOption | None:
    """The option ``choice_id`` as offered to the person at ``state`` (a command's, a
    language's, or an answer to the question they are at), or None if it is not offered
    there: what they picked, for rendering their side of the conversation."""
    run = _Run(program, state)
    if choice_id.startswith(COMMAND_CHOICE_PREFIX):
        commands = [c for c in CommandName if COMMAND_CHOICE_PREFIX + c.value == choice_id]
        return next(iter(run.command_choices(*commands)), None)
    if state.waiting is Waiting.LANGUAGE:
        return next((o for o in run.language_choices() if o.id == choice_id), None)
    node = _asked(program, state)
    if node is None:
        return None
    return next((o for o, _choice in run.visible_choices(node) if o.id == choice_id), None)


def is_slot_value(program: Program, state: SessionState, choice_id: str) -> bool:
    """Whether ``choice_id``, offered at ``state``, is a value of its question's slot (a
    country, a number on a scale) rather than one of the question's own answers."""
    node = _asked(program, state)
    if node is None or node.input is None:
        return False
    run = _Run(program, state)
    return any(o.id == choice_id and choice is None for o, choice in run.visible_choices(node))


def _asked(program: Program, state: SessionState) -> Node | None:
    """The question the person is asked at ``state`` (None: no answer is awaited)."""
    at = state.at
    flow = program.flows.get(at.flow) if at is not None else None
    node = flow.nodes.get(at.node) if flow is not None and at is not None else None
    return node if state.waiting is Waiting.ANSWER else None


def numbered_choice(program: Program, state: SessionState, text: str) -> str | None:
    """The id of the button shown where the person is that ``text``, a number alone, names
    ("6" for the sixth), or None (not a number, a number the question takes as a value, or
    past the buttons shown)."""
    node = _asked(program, state)
    index = typed_index(fold(text))
    if node is None or index is None:
        return None
    if node.input is not None and program.slots[node.input.slot].type is SlotType.INTEGER:
        return None
    shown = _Run(program, state).visible_choices(node)
    return shown[index][0].id if 0 <= index < len(shown) else None


def typed_answer(program: Program, state: SessionState, text: str) -> bool:
    """Whether ``text`` is a command or one of the answers offered where the person is ("keep
    my place", "eight" on a scale, or a short sentence holding one answer's "...phrase..."
    words): the program's own words, which the second screening layer leaves to the rules
    (``Runtime._screen``). A longer message outside a safety flow holds more than the
    answer, and is read whole:
    "i want to stop but tonight i just feel like ending it, ive got nothing left" was taken as
    "I want to stop", the rest never read by the second layer (the fifty-seventh retest)."""
    folded = fold(text)
    if folded_command(program, state.locale, folded) is not None:
        return True
    in_a_crisis = crisis_in_view(program, state.at, state.stack) is not None
    if len(folded.split()) > SHORT_ANSWER_WORDS and not in_a_crisis:
        # Inside a safety flow the crisis is in hand, and its answers are questions about it
        # ("¿si llamo me van a quitar de mi mamá?": about calling, never a new crisis).
        return _typed_choice(program, state, folded, whole=True, raw=text)
    return _typed_choice(program, state, folded, whole=False) or _number_answer(
        program, state, text
    )


SHORT_ANSWER_WORDS = 6
"""A message of at most this many words that holds an answer offered (a number on a scale
with a few words: "no se, un 2?", which the second layer asked about a child, the
fifty-sixth retest) is that answer; a longer one is read whole."""


def _number_answer(program: Program, state: SessionState, text: str) -> bool:
    """Whether ``text`` is a short message whose number answers the question where the person
    is (a number said first or last, ``number_at_an_end``)."""
    node = program.find_node(state.at) if state.at is not None else None
    if state.waiting is not Waiting.ANSWER or node is None or node.input is None:
        return False
    declared = program.slots[node.input.slot]
    if declared.type is not SlotType.INTEGER:
        return False
    run = _Run(program, state)
    return any(run.number_at_an_end(declared, text, last) is not None for last in (False, True))


def typed_choice(program: Program, state: SessionState, text: str) -> bool:
    """Whether ``text``, as the whole message, is one of the choices offered where the person
    is (its number, label or words): the same as pressing it, which is not screened either
    ("Feeling hopeless" typed at "Which could be warning signs for you?" ticks it)."""
    folded = fold(text)
    if folded_command(program, state.locale, folded) is not None:
        return False  # a command's words ("talk to a person") are screened as before
    return _typed_choice(program, state, folded, whole=True, raw=text)


def _typed_choice(
    program: Program, state: SessionState, folded: str, whole: bool, raw: str = ""
) -> bool:
    node = program.find_node(state.at) if state.at is not None else None
    if state.waiting is not Waiting.ANSWER or node is None:
        return False
    run = _Run(program, state)
    options = run.visible_choices(node, typed=True)
    if run.match_choice(node, options, folded, whole=whole) is not None:
        return True
    return bool(raw) and bool(run.typed_items(node, options, raw, whole))


def crisis_in_view(
    program: Program, at: Place | None, stack: Sequence[Place]
) -> RiskCategory | None:
    """The crisis (``CRISES``) whose safety flow the person is in: at one of its questions,
    or below another flow it called or that interrupted it, or queued to run (None: none)."""
    if at is None:
        return None
    crises = {route.flow: route.category for route in program.safety if route.category in CRISES}
    for place in (at, *reversed(stack)):
        category = crises.get(place.flow)
        if category is not None:
            return category
    return None


def waits_for(route: SafetyRoute, hits: dict[RiskCategory, RiskHit]) -> bool:
    """Whether ``route`` defers to a category raised with it by the rules (not the model
    alone: "i think im having a heart attack", which the model reads as perhaps suicidal,
    still hears the emergency number first): its flow runs after that one. A route that
    ``gives_way`` waits for a crisis raised with it, by the rules or the model: "tengo 15 años
    y a veces pienso q seria mejor no despertar" got only the young person's words, and
    "necesito hablar con alguien de verdad... ya no puedo mas con esto" a place in the queue
    at `normal`, the suicide question asked only after the fallback (the twenty-second
    retest); the crisis's check comes first now, then the flow."""
    if any(c in hits and not hits[c].learned for c in route.defers_to):
        return True
    return route.gives_way and any(c in hits for c in CRISES)


def typed_command(program: Program, locale: str, text: str) -> CommandName | None:
    """The program's command that ``text`` is, typed as words ("help", "leave now"), or None."""
    return folded_command(program, locale, fold(text))


def asked_command(program: Program, locale: str, text: str) -> CommandName | None:
    """The command ``text`` is (``typed_command``), or one it asks for in other words (a
    command's "...phrase..." words: "im in australia, do you have a number")."""
    folded = fold(text)
    command = folded_command(program, locale, folded)
    if command is None and program.lexicon is not None and folded:
        command = program.lexicon.mentioned_command(locale, folded)
    return command if command is not None and command in program.commands else None


def folded_command(program: Program, locale: str, folded: str) -> CommandName | None:
    """``typed_command`` for text already folded (``textnorm.fold``)."""
    if program.lexicon is None or not folded:
        return None
    command = program.lexicon.command(locale, folded)
    return command if command is not None and command in program.commands else None


def _as_typed(lexicon: Lexicon, locale: str, value: Param) -> str | None:
    """A label's placeholder value as the person reads it, for matching what they type
    (None: not shown as text, such as a slot not answered)."""
    if isinstance(value, Label):
        return lexicon.label_text(value.locale or locale, value.key)
    if isinstance(value, (str, int)):
        return str(value)
    return None


def _split_on(words: list[str], joins: frozenset[str]) -> list[list[str]]:
    """``words`` cut at each of ``joins`` (dropped)."""
    runs: list[list[str]] = [[]]
    for word in words:
        if word in joins:
            runs.append([])
        else:
            runs[-1].append(word)
    return runs


def _word_number(word: str, lexicon: Lexicon, locale: str) -> int | None:
    """The number one folded word writes, in digits or as a word of ``numbers.<n>``."""
    if _NUMBER.fullmatch(word):
        return int(word)
    return lexicon.number(locale, word)


def _parse_input(declared: SlotDecl, raw: str) -> SlotValue | None:
    """The person's typed answer as a value for ``declared``, or None if it does not fit
    (``raw`` is already clean: the runtime admits every message once, ``ingress.admit``)."""
    if declared.type is SlotType.TEXT:
        cleaned = raw.strip()
        limit = declared.max_length
        if not cleaned or (limit is not None and len(cleaned) > limit):
            return None
        return cleaned
    if declared.type is SlotType.INTEGER:
        digits = fold(raw)
        if not _NUMBER.fullmatch(digits):
            return None
        number = int(digits)
        return number if declared.accepts(number) else None
    return None


def _generated_value(declared: SlotDecl, option_id: str) -> SlotValue:
    if declared.type is SlotType.BOOLEAN:
        return option_id == "yes"
    if declared.type is SlotType.INTEGER:
        return int(option_id)
    return option_id


@dataclass(slots=True)
class _Worked:
    """What is worked out once per loaded program: its parts, and the options of choices
    whose labels have no placeholders (the same every time they are shown)."""

    parts: Parts
    plain_options: dict[tuple[str, str], ChoiceOption] = field(default_factory=dict)
    generated: dict[tuple[str, str, str, bool], tuple[ChoiceOption, ...]] = field(
        default_factory=dict
    )
    """An input node's options for its slot, none picked, by the node's flow, id and slot, and
    whether they are those a typed answer may name (also values only typed)."""


def _generated(
    declared: SlotDecl, asked: InputSpec, typed: bool = False
) -> tuple[ChoiceOption, ...]:
    """The options offered for ``declared`` at a node asking for it, none picked; ``typed``:
    with the slot's values only typed (``SlotDecl.typed_only``) after them."""
    values = asked.offered(declared)
    if typed:
        values = [*values, *(v for v in declared.typed_only if v not in values)]
    if declared.type is SlotType.BOOLEAN:
        return tuple(
            ChoiceOption(v, Label(EngineKeys.YES if v == "yes" else EngineKeys.NO)) for v in values
        )
    if declared.type is SlotType.INTEGER:
        return tuple(ChoiceOption(v, int(v)) for v in values)
    return tuple(ChoiceOption(v, Label(declared.labels.get(v, v))) for v in values)


@per_program
def _worked(program: Program) -> _Worked:
    return _Worked(program_parts(program))


@per_program
def _asked_unless_known(program: Program) -> frozenset[Place]:
    """Questions a flow asks only while their slot holds nothing: an ``if`` of the flow goes
    round the question when the slot is set, and its ``else`` leads to it (``safety_country``:
    "Which country are you in?")."""
    asked: set[Place] = set()
    for flow in program.flows.values():
        for node in flow.nodes.values():
            if node.kind is not NodeKind.BRANCH or node.otherwise is None:
                continue
            target = node.otherwise.goto
            if target is None or target.flow != flow.id or target.node is None:
                continue
            question = flow.nodes.get(target.node)
            if question is None or question.input is None:
                continue
            if any(
                isinstance(branch.when.root, SlotRef)
                and branch.when.root.name == question.input.slot
                for branch in node.branches
            ):
                asked.add(question.place)
    return frozenset(asked)
