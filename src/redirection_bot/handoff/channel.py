"""Operator channels: how a helpline's people receive handoffs, as plug-ins.

An operator channel is a class registered in the ``redirection_bot.operator_channels``
entry-point group (``matrix``: a Matrix room; ``webhook``: a signed webhook for existing
helpline platforms). Like a connector it receives everything in a context and reaches for
nothing global: the service it serves (its name, options and hours), the ``ServiceDesk`` it
acts through, and a stop signal. It reads the desk events of its service
(``desk.events(after)``, in order, replayable after a restart from the cursor it saved with
``desk.memory``) and turns what operators do into calls on the desk: claim, write, close,
transfer, on duty.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from redirection_bot.errors import ConfigError
from redirection_bot.operations.plugins import OPERATOR_CHANNELS, installed, load_plugin

if TYPE_CHECKING:
    from redirection_bot.handoff.appointments import AppointmentBook
    from redirection_bot.handoff.desk import ServiceDesk

CHANNELS_GROUP = OPERATOR_CHANNELS

OptionsT = TypeVar("OptionsT")


@dataclass(slots=True)
class ChannelContext(Generic[OptionsT]):
    """What an operator channel is given: its service's desk, its options (an instance of
    its ``options_schema``, read and checked by the configuration), a stop signal, and the
    appointment book when the service offers appointments (operators list and change it)."""

    desk: ServiceDesk
    options: OptionsT
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    appointments: AppointmentBook | None = None


class OperatorChannel(Protocol):
    """A helpline's channel: created with its context, runs until ``stop`` is set."""

    name: ClassVar[str]
    options_schema: ClassVar[type[Any]]

    def __init__(self, context: ChannelContext[Any]) -> None: ...

    async def run(self) -> int:
        """Serve until stopped; return a process exit status."""
        ...


def available_channels() -> dict[str, importlib.metadata.EntryPoint]:
    """Installed operator channels by name (imports nothing)."""
    return installed(CHANNELS_GROUP)


def load_channel(name: str) -> type[OperatorChannel]:
    """The operator channel class registered under ``name``."""
    loaded: type[OperatorChannel] = load_plugin(
        CHANNELS_GROUP, name, "operator channel", ConfigError
    )
    return loaded
