"""``action_plan_summary``: the person's plan, built from their slots with the `plan` texts.

The clinicians decide what the plan shows by writing texts: for every slot that has a
value and a text ``plan.<slot>``, that text is said, in the order the slots are declared.
``plan.title`` comes first; ``plan.empty`` is said when there is nothing to show yet, and
``plan.closing``, where the clinicians wrote one, ends a plan that has something in it.

Every plan then lists the services for one's own thoughts and behaviour in the person's
country (``plan.own_behaviour``), and ends with where to turn in a crisis, whatever else it
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
from redirection_bot.custom_actions.services import chosen_country, utter_emergency, utter_services

PLAN_NAMESPACE = "plan"


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
        for slot in loaded.program.slots:
            key = f"{PLAN_NAMESPACE}.{slot}"
            value = tracker.get_slot(slot)
            if value in (None, "", []) or not loaded.catalog.has(key, locale):
                continue
            dispatcher.utter_message(response=key, **{slot: {"slot": slot}})
            shown += 1
        if shown == 0:
            dispatcher.utter_message(response=f"{PLAN_NAMESPACE}.empty")
        elif loaded.catalog.has(f"{PLAN_NAMESPACE}.closing", locale):
            dispatcher.utter_message(response=f"{PLAN_NAMESPACE}.closing")
        if loaded.catalog.has(f"{PLAN_NAMESPACE}.crisis", locale):
            self.services(dispatcher, tracker)
        return []

    def services(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        loaded = self.context.loaded
        metadata = (tracker.latest_message or {}).get("metadata") or {}
        language = str(metadata.get("locale") or loaded.program.default_locale)
        country = chosen_country(tracker, loaded.program.slots)
        own = loaded.services.find(language, country, ("own_behaviour",))
        if own and loaded.catalog.has(f"{PLAN_NAMESPACE}.own_behaviour", language):
            dispatcher.utter_message(response=f"{PLAN_NAMESPACE}.own_behaviour")
            utter_services(dispatcher, own)
        dispatcher.utter_message(response=f"{PLAN_NAMESPACE}.crisis")
        utter_emergency(dispatcher, loaded.services, country)
        utter_services(dispatcher, loaded.services.crisis_lines(language, country))
