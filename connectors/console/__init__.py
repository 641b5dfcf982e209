"""The terminal chat: numbered choices for people, JSON lines for programs.

Interactive mode prints each message, numbers the choices, and reads a line: a number
picks a choice (or is the answer, where the question asks for a number), a choice's label
picks it too, anything else is the person's words (commands such as "help" or "back"
work as typed). ``/plan`` shows the plan, ``/quit`` leaves.

JSON mode (``--json``) reads one event per line and writes one output per line; it is the
protocol documented in ``docs/protocol.md``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from dataclasses import dataclass
from typing import Any, ClassVar, TextIO

from redirection_bot.api import (
    ChoicePicked,
    CommandGiven,
    CommandName,
    ConnectorContext,
    Event,
    Reply,
    Shown,
    ShownEnd,
    ShownHandoff,
    ShownMessage,
    ShownOperator,
    Start,
    Text,
)

PLAN_COMMAND = "/plan"
QUIT_COMMAND = "/quit"


@dataclass(frozen=True, slots=True)
class ConsoleOptions:
    """``connectors: console:`` (or ``redirection-bot chat --json --locale``)."""

    json: bool = False
    """JSON lines instead of a chat for people (docs/protocol.md)."""
    locale: str | None = None
    """The language to start in (None: the program's default)."""
    color: bool | None = None
    """None: colours when the output is a terminal and not JSON."""


class ConsoleConnector:
    """Chat in a terminal, or speak JSON lines on standard input and output."""

    name: ClassVar[str] = "console"
    options_schema: ClassVar[type[ConsoleOptions]] = ConsoleOptions

    def __init__(
        self,
        context: ConnectorContext[ConsoleOptions],
        input: TextIO | None = None,
        output: TextIO | None = None,
    ) -> None:
        self._context = context
        options = context.options
        self._input: TextIO = input or sys.stdin
        self._output: TextIO = output or sys.stdout
        self._json = options.json
        self._locale = options.locale
        color = options.color
        self._color = bool(color if color is not None else self._output.isatty() and not self._json)
        self._session = secrets.token_urlsafe(16)

    async def run(self) -> int:
        runtime = self._context.runtime
        reply = await runtime.handle(self._session, Start(self._locale))
        ended = self._show(reply)
        while not ended and not self._context.stop.is_set():
            line = await asyncio.to_thread(self._input.readline)
            if line == "":
                break
            line = line.rstrip("\r\n")
            if self._json:
                ended = await self._json_line(line)
            else:
                ended = await self._human_line(line)
        if not ended:
            await runtime.erase(self._session)
        return 0

    # --- people ---------------------------------------------------------------------------------

    async def _human_line(self, line: str) -> bool:
        stripped = line.strip()
        if stripped == QUIT_COMMAND:
            await self._context.runtime.erase(self._session)
            return True
        if stripped == PLAN_COMMAND:
            plan = await self._context.runtime.plan_text(self._session)
            self._write(plan if plan else "(no plan yet)\n")
            return False
        # Numbers go to the engine as typed: it reads them as positions in the list, or as
        # values where the question asks for a number.
        return self._show(await self._context.runtime.handle(self._session, Text(line)))

    def _show(self, reply: Reply) -> bool:
        ended = False
        if self._json:
            for item in reply.shown:
                self._write(json.dumps(_json_output(item), ensure_ascii=False) + "\n")
            return any(isinstance(item, ShownEnd) for item in reply.shown)
        for item in reply.shown:
            if isinstance(item, ShownMessage):
                self._write(self._paint(item.text, "1") + "\n")
                if item.choices and all(c.label == c.id for c in item.choices):
                    self._write(
                        "  " + "  ".join(self._paint(c.label, "36") for c in item.choices) + "\n"
                    )
                elif item.choices:
                    for number, choice in enumerate(item.choices, start=1):
                        self._write(f"  {self._paint(str(number), '36')}) {choice.label}\n")
            elif isinstance(item, ShownHandoff):
                self._write(self._paint("(a request for human support was made)", "33") + "\n")
            elif isinstance(item, ShownEnd):
                ended = True
        if not ended:
            self._output.write(self._paint("> ", "2"))
            self._output.flush()
        return ended

    def _paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self._color else text

    def _write(self, text: str) -> None:
        self._output.write(text)
        self._output.flush()

    # --- programs -------------------------------------------------------------------------------

    async def _json_line(self, line: str) -> bool:
        if not line.strip():
            return False
        try:
            request = json.loads(line)
        except json.JSONDecodeError as error:
            return self._json_error(f"that line is not JSON: {error.msg} at column {error.colno}")
        if isinstance(request, dict) and request.get("plan") is True:
            plan = await self._context.runtime.plan_text(self._session)
            self._write(json.dumps({"type": "plan", "text": plan}, ensure_ascii=False) + "\n")
            return False
        event = json_event(request)
        if isinstance(event, str):
            return self._json_error(event)
        return self._show(await self._context.runtime.handle(self._session, event))

    def _json_error(self, message: str) -> bool:
        self._write(json.dumps({"type": "error", "message": message}) + "\n")
        return False


def json_event(request: Any) -> Event | str:
    """An engine event from a JSON request, or a message saying what is wrong with it."""
    if not isinstance(request, dict):
        return 'send an object such as {"text": "..."}'
    kinds = [name for name in ("text", "choice", "command") if name in request]
    if len(kinds) != 1:
        return 'send exactly one of "text", "choice" or "command"'
    value = request[kinds[0]]
    if not isinstance(value, str):
        return f'"{kinds[0]}" must be a string'
    if kinds[0] == "text":
        return Text(value)
    if kinds[0] == "choice":
        return ChoicePicked(value)
    try:
        command = CommandName(value)
    except ValueError:
        return f"unknown command; commands are: {', '.join(CommandName)}"
    argument = request.get("argument")
    if argument is not None and not isinstance(argument, str):
        return '"argument" must be a string'
    return CommandGiven(command, argument)


def _json_output(item: Shown) -> dict[str, Any]:
    if isinstance(item, ShownMessage):
        output: dict[str, Any] = {
            "type": "message",
            "key": item.key,
            "text": item.text,
            "choices": [{"id": c.id, "label": c.label} for c in item.choices],
        }
        if item.expects_text:
            output["expects_text"] = True
        return output
    if isinstance(item, ShownHandoff):
        return {
            "type": "handoff",
            "reason": item.reason,
            "urgency": item.urgency,
            "flow": item.flow,
        }
    if isinstance(item, ShownOperator):
        return {"type": "operator", "text": item.text}
    return {"type": "end", "erase": item.erase}
