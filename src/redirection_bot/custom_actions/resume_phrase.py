"""``action_resume_phrase``: give the person a resume phrase (see redirection_bot.store.resume).

The runtime fulfils this action itself, since it needs the session store; this class only
registers the name, so that programs can declare it, and answers kindly where no runtime
is there to keep phrases (an external Rasa calling ``redirection-bot actions``).
"""

from __future__ import annotations

from typing import Any

from redirection_bot.custom_actions import ProgramAction
from redirection_bot.store.resume import RESUME_ACTION, ResumeKeys


class ActionResumePhrase(ProgramAction):
    def name(self) -> str:
        return RESUME_ACTION

    def run(self, dispatcher: Any, tracker: Any, domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(response=ResumeKeys.UNAVAILABLE)
        return []
