"""``action_record_outcomes``: count outcome measures over time (redirection_bot.operations.outcomes).

The runtime fulfils this action itself, since it needs the counts store; this class only
registers the name so that programs can declare it. Where no runtime keeps counts (an
external Rasa calling ``redirection-bot actions``) it counts nothing and clears the answers,
keeping any first bands the conversation holds.
"""

from __future__ import annotations

from typing import Any

from redirection_bot.custom_actions import ProgramAction
from redirection_bot.operations.outcomes import OUTCOMES_ACTION, recorded_slots


class ActionRecordOutcomes(ProgramAction):
    def name(self) -> str:
        return OUTCOMES_ACTION

    def run(self, dispatcher: Any, tracker: Any, domain: dict[str, Any]) -> list[dict[str, Any]]:
        answers = [name for name in recorded_slots() if not name.startswith("outcome_first_")]
        return [{"event": "slot", "name": name, "value": None} for name in answers]
