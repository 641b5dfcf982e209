"""What screening can find: a closed set of risk categories, and one hit."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from redirection_bot.language.suggest import did_you_mean


class RiskCategory(enum.StrEnum):
    """The categories screening looks for in every message (docs/safety.md defines each)."""

    SUICIDE = "suicide"
    """Thoughts of ending one's life, or self-harm."""
    CHILD_AT_RISK = "child_at_risk"
    """The person may harm a child soon, has access to or contact with a child and fears
    acting, or discloses abuse that is happening or has happened."""
    ILLEGAL_REQUEST = "illegal_request"
    """Asks for abusive material, links, sites, search terms, or how not to get caught."""
    HUMAN = "human"
    """Wants to talk to a person."""
    DISTRESS = "distress"
    """Acute distress (panic, cannot cope) without the above."""
    MINOR = "minor"
    """Says they are under 18."""
    IDENTIFYING_INFO = "identifying_info"
    """Shares a name, e-mail address, phone number, address or similar."""


CHECKED_ONCE = frozenset(
    {RiskCategory.SUICIDE, RiskCategory.CHILD_AT_RISK, RiskCategory.ILLEGAL_REQUEST}
)
"""Categories whose check question is asked at most until the risk is confirmed: once the
conversation went into the category's safety flow in full (a clear hit, or "yes" to the
check), a later uncertain hit starts that flow again without asking. A person who has said
they want to die is not asked "are you having thoughts of ending your life?" after a side
question. Asking for a person, distress, age and identifying details are checked each time."""

ACKNOWLEDGED_ONCE = frozenset({RiskCategory.SUICIDE})
"""Categories whose safety flow's opening words (the acknowledgement, "Thank you for telling
me...") are said once a conversation: raised again once confirmed, the flow starts at its
first question ("are you in danger right now?"). A child's safety advice and a refusal of
material are said every time."""

CRISES = frozenset({RiskCategory.SUICIDE, RiskCategory.CHILD_AT_RISK})
"""Once one of these was confirmed in a conversation (``SessionState.confirmed``), a request
for a person made later in it is at least of high urgency, whatever the asking node says:
"i want to talk to a real person" after "everyone would be better off without me" is no
ordinary request (the eighteenth retest: sent as `normal`)."""


@dataclass(frozen=True, slots=True)
class RiskHit:
    """A category found in a message. ``certain`` is false when every mention was negated,
    hypothetical, or written by the clinicians as a "check" phrase: the safety flow then
    starts with its gentle check question instead of acting at once."""

    category: RiskCategory
    certain: bool = True
    learned: bool = False
    """Raised by the second screening layer alone (never certain), not by a clinician's
    phrase: a lower category raised with it does not wait for it (``defers_to``)."""
    from_answer: bool = False
    """Raised only by the question's own ``check_in_answers`` phrases (one's own children
    named at the triggers question; never certain): a crisis a phrase raised with it comes
    first ("this is goodbye. tell my kids im sorry": the suicide question before the child's,
    the fifty-third retest)."""


def category_named(name: str) -> RiskCategory | None:
    """The category called ``name``, or None."""
    try:
        return RiskCategory(name)
    except ValueError:
        return None


def not_a_category(name: str) -> str:
    """What an author is told about a name that is not a category."""
    return (
        f"`{name}` is not a risk category{did_you_mean(name, list(RiskCategory))}"
        f" (categories: {', '.join(RiskCategory)})"
    )
