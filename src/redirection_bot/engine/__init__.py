"""The sans-I/O dialogue engine: ``step(program, state, event) -> Turn``."""

from __future__ import annotations

from redirection_bot.dialogue.model import Place
from redirection_bot.engine.events import (
    ActionResult,
    CameBack,
    ChoicePicked,
    CommandGiven,
    Event,
    HandoffEnded,
    Start,
    Text,
)
from redirection_bot.engine.outputs import (
    ActionRequest,
    ChoiceOption,
    End,
    HandoffRequest,
    Label,
    Message,
    Output,
    Param,
)
from redirection_bot.engine.state import SessionState, Waiting
from redirection_bot.engine.step import (
    EngineKeys,
    Turn,
    crisis_in_view,
    new_state,
    offered_choice,
    step,
    typed_command,
)

__all__ = [
    "ActionRequest",
    "ActionResult",
    "CameBack",
    "ChoiceOption",
    "ChoicePicked",
    "CommandGiven",
    "End",
    "EngineKeys",
    "Event",
    "HandoffEnded",
    "HandoffRequest",
    "Label",
    "Message",
    "Output",
    "Param",
    "Place",
    "SessionState",
    "Start",
    "Text",
    "Turn",
    "Waiting",
    "crisis_in_view",
    "new_state",
    "offered_choice",
    "step",
    "typed_command",
]
