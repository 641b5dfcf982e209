"""My plan as one card: the plan's messages grouped under their headings."""

from redirection_bot.program.render import ShownMessage
from redirection_bot_connectors.webchat.plan_card import PlanCard, group_plan


def _said(key: str, text: str) -> ShownMessage:
    return ShownMessage(key, text)


def test_the_closing_words_stand_apart_from_the_last_part() -> None:
    shown = [
        _said("plan.title", "My plan"),
        _said("plan.part", "A self-assessment of my use"),
        _said("plan.risky_situations", "Where I started, my hardest moments: at night"),
        _said("plan.closing", "If I ever think a child is in danger, I call the emergency number."),
        _said("plan.crisis", "If I am in crisis, I contact:"),
        _said("services.line", "A crisis line: 116 123"),
    ]
    [card] = group_plan(shown)
    assert isinstance(card, PlanCard)
    sections = [
        (section.heading.text if section.heading else None, [item.key for item in section.items])
        for section in card.sections
    ]
    assert sections == [
        ("A self-assessment of my use", ["plan.risky_situations"]),
        (None, ["plan.closing"]),
        ("If I am in crisis, I contact:", ["services.line"]),
    ]
