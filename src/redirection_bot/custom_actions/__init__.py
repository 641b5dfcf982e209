"""The custom actions shipped with redirection-bot (rasa-sdk actions; imported lazily)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rasa_sdk import Action

if TYPE_CHECKING:
    from redirection_bot.program.load import LoadedProgram


@dataclass(frozen=True, slots=True)
class ActionContext:
    """What the shipped actions need from the program; passed to their constructor."""

    loaded: LoadedProgram


class ProgramAction(Action):  # type: ignore[misc]  # rasa-sdk ships no type information
    """A rasa-sdk action that is given the loaded program when it is created."""

    def __init__(self, context: ActionContext) -> None:
        self.context = context
