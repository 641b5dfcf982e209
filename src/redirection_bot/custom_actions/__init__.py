"""The custom actions shipped with redirection-bot (rasa-sdk actions; imported lazily)."""

from __future__ import annotations

from rasa_sdk import Action

from redirection_bot.actions import ActionContext


class ProgramAction(Action):  # type: ignore[misc]  # rasa-sdk ships no type information
    """A rasa-sdk action that is given the loaded program when it is created."""

    def __init__(self, context: ActionContext) -> None:
        self.context = context
