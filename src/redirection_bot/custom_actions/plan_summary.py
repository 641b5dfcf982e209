"""``action_plan_summary``: the person's plan, built from their slots with the `plan` texts.

The clinicians decide what the plan shows by writing texts: for every slot that has a
value and a text ``plan.<slot>``, that text is said, in the order the slots are declared.
``plan.title`` comes first; ``plan.empty`` is said when there is nothing to show yet, and
``plan.closing``, where the clinicians wrote one, ends a plan that has something in it.

The plan is grouped by the part of the program each answer was given in (``dialogue.parts``):
a ``plan.part`` heading (the part's own title) comes before that part's answers; answers
given outside the parts (where the person started) come first. After the thinking traps the
person chose, the balanced answer to each, as the thinking part said it (``plan.balanced``).

Every plan then lists the services for one's own thoughts and behaviour in the person's
country (``plan.own_behaviour``), or for someone who said they are under 18 (the
``under_18`` slot) the services for young people (``plan.youth``): a child who said someone
hurts them must never find their plan calling them someone with sexual thoughts about
children. It ends with where to turn in a crisis, whatever else it
holds, under a heading of its own (``plan.crisis``): the emergency
number of the person's country written out (or 112, 911 and "your local number"), and the
crisis lines for their country and language (``ServicesDirectory.crisis_lines``: never a
service about sexual interest in children), with their numbers in digits.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from redirection_bot.custom_actions import ProgramAction
from redirection_bot.custom_actions.services import (
    OWN_BEHAVIOUR,
    YOUTH,
    chosen_country,
    utter_emergency,
    utter_services,
    young,
)
from redirection_bot.dialogue.model import HARM_TAKEN_SLOT, TOPICS_SLOT, Program
from redirection_bot.dialogue.parts import program_parts
from redirection_bot.services import CRISIS_TOPICS

PLAN_NAMESPACE = "plan"
PART_KEY = f"{PLAN_NAMESPACE}.part"
BALANCED_ANSWERS = {"thinking_errors": "thinking.answer"}
"""List slots whose every chosen value has a balanced answer, ``<prefix>.<value>``."""


class ActionPlanSummary(ProgramAction):
    def name(self) -> str:
        return "action_plan_summary"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        loaded = self.context.loaded
        locale = loaded.program.default_locale
        dispatcher.utter_message(response=f"{PLAN_NAMESPACE}.title")
        shown = 0
        for title, slots in plan_sections(loaded.program):
            answered = [
                slot
                for slot in slots
                if tracker.get_slot(slot) not in (None, "", [])
                and loaded.catalog.has(f"{PLAN_NAMESPACE}.{slot}", locale)
            ]
            if answered and title is not None and loaded.catalog.has(PART_KEY, locale):
                dispatcher.utter_message(response=PART_KEY, part={"key": title})
            for slot in answered:
                dispatcher.utter_message(
                    response=f"{PLAN_NAMESPACE}.{slot}", **{slot: {"slot": slot}}
                )
                self.balanced_answers(dispatcher, slot, tracker.get_slot(slot))
                shown += 1
        if shown == 0:
            dispatcher.utter_message(response=f"{PLAN_NAMESPACE}.empty")
        elif loaded.catalog.has(f"{PLAN_NAMESPACE}.closing", locale):
            dispatcher.utter_message(response=f"{PLAN_NAMESPACE}.closing")
        if loaded.catalog.has(f"{PLAN_NAMESPACE}.crisis", locale):
            self.services(dispatcher, tracker)
        return []

    def balanced_answers(self, dispatcher: CollectingDispatcher, slot: str, value: Any) -> None:
        prefix = BALANCED_ANSWERS.get(slot)
        if prefix is None or not isinstance(value, list | tuple):
            return
        catalog, locale = self.context.loaded.catalog, self.context.loaded.program.default_locale
        for item in value:
            key = f"{prefix}.{item}"
            if catalog.has(key, locale) and catalog.has(f"{PLAN_NAMESPACE}.balanced", locale):
                dispatcher.utter_message(response=f"{PLAN_NAMESPACE}.balanced", answer={"key": key})

    def services(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        loaded = self.context.loaded
        metadata = (tracker.latest_message or {}).get("metadata") or {}
        language = str(metadata.get("locale") or loaded.program.default_locale)
        country = chosen_country(tracker, loaded.program.slots)
        topic = YOUTH if young(tracker, loaded.program.slots) else OWN_BEHAVIOUR
        listed = loaded.services.find(language, country, (topic,))
        own = listed and loaded.catalog.has(f"{PLAN_NAMESPACE}.{topic}", language)
        crisis_first = in_crisis(tracker)
        lines = loaded.services.crisis_lines(language, country)
        # A service of both kinds (Línea de la Vida: crisis and youth) is listed once, in the
        # section shown first (the fortieth retest: twice in a young person's plan).
        if own and not crisis_first:
            dispatcher.utter_message(response=f"{PLAN_NAMESPACE}.{topic}")
            utter_services(dispatcher, listed)
            lines = [line for line in lines if line not in listed]
        dispatcher.utter_message(response=f"{PLAN_NAMESPACE}.crisis")
        utter_emergency(dispatcher, loaded.services, country)
        utter_services(dispatcher, lines)
        later = [service for service in listed if service not in lines]
        if own and crisis_first and later:
            dispatcher.utter_message(response=f"{PLAN_NAMESPACE}.{topic}")
            utter_services(dispatcher, later)


def in_crisis(tracker: Tracker) -> bool:
    """Whether the person's plan is read in a crisis (something taken, or the crisis lines the
    topic of the moment): where to turn then comes first (the thirtieth retest: a person who
    had taken pills read a service about sexual thoughts above the crisis lines)."""
    topics = tracker.get_slot(TOPICS_SLOT) or []
    return tracker.get_slot(HARM_TAKEN_SLOT) is True or any(
        topic in CRISIS_TOPICS for topic in topics
    )


def plan_sections(program: Program) -> list[tuple[str | None, list[str]]]:
    """The slots in declared order, grouped by the part whose questions set them (the part's
    title; None for slots set outside the parts, which come first)."""
    parts = program_parts(program).order
    part_of: dict[str, str] = {}
    for part in parts:
        for node in program.flows[part].nodes.values():
            if node.input is not None:
                part_of.setdefault(node.input.slot, part)
            for choice in node.choices:
                for change in choice.changes:
                    part_of.setdefault(change.slot, part)
    sections: dict[str | None, list[str]] = {None: []}
    for slot in program.slots:
        sections.setdefault(part_of.get(slot), []).append(slot)
    return [
        (None if flow is None else program.flows[flow].title, slots)
        for flow, slots in sections.items()
    ]
