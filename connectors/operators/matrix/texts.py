"""The operator room's words: ``locales/operators.<locale>.yml``, in the channel's language.

The program lists ``operators`` in ``interface_texts``, so the validator has already made
sure every locale has them and that each keeps the English text's placeholders; the
channel checks its own language again at start, in case it runs with a program that does
not declare them. Labels of closed sets (urgencies, reasons, risk categories, changes to a
ticket, refusals) are keys named after their codes: ``operators.urgency.high``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from redirection_bot.api import (
    BookingStatus,
    Catalog,
    ConnectorError,
    HandoffReason,
    HandoffUrgency,
    Outcome,
    RiskCategory,
    TicketChange,
)

NAMESPACE = "operators"
CHANGES = tuple(TicketChange)
"""Changes to a ticket the room is told of (``TicketChanged.change``); ``change.other`` for
any other."""
REFUSALS = {
    Outcome.DUPLICATE: "duplicate",
    Outcome.NOT_YOURS: "not_yours",
    Outcome.NOT_CLAIMED: "not_claimed",
    Outcome.UNKNOWN: "unknown",
}
"""Why an operator's act changed nothing; ``refused.other`` for any other outcome."""
TEXTS = (
    "ticket.opened",
    "ticket.where",
    "ticket.risks",
    "ticket.waiting",
    "ticket.fallback_given",
    "ticket.to_claim",
    "no_risks",
    "someone",
    "change.other",
    "said.person",
    "said.person_at_risk",
    "said.program",
    "said.not_kept",
    "conversation_so_far",
    "help",
    "note_kept",
    "not_an_operator",
    "on_duty",
    "off_duty",
    "queue",
    "queue_empty",
    "no_such_place",
    "refused.other",
    "undecryptable",
    *(
        f"appointments.{name}"
        for name in (
            "help",
            "slots",
            "no_slots",
            "bookings",
            "no_bookings",
            "added",
            "exists",
            "bad_slot",
            "removed",
            "has_bookings",
            "no_such_slot",
            "cancelled",
            "no_show",
            "no_such_booking",
            "unchanged",
            "not_started",
            "say_which",
            "not_offered",
        )
    ),
)
LABELS = {
    "urgency": tuple(HandoffUrgency),
    "reason": tuple(HandoffReason),
    "risk": tuple(RiskCategory),
    "appointments.status": tuple(BookingStatus),
}
"""Codes shown by their label in the room's language (``operators.<family>.<code>``)."""


def operator_text_keys() -> Iterator[str]:
    """Every text the operator room needs, as full keys."""
    names = [
        *TEXTS,
        *(f"change.{change}" for change in CHANGES),
        *(f"refused.{reason}" for reason in REFUSALS.values()),
        *(f"{family}.{code}" for family, codes in LABELS.items() for code in codes),
    ]
    return (f"{NAMESPACE}.{name}" for name in names)


def check_operator_texts(catalog: Catalog, language: str) -> None:
    """Raise ConnectorError naming every text of the operator room missing in ``language``."""
    missing = [key for key in operator_text_keys() if not catalog.can_show(key, language)]
    if missing:
        raise ConnectorError(
            f"the program's locales lack texts the Matrix operator room shows in `{language}`: "
            + ", ".join(missing)
            + " (see locales/operators.en.yml, and add `operators` to interface_texts)"
        )


@dataclass(frozen=True, slots=True)
class OperatorTexts:
    """The operator room's words in one language, rendered from the program's catalog."""

    catalog: Catalog
    language: str

    def say(self, name: str, **params: str) -> str:
        """The text ``operators.<name>`` with its placeholders filled."""
        return self.catalog.render(f"{NAMESPACE}.{name}", self.language, params)

    def label(self, family: str, code: str) -> str:
        """The label of ``code`` (an urgency, a reason, a risk category, a booking's status);
        a code this version
        has no label for (sent by a newer one) is shown as it is."""
        key = f"{NAMESPACE}.{family}.{code}"
        if not self.catalog.can_show(key, self.language):
            return code
        return self.catalog.render(key, self.language)

    def risks(self, codes: tuple[str, ...]) -> str:
        """Labels of risk categories, separated by commas (``no_risks`` when there are none)."""
        if not codes:
            return self.say("no_risks")
        return ", ".join(self.label("risk", code) for code in codes)

    def change(self, change: str, **params: str) -> str:
        name = change if change in CHANGES else "other"
        return self.say(f"change.{name}", change=change, **params)

    def refusal(self, outcome: Outcome) -> str:
        return self.say(f"refused.{REFUSALS.get(outcome, 'other')}")
