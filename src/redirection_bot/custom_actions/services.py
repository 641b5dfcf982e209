"""``action_services``: the emergency number and support services for the person's language
and country; ``action_emergency_number``: the emergency number alone.

Reads the slots ``country`` (a choice of lower-case ISO country codes) and
``service_topics`` (a list of topics) when the program declares them, and the session's
locale from the tracker's latest message metadata, as a Rasa channel would send it.
The emergency number comes first, written out ("Emergency number: 112"); someone in no
listed country is told "call 112 or 911 or your local emergency number".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from redirection_bot.custom_actions import ProgramAction
from redirection_bot.dialogue.model import COUNTRY_SLOT, TOPICS_SLOT, UNDER_18_SLOT
from redirection_bot.services import (
    EMERGENCY_ELSEWHERE_KEY,
    EMERGENCY_HERE_KEY,
    Service,
    ServicesDirectory,
)

YOUNG_SLOT = UNDER_18_SLOT
"""Said to be under 18: services for young people are listed too, and never the services
for one's own sexual thoughts and behaviour (a child who said someone hurts them)."""
OWN_BEHAVIOUR = "own_behaviour"
YOUTH = "youth"


class ActionServices(ProgramAction):
    def name(self) -> str:
        return "action_services"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        loaded = self.context.loaded
        metadata = (tracker.latest_message or {}).get("metadata") or {}
        locale = str(metadata.get("locale") or loaded.program.default_locale)
        country = chosen_country(tracker, loaded.program.slots)
        topics = tracker.get_slot(TOPICS_SLOT) if TOPICS_SLOT in loaded.program.slots else None
        is_young = young(tracker, loaded.program.slots)
        asked = for_a_young_person(topics or ()) if is_young else (topics or ())
        found = loaded.services.find(locale, country, asked)
        if is_young:
            found = [service for service in found if OWN_BEHAVIOUR not in service.topics]
        listed = utter_emergency(dispatcher, loaded.services, country)
        if not found:
            dispatcher.utter_message(response="services.none")
            return []
        # "Somewhere else" (Chile, Germany, "I won't say"): said plainly that the country is
        # not listed, before the directories that find a service there (the forty-third
        # retest: "chile" got two directories that did not say they were not Chile's).
        unlisted = country is not None and not listed
        dispatcher.utter_message(
            response="services.intro_unlisted" if unlisted else "services.intro"
        )
        utter_services(dispatcher, found)
        return []


class ActionEmergencyNumber(ProgramAction):
    """The emergency number of the person's country written out, alone: what to call now,
    before anything else, once the country is known (a person in Colombia reads "123", not
    "112 or 911")."""

    def name(self) -> str:
        return "action_emergency_number"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        loaded = self.context.loaded
        utter_emergency(dispatcher, loaded.services, chosen_country(tracker, loaded.program.slots))
        return []


def young(tracker: Tracker, slots: Sequence[str] | Any) -> bool:
    """Whether the person said they are under 18 (``YOUNG_SLOT``)."""
    return YOUNG_SLOT in slots and tracker.get_slot(YOUNG_SLOT) is True


def for_a_young_person(topics: Sequence[str]) -> tuple[str, ...]:
    """The topics to list for someone under 18: those asked for, without one's own
    behaviour, and services for young people (a suicidal young person gets the crisis lines
    and the lines for young people)."""
    kept = tuple(topic for topic in topics if topic != OWN_BEHAVIOUR)
    return (*kept, YOUTH) if YOUTH not in kept else kept


def chosen_country(tracker: Tracker, slots: Sequence[str] | Any) -> str | None:
    """The country the person chose, as an ISO code in capitals (None: not asked yet)."""
    country = tracker.get_slot(COUNTRY_SLOT) if COUNTRY_SLOT in slots else None
    return country.upper() if isinstance(country, str) else None


def utter_emergency(
    dispatcher: CollectingDispatcher, directory: ServicesDirectory, country: str | None
) -> bool:
    """The country's emergency numbers written out, or 112, 911 and "your local number";
    whether the country's own were."""
    numbers = directory.emergency_numbers(country)
    if numbers is None:
        dispatcher.utter_message(response=EMERGENCY_ELSEWHERE_KEY)
        return False
    dispatcher.utter_message(response=EMERGENCY_HERE_KEY, numbers={"key": numbers.key})
    return True


def utter_services(dispatcher: CollectingDispatcher, found: Sequence[Service]) -> None:
    for service in found:
        dispatcher.utter_message(
            response="services.entry",
            name={"key": service.name_key},
            contact={"key": service.contact_key},
            description={"key": service.description_key},
        )
