"""What a message means once the person has taken something: a pure reading of screening's
hits in the light of the conversation, between screening and the dialogue (or the operator).

Once something was taken (``HARM_TAKEN_SLOT``), distress ("me cuesta respirar", "mua oksettaa
ja sydän hakkaa") and the signs of what was taken ("mucho sueño", "my stomach hurts a lot
now", written in ``engine.taken_signs_words``) are the suicide crisis's: its emergency advice
again, never a breathing exercise, and a person's words to an operator that bring "don't wait
for an answer here: call now" (the thirtieth retest: a panic exercise for someone who had
taken pills and could not breathe; symptoms written to an operator had no notice). Words that
tell of something taken, written to an operator ("otin äsken unilääkkeitä ja viinaa päälle"),
are remembered as if told to the program: everything said after the operator leaves says
"you have taken something" (the same retest: "are you in danger?" again).
"""

from __future__ import annotations

from collections.abc import Sequence

from redirection_bot.dialogue.lexicon import TAKEN_SIGNS_WORDS_KEY
from redirection_bot.dialogue.model import HARM_TAKEN_SLOT, Choice, Program
from redirection_bot.engine.state import SessionState, Waiting
from redirection_bot.language.textnorm import fold
from redirection_bot.safety.categories import RiskCategory, RiskHit


def with_taken_signs(
    program: Program, state: SessionState, text: str, hits: Sequence[RiskHit]
) -> tuple[RiskHit, ...]:
    """``hits``, with distress or a sign of what was taken read as the suicide crisis (a
    certain hit, in place of distress) once something was taken; as they were otherwise."""
    if state.slots.get(HARM_TAKEN_SLOT) is not True:
        return tuple(hits)
    if any(hit.category is RiskCategory.SUICIDE for hit in hits):
        return tuple(hits)
    distress = any(hit.category is RiskCategory.DISTRESS for hit in hits)
    lexicon = program.lexicon
    signs = lexicon is not None and lexicon.mentions(
        state.locale, TAKEN_SIGNS_WORDS_KEY, fold(text)
    )
    if not (distress or signs) or answers_the_question(program, state, text):
        return tuple(hits)
    kept = tuple(hit for hit in hits if hit.category is not RiskCategory.DISTRESS)
    return (RiskHit(RiskCategory.SUICIDE), *kept)


def answers_the_question(program: Program, state: SessionState, text: str) -> bool:
    """Whether ``text`` names one of the choices offered at the question the person is at,
    by its "...phrase..." words: "what do i tell them when they answer" at the child's check
    question after pills taken is its question about calling, not the emergency advice again
    (the fifty-third retest)."""
    lexicon, at = program.lexicon, state.at
    if lexicon is None or at is None or state.waiting is not Waiting.ANSWER:
        return False
    flow = program.flows.get(at.flow)
    node = flow.nodes.get(at.node) if flow is not None else None
    if node is None:
        return False
    folded = fold(text)
    return any(
        choice.words is not None
        and (choice.when is None or choice.when.evaluate(state.slots))
        and lexicon.mentions(state.locale, choice.words, folded)
        for choice in node.choices
    )


def tells_of_taking(program: Program, state: SessionState, text: str) -> bool:
    """Whether ``text`` says something was taken, in the words of the suicide flow's choice
    that records it (the one that sets ``HARM_TAKEN_SLOT``)."""
    lexicon = program.lexicon
    if lexicon is None:
        return False
    folded = fold(text)
    return any(
        lexicon.matches(state.locale, key, folded) or lexicon.mentions(state.locale, key, folded)
        for key in taken_words_keys(program)
    )


def taken_words_keys(program: Program) -> tuple[str, ...]:
    """The words of every choice that records that something was taken."""
    keys: dict[str, None] = {}
    for flow in program.flows.values():
        for node in flow.nodes.values():
            for choice in node.choices:
                if choice.words is not None and records_taken(choice):
                    keys[choice.words] = None
    return tuple(keys)


def records_taken(choice: Choice) -> bool:
    """Whether picking ``choice`` records that something was taken (``HARM_TAKEN_SLOT``)."""
    return any(
        change.operation == "set" and change.slot == HARM_TAKEN_SLOT and change.value is True
        for change in choice.changes
    )
