"""The dialogue model: what a clinician's YAML means, as immutable values.

Everything here is plain data. Parsing builds it (``parse``), checks inspect it
(``checks``), and the engine walks it. Texts are never stored here: only locale keys.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from redirection_bot.diagnostics import Span
from redirection_bot.safety.categories import RiskCategory

if TYPE_CHECKING:
    from redirection_bot.dialogue.conditions import Condition
    from redirection_bot.dialogue.lexicon import Lexicon

SlotValue = str | int | bool | tuple[str, ...]
MAX_RANGE_AS_QUICK_REPLIES = 11
"""An integer slot with at most this many values is offered as number buttons (0 to 10)."""
"""What a slot can hold: a choice value or text, a number, yes/no, or a list of values."""


class SlotType(enum.StrEnum):
    CHOICE = "choice"
    INTEGER = "integer"
    TEXT = "text"
    BOOLEAN = "boolean"
    LIST = "list"


@dataclass(frozen=True, slots=True)
class SlotDecl:
    """A declared slot: a named place for something the person chose or wrote."""

    name: str
    type: SlotType
    span: Span
    values: tuple[str, ...] = ()
    """Allowed values of a choice or list slot, in the author's order."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Locale key of each value's label (choice and list slots), used in texts and quick replies."""
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    default: SlotValue | None = None
    words: Mapping[str, str] = field(default_factory=dict)
    """Locale key of the words a person may type for a value, besides its label (choice and
    list slots: ``words: {gb: countries.gb_words}``), read as a choice's ``words`` are."""
    progress: bool = False
    """Compared with the person's answer of last time when they come back with resume words
    (``progress: true``; integer and choice slots only)."""
    heard: str | None = None
    """Locale key of words that set this boolean slot to true wherever a message in a safety
    flow, or the message starting one, holds one of them (``heard: safety.suicide.means_words``:
    a gun named in a crisis brings the advice to put it away); boolean slots only."""
    typed_only: tuple[str, ...] = ()
    """Values never offered as quick replies, only typed (``typed_only: [pe, cl]``: a country
    with its own lines, named in words, where a list of twelve buttons has no room)."""

    def quick_reply_values(self) -> list[str]:
        """The values offered as quick replies when a person is asked for this slot."""
        if self.type in (SlotType.CHOICE, SlotType.LIST):
            return [value for value in self.values if value not in self.typed_only]
        if self.type is SlotType.BOOLEAN:
            return ["yes", "no"]
        low, high = self.minimum, self.maximum
        if self.type is SlotType.INTEGER and low is not None and high is not None:
            return (
                [str(n) for n in range(low, high + 1)]
                if high - low < MAX_RANGE_AS_QUICK_REPLIES
                else []
            )
        return []

    def accepts(self, value: object) -> bool:
        """Whether ``value`` is a valid value of this slot."""
        kind = self.type
        if kind is SlotType.BOOLEAN:
            return isinstance(value, bool)
        if kind is SlotType.INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                return False
            return (self.minimum is None or value >= self.minimum) and (
                self.maximum is None or value <= self.maximum
            )
        if kind is SlotType.TEXT:
            return isinstance(value, str) and (
                self.max_length is None or len(value) <= self.max_length
            )
        if kind is SlotType.CHOICE:
            return isinstance(value, str) and value in self.values
        return isinstance(value, tuple) and all(item in self.values for item in value)


class CommandName(enum.StrEnum):
    """The global commands a person can use at any point."""

    HELP = "help"
    BACK = "back"
    REPEAT = "repeat"
    RESTART = "restart"
    LANGUAGE = "language"
    STOP = "stop"
    ERASE = "erase"
    """Leave and erase everything, the copy kept under resume words too (``stop`` keeps it)."""
    ABOUT = "about"
    """What is kept and who can see it: "is this anonymous?", "can the police see this?",
    asked anywhere, answered by its flow, which returns to where the person was."""
    PAUSE = "pause"
    """Stop for now and come back later ("i need to stop for tonight, can i come back
    tomorrow?"), at any question: its flow offers words to come back with, then returns."""

    @property
    def calls_a_flow(self) -> bool:
        """Whether the command runs a flow of the program's (``call:``), and returns."""
        return self in (CommandName.HELP, CommandName.ABOUT, CommandName.PAUSE)

    @property
    def words_key(self) -> str:
        return f"commands.{self.value}.words"

    @property
    def label_key(self) -> str:
        return f"commands.{self.value}.label"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A command the program enables; ``call`` is the flow run for ``help``, ``about`` and
    ``pause``."""

    name: CommandName
    span: Span
    call: str | None = None


class HandoffReason(enum.StrEnum):
    """Why the program asks for a person (a handoff node's ``reason``)."""

    ASKED = "asked"
    SUICIDE = "suicide"
    CHILD_AT_RISK = "child_at_risk"
    ILLEGAL_REQUEST = "illegal_request"
    DISTRESS = "distress"
    MINOR = "minor"
    MISUNDERSTANDING = "misunderstanding"
    OTHER = "other"


class HandoffUrgency(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    IMMEDIATE = "immediate"


@dataclass(frozen=True, slots=True)
class Place:
    """A node of the program, by flow and node id: where a conversation is, where it returns
    to, where it resumes after a handoff. It names a node that exists (see ``PlaceRef``)."""

    flow: str
    node: str

    def __str__(self) -> str:
        return f"{self.flow}.{self.node}"


@dataclass(frozen=True, slots=True)
class PlaceRef:
    """A place as the author wrote it (a ``goto``, the program's ``entry`` and ``home``), not
    yet checked: ``node`` None means the flow's start node; ``span`` is where it was written.
    ``Program.resolve`` gives the ``Place`` it names."""

    flow: str
    node: str | None
    span: Span

    def describe(self) -> str:
        return self.flow if self.node is None else f"{self.flow}.{self.node}"


@dataclass(frozen=True, slots=True)
class Transition:
    """What happens next: optionally ``call`` a flow first, then continue at ``goto``.

    Both empty means: ask the same node again (only meaningful for a choice).
    """

    goto: PlaceRef | None = None
    call: str | None = None
    call_span: Span | None = None

    @property
    def is_empty(self) -> bool:
        return self.goto is None and self.call is None


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A message to say, by locale key."""

    key: str
    span: Span


@dataclass(frozen=True, slots=True)
class SlotChange:
    """``set``, ``add`` (to a list) or ``remove`` (from a list) a slot value."""

    operation: str
    slot: str
    value: SlotValue
    span: Span


@dataclass(frozen=True, slots=True)
class Choice:
    """A quick reply: a label the person picks, what it changes and where it leads."""

    id: str
    label: str
    span: Span
    label_span: Span
    words: str | None = None
    when: Condition | None = None
    changes: tuple[SlotChange, ...] = ()
    then: Transition = Transition()
    typed_only: bool = False
    """Never shown as a button: only its words, typed, take it ("ok i called, the ambulance is
    on its way" where a menu of six buttons has no room for a seventh)."""
    now_only: bool = False
    """Its words found inside a longer message count only when the message tells of nothing
    past (``engine.past_words``: "last year", *la otra vez*, *viime vuonna*): a past attempt
    told ("last time i cut myself it didnt work") is not harm just done."""


@dataclass(frozen=True, slots=True)
class InputSpec:
    """The person's own words (or a number) go into ``slot``; ``invalid`` is said when they don't fit."""

    slot: str
    span: Span
    invalid: str | None = None
    invalid_span: Span | None = None
    offer: tuple[str, ...] | None = None
    """Only these of a choice or list slot's values are offered here, in this order (``offer``;
    None: every value, in the slot's order; empty, ``offer: []``: none, the value is only
    typed)."""

    def offered(self, declared: SlotDecl) -> list[str]:
        """The values offered as quick replies at this node."""
        values = declared.quick_reply_values()
        if self.offer is None:
            return values
        return [value for value in self.offer if value in values]


@dataclass(frozen=True, slots=True)
class Branch:
    """One arm of an ``if``: when the condition holds, take the transition."""

    when: Condition
    then: Transition
    span: Span


@dataclass(frozen=True, slots=True)
class HandoffSpec:
    reason: HandoffReason
    urgency: HandoffUrgency
    span: Span


class NodeKind(enum.StrEnum):
    SAY = "say"
    ASK = "ask"
    INPUT = "input"
    BRANCH = "if"
    ACTION = "action"
    HANDOFF = "handoff"
    RETURN = "return"
    END = "end"

    @property
    def waits(self) -> bool:
        """Whether the conversation stops here for the person's answer."""
        return self in (NodeKind.ASK, NodeKind.INPUT)


@dataclass(frozen=True, slots=True)
class Node:
    """A named step of a flow."""

    flow: str
    id: str
    kind: NodeKind
    span: Span
    say: tuple[MessageRef, ...] = ()
    choices: tuple[Choice, ...] = ()
    input: InputSpec | None = None
    reask: MessageRef | None = None
    branches: tuple[Branch, ...] = ()
    otherwise: Transition | None = None
    action: str | None = None
    action_span: Span | None = None
    handoff: HandoffSpec | None = None
    then: Transition | None = None
    """Where a say, input, action or handoff node goes on to (``next``/``goto``/``call``)."""
    changes: tuple[SlotChange, ...] = ()
    """Slots a node that asks nothing sets as it runs (``set``/``add``/``remove``), before it
    says anything: what a flow needs whichever way it was entered."""

    @property
    def qualified_id(self) -> str:
        return f"{self.flow}.{self.id}"

    @property
    def place(self) -> Place:
        return Place(self.flow, self.id)


@dataclass(frozen=True, slots=True)
class Flow:
    """One module of the program, in one file."""

    id: str
    span: Span
    start: str
    start_span: Span
    nodes: Mapping[str, Node]
    title: str | None = None
    title_span: Span | None = None


@dataclass(frozen=True, slots=True)
class ActionDecl:
    """A custom action the program uses: the texts it may say and the slots it may set."""

    name: str
    span: Span
    texts: str | None = None
    """Locale namespace (for instance ``plan``) whose keys the action may say."""
    params: tuple[str, ...] = ()
    sets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProgramSettings:
    """The program's own ``settings`` section (not the deployment's, ``config.Settings``)."""

    misses_before_offering_person: int = 3
    """After this many answers in a row that match nothing, a person is offered."""
    history_size: int = 20
    """How many earlier questions `back` can return to."""
    missing_translation: str = "error"
    """``error``: a missing text stops the program from starting; ``use_default_locale``:
    show the default locale's text (validation warns about each)."""


@dataclass(frozen=True, slots=True)
class SafetyRoute:
    """What runs when screening raises ``category`` (the program file's ``safety`` section)."""

    category: RiskCategory
    flow: str
    span: Span
    check: str | None = None
    """The node of ``flow`` where an uncertain hit starts (a gentle check question)."""
    again: str | None = None
    """The node of ``flow`` to go to when the category comes up again while the person is in
    the flow; without it the message is taken as an answer to the current question."""
    after_others: bool = False
    """When the category comes up together with a higher one, its flow runs too, afterwards."""
    answered_at: str | None = None
    """A question of ``flow`` that the message starting the flow may already answer: when the
    message names one of the ``answered_by`` choices by that choice's "...phrase..." words
    (and no other choice of the question), the choice is taken at once and the flow's opening
    words are skipped. The ``check`` question is answered the same way when an uncertain hit
    starts there."""
    answered_by: tuple[str, ...] = ()
    """The choices (by id) that ``answered_at`` lets the starting message pick."""
    defers_to: tuple[RiskCategory, ...] = ()
    """Raised while the flow of one of these categories runs (past its check), the category
    does not start its own flow: that flow's ``again`` node runs instead ("help me please"
    after an overdose brings the emergency advice again, never a breathing exercise)."""
    keeps_answer: bool = True
    """Whether a free-text answer that raised the category uncertainly is kept when its check
    question is answered "no" (held meanwhile); ``false``: it is never kept, the question is
    asked again ("spending time alone with my nephew" is no plan item, whatever the check)."""
    sets: tuple[SlotChange, ...] = ()
    """Slots set the moment the category is raised for certain, before any flow runs, also
    when a higher category's flow runs first (``minor``: ``under_18``, so that a suicidal
    young person's first crisis list already has the lines for young people)."""
    gives_way: bool = False
    """Inside this flow, a higher category's uncertain hit in a message that answers none of
    the question's choices starts that category's ``check`` at once (never queued for after
    this flow while the question is asked again), and this flow carries on after it:
    ``human`` and ``minor``, so that nobody waiting for a person, or reading about services
    for young people, has "i cant take it anymore" answered "Sorry, I didn't understand"
    (the eighteenth retest). Without it the crisis in hand is not left for a
    guess: the suicide flow finishes before an uncertain hit about a child is asked about."""
    check_at_once: bool = False
    """An uncertain hit starts the ``check`` at once inside any other safety flow too (never
    queued for after it, nor taken as that flow's answer), which carries on after it:
    ``human``, so that "are you a bot?" is answered honestly wherever it is asked (the
    eighteenth retest: "Sorry, I didn't understand that" to a 15-year-old in the minor flow)."""
    settled_at: tuple[str, ...] = ()
    """Questions of ``flow`` reached once the crisis in hand has what to do and its numbers
    (the menu after the crisis lines): a crisis raised with it and queued behind it runs from
    here, and the question is asked when that flow returns ("estoy solo con mi sobrino ... y
    ya me quiero morir": the suicide questions right after the child's lines, not only once
    the person chose to go back; the twenty-seventh retest)."""
    about_another: tuple[str, ...] = ()
    """``answered_by`` choices that say the message is about another person ("my friend
    sent me a goodbye"): taken on entry for a certain hit, the person is asked the ``check``
    question about themselves too, queued to run at ``settled_at`` ("ei oo mitään järkeä enää
    jatkaa. ja mun kaveri laitto ... hyvästi": the friend only, the twenty-seventh retest)."""
    keeps_answer_when: Condition | None = None
    """``keeps_answer`` written as a condition: the answer is held (and kept after "no") only
    while it holds, read when the category is raised (``suicide``: `not suicide_declined`, a
    second signal after one "no" is never kept in the plan; the twenty-seventh retest)."""


@dataclass(frozen=True, slots=True)
class Program:
    """The whole dialogue: program file plus every flow."""

    id: str
    version: str
    span: Span
    default_locale: str
    locales: tuple[str, ...]
    entry: PlaceRef
    home: PlaceRef
    slots: Mapping[str, SlotDecl]
    actions: Mapping[str, ActionDecl]
    commands: Mapping[CommandName, CommandSpec]
    flows: Mapping[str, Flow]
    settings: ProgramSettings = ProgramSettings()
    title: str | None = None
    interface_texts: tuple[str, ...] = ()
    """Locale namespaces whose texts channels show themselves (web page buttons, notices)."""
    safety: tuple[SafetyRoute, ...] = ()
    """Safety flows by risk category, highest priority first; empty: no safety section."""
    lexicon: Lexicon | None = None
    partner_entry: PlaceRef | None = None
    """Where a conversation opened from a partner platform's link starts (None: the entry)."""
    return_entry: PlaceRef | None = None
    """What runs first when a person comes back with resume words, called from the question
    they were at (None: that question is simply asked again)."""
    help_flows: tuple[str, ...] = ()
    """Flows that count as "reached help" in a partner's funnel (operations/partners.py)."""
    locales_span: Span | None = None
    """Where ``locales:`` is written, for problems with the list of locales."""
    """Set by the loader once the locale files are read."""

    def node(self, flow: str, node: str | None = None) -> Node:
        """The node at a place (``None`` is the flow's start); raises KeyError if absent."""
        found = self.flows[flow]
        return found.nodes[found.start if node is None else node]

    def find_node(self, place: PlaceRef | Place) -> Node | None:
        found = self.flows.get(place.flow)
        if found is None:
            return None
        return found.nodes.get(found.start if place.node is None else place.node)

    def resolve(self, ref: PlaceRef) -> Place | None:
        """The node a reference names, or None when there is no such flow or node."""
        node = self.find_node(ref)
        return None if node is None else node.place

    def place_named(self, name: str) -> Place | None:
        """``flow`` (its start) or ``flow.node``, as an operator types it, if it exists."""
        flow, _, node = name.strip().partition(".")
        found = self.find_node(PlaceRef(flow, node or None, self.span))
        return None if found is None else found.place

    def all_nodes(self) -> list[Node]:
        return [node for flow in self.flows.values() for node in flow.nodes.values()]

    def command_calls(self) -> list[tuple[str, Span]]:
        """The flows the commands run (``help``, ``about``), each with where it is named."""
        return [(c.call, c.span) for c in self.commands.values() if c.call is not None]

    def safety_route(self, category: RiskCategory) -> SafetyRoute | None:
        return next((route for route in self.safety if route.category is category), None)

    def safety_route_of(self, flow: str) -> SafetyRoute | None:
        """The safety route whose flow is ``flow``, if it is one."""
        return next((route for route in self.safety if route.flow == flow), None)

    def safety_category_at(self, place: Place) -> RiskCategory | None:
        """The category whose safety flow starts in full at ``place`` (its start or ``again``
        node, never its check question), if any."""
        for route in self.safety:
            if (
                route.flow == place.flow
                and route.flow in self.flows
                and place.node != route.check
                and (place.node == self.flows[route.flow].start or place.node == route.again)
            ):
                return route.category
        return None


RESERVED_PARAMETER_NAMES = frozenset({"locale", "count", "default"})
"""python-i18n gives these names a meaning of its own; no slot or parameter may use them."""

HARM_TAKEN_SLOT = "harm_taken"
"""A yes/no slot a safety flow sets when the person has already taken something or hurt
themselves: the short plan shown where nobody can join is then what to do now
(``handoff.safety_plan_suicide_taken``), not what to do if one might act."""

UNDER_18_SLOT = "under_18"
"""A yes/no slot: the person said they are under 18. Services for young people are listed
(``custom_actions/services.py``), and the short plan shown where nobody can join is a young
person's (``handoff.safety_plan_minor``)."""

COUNTRY_SLOT = "country"
"""The slot holding the country the person chose (an ISO code): where it is known, texts
that have a ``_here`` variant write its emergency number out instead of "112 or 911"."""

TOPICS_SLOT = "service_topics"
"""The slot holding the kinds of service a safety flow chose for the services directory
(``action_services``; empty: every kind): crisis lines only after thoughts of suicide."""

REPEATED_SUFFIX = "_repeated"
"""A text's variant said instead of it once it was said in full in the conversation: "what
happens when I call?" asked twice in a row got the same long answer twice (the fifty-fourth
retest)."""


HERE_SUFFIX = "_here"
"""A text's variant said where the person's country is known (``COUNTRY_SLOT``), with that
country's emergency numbers in ``%{numbers}``; used wherever the text it varies is."""

TAKEN_SUFFIX = "_taken"
"""A text's variant said where the person has already taken something or hurt themselves
(``HARM_TAKEN_SLOT``): what to do now, never "if you might act"; used wherever the text it
varies is, and varied by country after it (``_taken_here``)."""

SUICIDAL_SUFFIX = "_suicidal"
"""A text's variant said where a suicidal crisis was confirmed in this conversation and
nothing is known to be taken (``SessionState.confirmed``): the numbers again as an operator
leaves, never only "thank you for talking with them" (the thirty-second retest); varied by
country after it (``_suicidal_here``)."""

CHILD_RISK_SUFFIX = "_child_risk"
"""A text's variant said where a child at risk was confirmed in this conversation
(``SessionState.confirmed``) and neither of the above holds for that text: the emergency
number again as an operator leaves (the thirty-eighth retest: "thank you for talking with
them", and no number, after a chat about a child in danger); varied by country after it."""

SITUATION_SUFFIXES = (TAKEN_SUFFIX, SUICIDAL_SUFFIX, CHILD_RISK_SUFFIX)
"""The variants a text may have for the person's situation: of those that hold, the first
the text has is said."""

ELSEWHERE_SUFFIX = "_elsewhere"
"""A text's variant said where the person said they are in a country the program does not
list (Spanish texts name Colombia's, Mexico's and Spain's numbers; a person in Venezuela is
told "112 o 911" instead); used wherever the text it varies is."""

REQUESTED_SLOT = "person_requested"
"""A slot the runtime sets before every turn, when the program declares it (a boolean):
whether a request for a person is open (awaited, or an operator has the conversation); the
engine sets it as it asks for one. "Talk to a person now" is not offered while it holds
(``when: not person_requested``; the twenty-seventh retest: pressed again and again, each
time "let me see whether a person can join" and "your request is already open")."""

HELPLINE_SLOT = "helpline_connected"
"""A slot the runtime sets before every turn, when the program declares it (a boolean):
whether a helpline is connected to this chat, so that a person is offered only where one
could join (``when: helpline_connected``). Declare it with ``default: true`` so that previews
and conversation tests show the program as a helpline would."""

CRISIS_WAITING_SLOT = "crisis_waiting"
"""A text slot the engine sets, when the program declares it, wherever a flow branches: the
crisis (``suicide``, ``child_at_risk``) whose flow waits under the flow that runs now, at its
check question ("are you having thoughts of ending your life?") or another ("are you away
from the child now?"): another safety flow pre-empted it. Unset where none is. A request for
a person made meanwhile is of high urgency, and goes back to the crisis's question at once
(the fifty-first and fifty-fourth retests: asked for there, `normal`, and the question only
behind "Go back")."""

RUNTIME_SLOTS: Mapping[str, SlotType] = {
    HELPLINE_SLOT: SlotType.BOOLEAN,
    CRISIS_WAITING_SLOT: SlotType.TEXT,
}
"""Slots the runtime or the engine sets itself, with the type a program must declare them
with."""
