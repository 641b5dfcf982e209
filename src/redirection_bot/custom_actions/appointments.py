"""The booking flow's actions (``action_appointment_*``): names only, fulfilled by the runtime.

The runtime runs them itself (turn/appointment_actions.py), since they need the shared
bookings and the resume words' vault; these classes register the names, so that programs can
declare them, and answer kindly where no runtime keeps bookings (an external Rasa calling
``redirection-bot actions``).
"""

from __future__ import annotations

from typing import Any

from redirection_bot.custom_actions import ProgramAction

UNAVAILABLE = "appointments.unavailable"


class _Unavailable(ProgramAction):
    action_name = ""

    def name(self) -> str:
        return self.action_name

    def run(self, dispatcher: Any, tracker: Any, domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(response=UNAVAILABLE)
        return []


class ActionAppointmentZones(_Unavailable):
    action_name = "action_appointment_zones"


class ActionAppointmentSlots(_Unavailable):
    action_name = "action_appointment_slots"


class ActionAppointmentBook(_Unavailable):
    action_name = "action_appointment_book"


class ActionAppointmentForget(_Unavailable):
    action_name = "action_appointment_forget"
