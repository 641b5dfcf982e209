"""Custom actions: the ``ActionRunner`` seam and the in-process rasa-sdk bridge.

Custom actions are ``rasa_sdk.Action`` subclasses. They are found by name through the
``redirection_bot.actions`` entry-point group (reading the names imports nothing), and run
in-process through rasa-sdk's ``ActionExecutor`` with the same action-call payload Rasa
sends. rasa-sdk is imported here only, and only when the first action runs: it brings
Sanic and pydantic, which a chat that runs no action should not pay for.

What an action returns is checked before it reaches the engine: it may set only the slots
the program lets it set, and it may say only texts that exist, filled with slot values or
other texts, never with text of its own.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from redirection_bot.dialogue.model import Program, SlotDecl, SlotType, SlotValue
from redirection_bot.engine.events import ActionResult
from redirection_bot.engine.outputs import Label, Message, Param, slot_param
from redirection_bot.engine.state import SessionState
from redirection_bot.errors import ActionError
from redirection_bot.language.i18n import placeholders
from redirection_bot.operations.plugins import ACTIONS, installed

if TYPE_CHECKING:
    from redirection_bot.program.load import LoadedProgram
    from redirection_bot.store.resume import PhraseKey

ACTIONS_GROUP = ACTIONS
TRACKER_CHANNEL = "redirection-bot"
_MESSAGE_FIELDS_WITHOUT_CONTENT = ("text", "image", "attachment", "buttons", "elements", "custom")
_MESSAGE_BOOKKEEPING = ("response", "template")


@dataclass(slots=True)
class AfterTurn:
    """What actions ask the runtime to do once their turn is saved (filled as they run)."""

    park_under: PhraseKey | None = None
    """Park the conversation under these resume words (``action_resume_phrase``)."""


@dataclass(frozen=True, slots=True)
class ActionCall:
    """A request to run ``action`` for a session (``sender`` is the session's hashed key)."""

    action: str
    state: SessionState
    sender: str
    program: Program | None = None
    """The program the session runs on (its version, which may not be the newest loaded)."""
    after: AfterTurn = field(default_factory=AfterTurn)


class ActionRunner(Protocol):
    """Runs custom actions; the runtime depends on this, not on rasa-sdk."""

    async def run(self, call: ActionCall) -> ActionResult: ...


def registered_action_names() -> frozenset[str]:
    """Names of the installed custom actions (reads package metadata, imports nothing)."""
    return frozenset(installed(ACTIONS_GROUP))


def load_action_classes() -> dict[str, type[Any]]:
    """Import every installed custom action class, by name."""
    return {name: ep.load() for name, ep in installed(ACTIONS_GROUP).items()}


def rasa_domain(program: Program) -> dict[str, Any]:
    """The domain Rasa would send, built from the program's slots and actions."""
    slots: dict[str, Any] = {}
    for name, declared in program.slots.items():
        slot: dict[str, Any] = {
            "type": _RASA_SLOT_TYPES[declared.type],
            "mappings": [{"type": "custom"}],
            "influence_conversation": False,
        }
        if declared.type is SlotType.CHOICE:
            slot["values"] = list(declared.values)
        if declared.default is not None:
            slot["initial_value"] = _json_value(declared.default)
        slots[name] = slot
    return {
        "version": "3.1",
        "intents": [],
        "entities": [],
        "slots": slots,
        "responses": {},
        "actions": sorted(program.actions),
        "forms": {},
        "session_config": {"session_expiration_time": 0, "carry_over_slots_to_new_session": False},
    }


_RASA_SLOT_TYPES = {
    SlotType.CHOICE: "categorical",
    SlotType.INTEGER: "float",
    SlotType.TEXT: "text",
    SlotType.BOOLEAN: "bool",
    SlotType.LIST: "list",
}


def _json_value(value: SlotValue) -> Any:
    return list(value) if isinstance(value, tuple) else value


def action_call_payload(
    program: Program, call: ActionCall, domain: Mapping[str, Any]
) -> dict[str, Any]:
    """The JSON body Rasa posts to an action server for this call."""
    slots = {
        name: _json_value(call.state.slots[name]) if name in call.state.slots else None
        for name in program.slots
    }
    return {
        "next_action": call.action,
        "sender_id": call.sender,
        "tracker": {
            "sender_id": call.sender,
            "slots": slots,
            # The person's words are not passed on: no shipped action needs them.
            "latest_message": {
                "text": "",
                "intent": {},
                "entities": [],
                "metadata": {"locale": call.state.locale},
            },
            "latest_event_time": None,
            "followup_action": None,
            "paused": False,
            "events": [],
            "latest_input_channel": TRACKER_CHANNEL,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
        "domain": dict(domain),
        "version": _rasa_sdk_version(),
    }


def _rasa_sdk_version() -> str:
    try:
        return importlib.metadata.version("rasa-sdk")
    except importlib.metadata.PackageNotFoundError:
        return "0"


def build_executor(loaded: LoadedProgram) -> Any:
    """A rasa-sdk ``ActionExecutor`` with every installed action registered; actions
    subclassing ``ProgramAction`` are given the loaded program."""
    from rasa_sdk.executor import ActionExecutor  # noqa: PLC0415 - lazy on purpose

    from redirection_bot.custom_actions import ActionContext, ProgramAction  # noqa: PLC0415

    context = ActionContext(loaded)
    executor = ActionExecutor()
    for action_class in load_action_classes().values():
        if isinstance(action_class, type) and issubclass(action_class, ProgramAction):
            executor.register_action(action_class(context))
        else:
            executor.register_action(action_class)
    return executor


class RasaActionRunner:
    """Runs actions in-process through rasa-sdk, exactly as Rasa would call them."""

    def __init__(self, loaded: LoadedProgram) -> None:
        self._loaded = loaded
        self._domain = rasa_domain(loaded.program)
        self._executor: Any = None

    async def run(self, call: ActionCall) -> ActionResult:
        if self._executor is None:
            self._executor = build_executor(self._loaded)
        payload = action_call_payload(self._loaded.program, call, self._domain)
        try:
            result = await self._executor.run(payload)
        except Exception as error:  # an action is code we did not write: any failure is its own
            raise ActionError(f"the action {call.action} failed: {type(error).__name__}") from error
        if result is None:
            raise ActionError(f"the action {call.action} returned nothing")
        return interpret_action_result(
            self._loaded, call, list(result.events), list(result.responses)
        )


def interpret_action_result(
    loaded: LoadedProgram,
    call: ActionCall,
    events: Sequence[Mapping[str, Any]],
    responses: Sequence[Mapping[str, Any]],
) -> ActionResult:
    """Check an action's events and responses and turn them into an engine event."""
    program = loaded.program
    declared = program.actions.get(call.action)
    allowed_slots = set(declared.sets) if declared else set()
    slot_sets: list[tuple[str, SlotValue | None]] = []
    followup = None
    pause = restart = False
    for event in events:
        kind = event.get("event")
        if kind == "slot":
            slot_sets.append(_slot_set(program, call.action, allowed_slots, event))
        elif kind == "followup":
            followup = str(event.get("name"))
            if followup not in program.actions:
                raise ActionError(
                    f"{call.action} asked to follow up with {followup}, which is not declared"
                )
        elif kind == "pause":
            pause = True
        elif kind == "restart":
            restart = True
        elif kind != "resume":
            raise ActionError(
                f"{call.action} returned a `{kind}` event, which this bot does not use"
            )
    slots = dict(call.state.slots)
    for name, value in slot_sets:
        if value is None:
            slots.pop(name, None)
        else:
            slots[name] = value
    messages = tuple(_message(loaded, call.action, slots, response) for response in responses)
    return ActionResult(call.action, tuple(slot_sets), messages, followup, pause, restart)


def _slot_set(
    program: Program, action: str, allowed: set[str], event: Mapping[str, Any]
) -> tuple[str, SlotValue | None]:
    name = str(event.get("name"))
    declared = program.slots.get(name)
    if declared is None or name not in allowed:
        raise ActionError(f"{action} may not set the slot {name} (declare it under `sets`)")
    value = event.get("value")
    if value is None:
        return name, None
    converted = _slot_value(declared, value)
    if converted is None or not declared.accepts(converted):
        raise ActionError(f"{action} set {name} to a value that slot cannot hold")
    return name, converted


def _slot_value(declared: SlotDecl, value: Any) -> SlotValue | None:
    if declared.type is SlotType.LIST and isinstance(value, list):
        return tuple(str(item) for item in value)
    if declared.type is SlotType.INTEGER and isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (str, int, bool)):
        return value
    return None


def _message(
    loaded: LoadedProgram, action: str, slots: Mapping[str, SlotValue], response: Mapping[str, Any]
) -> Message:
    """A response must name a text and fill it from slots or other texts, nothing else."""
    for name in _MESSAGE_FIELDS_WITHOUT_CONTENT:
        if response.get(name):
            raise ActionError(f"{action} sent `{name}`: actions may only name texts (`response=`)")
    key = response.get("response") or response.get("template")
    catalog, program = loaded.catalog, loaded.program
    if not isinstance(key, str) or not catalog.has(key, program.default_locale):
        raise ActionError(f"{action} named a text that does not exist")
    given = {
        name: value
        for name, value in response.items()
        if name not in _MESSAGE_FIELDS_WITHOUT_CONTENT + _MESSAGE_BOOKKEEPING
    }
    params: dict[str, Param] = {}
    for name in placeholders(catalog.text(key, program.default_locale))[0]:
        if name in given:
            params[name] = _param(loaded, action, slots, given[name])
        elif name in program.slots:
            params[name] = slot_param(program.slots[name], slots.get(name))
        else:
            raise ActionError(f"{action} did not fill `{name}` in {key}")
    return Message(key, params)


def _param(loaded: LoadedProgram, action: str, slots: Mapping[str, SlotValue], value: Any) -> Param:
    """``{"key": k}`` (a text), ``{"slot": s}`` (a slot's value), a number, or a list of texts."""
    if isinstance(value, bool):
        raise ActionError(f"{action} passed a yes/no value into a text")
    if isinstance(value, int):
        return value
    if isinstance(value, list):
        labels = [_param(loaded, action, slots, item) for item in value]
        if not all(isinstance(label, Label) for label in labels):
            raise ActionError(f"{action} passed a list that is not a list of texts")
        return tuple(label for label in labels if isinstance(label, Label))
    if isinstance(value, dict) and set(value) == {"key"}:
        key = value["key"]
        if not isinstance(key, str) or not loaded.catalog.has(key, loaded.program.default_locale):
            raise ActionError(f"{action} referred to a text that does not exist")
        return Label(key)
    if isinstance(value, dict) and set(value) == {"slot"}:
        declared = loaded.program.slots.get(str(value["slot"]))
        if declared is None:
            raise ActionError(f"{action} referred to a slot that does not exist")
        return slot_param(declared, slots.get(declared.name))
    raise ActionError(
        f"{action} passed its own text into a message; pass {{'key': ...}} or {{'slot': ...}}"
    )
