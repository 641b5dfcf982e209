"""The country a message names, as the crisis path keeps it: a pure reading of the words of
the ``country`` slot's values, shared by the dialogue (a country named at a crisis question
that does not ask for it) and the handoff (a country written to an operator: "uk. my hands r
shaking", the thirty-fourth retest, whose notice "don't wait for an answer here" then gave
112 or 911 instead of the country's own number)."""

from __future__ import annotations

from redirection_bot.dialogue.lexicon import NOT_THERE_WORDS_KEY, held_specifically
from redirection_bot.dialogue.model import COUNTRY_SLOT, Program


def country_named(program: Program, locale: str, folded: str) -> str | None:
    """The one value of the ``country`` slot whose words ``folded`` holds (as its whole
    text, or anywhere but right after "not in"; a name inside another's longer one is that
    one's), None when it names none or several ("from mexico but living in spain")."""
    declared = program.slots.get(COUNTRY_SLOT)
    lexicon = program.lexicon
    if declared is None or lexicon is None:
        return None
    whole = [value for value, key in declared.words.items() if lexicon.matches(locale, key, folded)]
    if whole:
        return whole[0] if len(whole) == 1 else None
    held = [
        (value, phrases)
        for value, key in declared.words.items()
        if (phrases := lexicon.phrases_held(locale, key, folded, NOT_THERE_WORDS_KEY))
    ]
    # A place held only inside another's longer name is that one's: "ireland" in "im in
    # northern ireland" ("ireland. ive the tablets lined up", the fifty-third retest, named
    # no country to the operator while "...ireland..." was left out for it).
    named = held_specifically(folded, held)
    return named[0] if len(named) == 1 else None
