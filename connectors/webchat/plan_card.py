"""My plan as one card: the plan's messages, in order, grouped under their headings.

The program says the plan as separate messages (``action_plan_summary``): its title, a
heading before each part's answers (``plan.part``), the services' headings
(``plan.own_behaviour``, ``plan.crisis``) and the lines under them. The web chat shows that
run of messages as one card; every text in it is an authored, rendered message, escaped
where it is shown like any other. Other channels receive the same messages in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redirection_bot.api import Shown, ShownMessage

CARD_TITLE_KEY = "plan.title"
CARD_HEADING_KEYS = frozenset({"plan.part", "plan.own_behaviour", "plan.crisis"})
CARD_NAMESPACES = ("plan.", "services.")
CARD_ALONE_KEYS = frozenset({"plan.closing"})
"""Lines that belong to no part: the plan's closing words stand apart from the part before."""


@dataclass(frozen=True, slots=True)
class CardSection:
    heading: ShownMessage | None
    items: tuple[ShownMessage, ...]


@dataclass(frozen=True, slots=True)
class PlanCard:
    title: ShownMessage
    sections: tuple[CardSection, ...]

    @property
    def text(self) -> str:
        """The card as plain text, as the messages would read one after another."""
        lines = [self.title.text]
        for section in self.sections:
            if section.heading is not None:
                lines.append(section.heading.text)
            lines.extend(item.text for item in section.items)
        return "\n".join(lines)


def group_plan(shown: Sequence[Shown]) -> list[Shown | PlanCard]:
    """``shown`` with each run of the plan's messages (from its title) made into one card."""
    grouped: list[Shown | PlanCard] = []
    index = 0
    while index < len(shown):
        item = shown[index]
        if not (_in_card(item) and isinstance(item, ShownMessage) and item.key == CARD_TITLE_KEY):
            grouped.append(item)
            index += 1
            continue
        end = index + 1
        while end < len(shown) and _in_card(shown[end]):
            end += 1
        grouped.append(
            _card(item, [m for m in shown[index + 1 : end] if isinstance(m, ShownMessage)])
        )
        index = end
    return grouped


def _in_card(item: Shown) -> bool:
    return (
        isinstance(item, ShownMessage)
        and not item.choices
        and not item.expects_text
        and item.key.startswith(CARD_NAMESPACES)
    )


def _card(title: ShownMessage, messages: list[ShownMessage]) -> PlanCard:
    sections: list[CardSection] = []
    heading: ShownMessage | None = None
    items: list[ShownMessage] = []
    for message in messages:
        if message.key in CARD_HEADING_KEYS or message.key in CARD_ALONE_KEYS:
            if heading is not None or items:
                sections.append(CardSection(heading, tuple(items)))
            heading, items = message, []
            if message.key in CARD_ALONE_KEYS:  # a section of its own, without a heading
                heading, items = None, [message]
        else:
            items.append(message)
    if heading is not None or items:
        sections.append(CardSection(heading, tuple(items)))
    return PlanCard(title, tuple(sections))
