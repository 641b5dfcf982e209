"""``action_record_outcomes``: count outcome measures over time (redirection_bot.operations.outcomes).

The runtime fulfils this action itself, since it needs the counts store; this class only
registers the name so that programs can declare it. Where no runtime keeps counts (an
external Rasa calling ``redirection-bot actions``) it counts nothing and clears the answers,
and the consent, keeping the first bands and the markers for counting once.
"""

from __future__ import annotations

from typing import Any

from redirection_bot.custom_actions import ProgramAction
from redirection_bot.operations.outcomes import ANSWER_SLOTS, CONSENT_SLOT, OUTCOMES_ACTION, Measure


class ActionRecordOutcomes(ProgramAction):
    def name(self) -> str:
        return OUTCOMES_ACTION

    def run(self, dispatcher: Any, tracker: Any, domain: dict[str, Any]) -> list[dict[str, Any]]:
        answers = [*(name for measure in Measure for name in ANSWER_SLOTS[measure]), CONSENT_SLOT]
        return [{"event": "slot", "name": name, "value": None} for name in answers]
