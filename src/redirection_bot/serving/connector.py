"""Connectors: the channels people use (terminal, web chat, Matrix), as plug-ins.

A connector is a class registered in the ``redirection_bot.connectors`` entry-point group.
It receives everything it needs in a ``ConnectorContext`` (the runtime, its options, a
stop signal) and reaches for nothing global, so a third party can add a channel in a
package of its own without touching the core. A plug-in imports ``redirection_bot.api``
only; its options arrive as an instance of its ``options_schema`` (see that module).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from redirection_bot.errors import ConnectorError
from redirection_bot.operations.plugins import CONNECTORS, installed, load_plugin
from redirection_bot.turn.runtime import Runtime

CONNECTORS_GROUP = CONNECTORS

OptionsT = TypeVar("OptionsT")


@dataclass(slots=True)
class ConnectorContext(Generic[OptionsT]):
    """What a connector is given: the runtime, its own options (an instance of its
    ``options_schema``, read and checked by the configuration), and a stop signal."""

    runtime: Runtime
    options: OptionsT
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    listening: Callable[[str, str], None] | None = None
    """Told what listens and at which address (``"web chat", "http://127.0.0.1:8080/"``)
    once the connector listens: ``serve`` prints it then, not before it knows the port is
    free."""


class Connector(Protocol):
    """A channel: created with its context, runs until its work is done or ``stop`` is set."""

    name: ClassVar[str]
    options_schema: ClassVar[type[Any]]
    """A frozen dataclass of the connector's options (``redirection_bot.api`` says how they
    are read)."""

    def __init__(self, context: ConnectorContext[Any]) -> None: ...

    async def run(self) -> int:
        """Serve until done; return a process exit status."""
        ...


def available_connectors() -> dict[str, importlib.metadata.EntryPoint]:
    """Installed connectors by name (imports nothing)."""
    return installed(CONNECTORS_GROUP)


def load_connector(name: str) -> type[Connector]:
    """The connector class registered under ``name``."""
    loaded: type[Connector] = load_plugin(CONNECTORS_GROUP, name, "connector", ConnectorError)
    return loaded
