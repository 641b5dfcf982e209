"""``action_record_evaluation``: count anonymous evaluation answers (redirection_bot.operations.evaluation).

The runtime fulfils this action itself, since it needs the counts store; this class only
registers the name so that programs can declare it. Where no runtime keeps counts (an
external Rasa calling ``redirection-bot actions``) it records nothing and clears the answers.
"""

from __future__ import annotations

from typing import Any

from redirection_bot.custom_actions import ProgramAction
from redirection_bot.operations.evaluation import EVALUATION_ACTION


class ActionRecordEvaluation(ProgramAction):
    def name(self) -> str:
        return EVALUATION_ACTION

    def run(self, dispatcher: Any, tracker: Any, domain: dict[str, Any]) -> list[dict[str, Any]]:
        declared = self.context.loaded.program.actions.get(EVALUATION_ACTION)
        names = declared.sets if declared is not None else ()
        return [{"event": "slot", "name": name, "value": None} for name in names]
