"""``action_services``: support services for the person's language and country.

Reads the slots ``country`` (a choice of lower-case ISO country codes) and
``service_topics`` (a list of topics) when the program declares them, and the session's
locale from the tracker's latest message metadata, as a Rasa channel would send it.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from redirection_bot.custom_actions import ProgramAction

COUNTRY_SLOT = "country"
TOPICS_SLOT = "service_topics"


class ActionServices(ProgramAction):
    def name(self) -> str:
        return "action_services"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        loaded = self.context.loaded
        metadata = (tracker.latest_message or {}).get("metadata") or {}
        locale = str(metadata.get("locale") or loaded.program.default_locale)
        country = tracker.get_slot(COUNTRY_SLOT) if COUNTRY_SLOT in loaded.program.slots else None
        topics = tracker.get_slot(TOPICS_SLOT) if TOPICS_SLOT in loaded.program.slots else None
        found = loaded.services.find(
            locale, country.upper() if isinstance(country, str) else None, topics or ()
        )
        if not found:
            dispatcher.utter_message(response="services.none")
            return []
        dispatcher.utter_message(response="services.intro")
        for service in found:
            dispatcher.utter_message(
                response="services.entry",
                name={"key": service.name_key},
                contact={"key": service.contact_key},
                description={"key": service.description_key},
            )
        return []
