"""Plug-ins found through entry-point groups: the connectors people use, the operator
channels helplines use, and custom actions. Listing them reads package metadata only;
loading one imports its module.
"""

from __future__ import annotations

import functools
import importlib.metadata
from typing import Any

from redirection_bot.errors import RedirectionBotError
from redirection_bot.language.suggest import did_you_mean

CONNECTORS = "redirection_bot.connectors"
OPERATOR_CHANNELS = "redirection_bot.operator_channels"
ACTIONS = "redirection_bot.actions"


def _group(group: str) -> tuple[importlib.metadata.EntryPoint, ...]:
    """The entry points of ``group``."""
    return _every_entry_point().get(group, ())


@functools.cache
def _every_entry_point() -> dict[str, tuple[importlib.metadata.EntryPoint, ...]]:
    """Every installed package's entry points by group, read once a process: each reading
    walks every installed package's metadata (7 to 10 ms), and a start of ``serve`` looks in
    two groups (actions and connectors), a helpline's in three."""
    found = importlib.metadata.entry_points()
    return {group: tuple(found.select(group=group)) for group in found.groups}


def installed(group: str) -> dict[str, importlib.metadata.EntryPoint]:
    """The plug-ins of ``group``, by name (imports nothing)."""
    return {ep.name: ep for ep in _group(group)}


def load_plugin(group: str, name: str, kind: str, error: type[RedirectionBotError]) -> Any:
    """The class registered under ``name`` in ``group``; ``error`` (saying there is no such
    ``kind``, or that it cannot be imported) otherwise."""
    found = installed(group)
    entry_point = found.get(name)
    if entry_point is None:
        raise error(
            f"no {kind} called {name!r}{did_you_mean(name, found)}; "
            f"installed: {', '.join(sorted(found))}"
        )
    try:
        return entry_point.load()
    except ImportError as problem:
        raise error(f"the {kind} {name!r} cannot be imported: {problem}") from problem


def installed_plugin(group: str, name: str, kind: str, error: type[RedirectionBotError]) -> Any:
    """The class registered under ``name``, or None when nothing is (for the configuration,
    which reports an unknown name where it is written)."""
    return load_plugin(group, name, kind, error) if name in installed(group) else None
