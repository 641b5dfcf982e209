"""``redirection-bot serve``: run every connector the configuration enables (by default the
web chat on http://127.0.0.1:8080, the shipped program, an in-memory store)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from redirection_bot.cli import configuration_refused, load
from redirection_bot.errors import ConfigError
from redirection_bot.operations import aiohttp_early
from redirection_bot.operations.config import CONFIG_ENV, Settings, read_settings
from redirection_bot.operations.logs import OncePer
from redirection_bot.operations.plugins import ACTIONS, CONNECTORS, OPERATOR_CHANNELS, installed
from redirection_bot.program import kept_code

if TYPE_CHECKING:
    from redirection_bot.handoff.channel import OperatorChannel
    from redirection_bot.program.load import LoadedProgram
    from redirection_bot.serving.connector import Connector
    from redirection_bot.turn.runtime import Runtime

WEBCHAT = "webchat"
LOCAL_CONNECTORS = frozenset({WEBCHAT, "console"})
"""Connectors that never connect out: people come to them."""
SHIPPED_MODULES = ("redirection_bot.", "redirection_bot_connectors.")
GC_YOUNG_THRESHOLD = 10_000
"""Allocations (less deallocations) between collections of the youngest generation (700 by
default): ``run``."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="the web chat's address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="the web chat's port (default 8080)")
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None,
        help=f"a YAML configuration file (docs/operators.md; default ${CONFIG_ENV})",
    )


def run(args: argparse.Namespace) -> int:
    # Starting makes about 90,000 objects that live as long as the process (the program, the
    # screening rules, the connectors' modules). The cycle collector is paused while they are
    # made (it ran about 240 times over them, some 60 ms of a start), and then told to leave
    # them be (``gc.freeze``): a full collection while serving walked them all, 25 to 60 ms
    # each time, a pause for every conversation waiting. What is frozen includes the little
    # cyclic garbage a start leaves, kept for good. The imports before this point leave most
    # of it (about 1,500 objects: classes that aiohttp's attrs and argparse make and drop),
    # collected here once: 0.3 MB less held for 20 ms of a start, while few objects exist.
    gc.collect()
    gc.disable()
    more_open_files()
    quieter_accept_errors()
    try:
        loaded = load(args, kept=True)
        try:
            settings = settings_from(args, loaded.program.locales)
        except ConfigError as error:
            return configuration_refused(error, "started")
        for warning in settings.warnings:
            print(warning.format(), file=sys.stderr)
        outgoing = connects_out(settings)
        if outgoing:  # read while the runtime is built
            aiohttp_early.start_reading_certificates()
        runtime = build_runtime(loaded, settings)
        gc.freeze()
        # A turn leaves about 30 new objects that live on (its transcript lines, the stored
        # record) and makes many more that die at once: with the default threshold (700) the
        # youngest generation was collected every 20 turns or so, every tenth of those
        # collected the middle one, and every tenth of those the oldest once it had grown by
        # a quarter, which holds every conversation kept (50 to 140 ms each with 1,000
        # conversations). Fewer, larger collections of the young find the same garbage.
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    finally:
        kept_code.finish()  # the start's dataclasses are made: their code kept for the next
        gc.enable()
    if outgoing:
        aiohttp_early.wait_for_certificates()  # before anything may connect out over TLS
    return asyncio.run(serve(runtime, settings, listening=say_listening))


def connects_out(settings: Settings) -> bool:
    """Whether anything this start runs may connect out over TLS through aiohttp's default
    contexts, whose certificates are read only if so (operations/aiohttp_early.py): a connector
    other than the web chat and the console (a Matrix homeserver), operator channels run here
    (a helpline's Matrix room or webhook), or an installed plug-in that is not this package's
    own (its code is not known here)."""
    if any(c.name not in LOCAL_CONNECTORS for c in settings.enabled_connectors()):
        return True
    if settings.handoff.active and settings.handoff.run_channels:
        return True
    return any(
        not entry_point.value.startswith(SHIPPED_MODULES)
        for group in (CONNECTORS, OPERATOR_CHANNELS, ACTIONS)
        for entry_point in installed(group).values()
    )


def more_open_files() -> None:
    """Raise the soft limit on open files to the hard one: every connection, WebSocket and
    store handle is a file, and a common default of 1,024 let 1,100 silent sockets shut new
    visitors out (tests/security/README.md)."""
    import resource  # noqa: PLC0415

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):
            return


def quieter_accept_errors() -> None:
    """Out of files, asyncio logs a traceback for every failed accept: 2 million lines (145
    MB) in 20 s under attack. The same message is logged at most once every 10 s; aiohttp's
    line for each malformed request ("Error handling request") at most once a minute (the
    forty-seventh attack: one line for each of 2,000)."""
    logging.getLogger("asyncio").addFilter(OncePer(10.0))
    logging.getLogger("aiohttp.server").addFilter(OncePer(60.0))


def say_listening(what: str, address: str) -> None:
    """Tell the operator where a connector listens, once it does."""
    print(f"{what}: {address}  (Ctrl+C stops)", file=sys.stderr, flush=True)


def settings_from(args: argparse.Namespace, program_locales: tuple[str, ...] = ()) -> Settings:
    """The configuration, checked (``program_locales``: of the program served, so that an
    option naming a language is checked against them)."""
    settings = read_settings(args.config, os.environ, program_locales=program_locales)
    changes = {
        name: value
        for name, value in (("host", args.host), ("port", args.port))
        if value is not None
    }
    if changes:
        webchat = settings.connector(WEBCHAT)
        if webchat is None or not webchat.enabled:
            raise ConfigError(
                "--host and --port set the web chat, which the configuration disables"
            )
        settings = settings.with_options(WEBCHAT, **changes)
    return settings


def build_runtime(loaded: LoadedProgram, settings: Settings) -> Runtime:
    """A runtime over the configured store (sealed when it leaves the process), with the
    configured limits, actions in-process, metrics, resume phrases and evaluation counts,
    and the helpline's desk when handoff services are configured."""
    from redirection_bot.handoff.appointments import AppointmentBook  # noqa: PLC0415
    from redirection_bot.handoff.desk import HandoffDesk  # noqa: PLC0415
    from redirection_bot.operations.metrics import Metrics  # noqa: PLC0415
    from redirection_bot.store.factory import open_counts, open_relay, open_store  # noqa: PLC0415
    from redirection_bot.store.resume import ResumeVault  # noqa: PLC0415
    from redirection_bot.turn.actions import RasaActionRunner  # noqa: PLC0415
    from redirection_bot.turn.runtime import Runtime, RuntimeSettings  # noqa: PLC0415
    from redirection_bot.work_lane import WorkLane  # noqa: PLC0415

    runtime_settings = RuntimeSettings(
        session_ttl_seconds=settings.store.session_ttl_minutes * 60.0,
        untouched_ttl_seconds=settings.store.untouched_minutes * 60.0,
        max_text_length=settings.limits.max_message_length,
    )
    store = open_store(settings.store)
    desk = None
    if settings.handoff.active:
        desk = HandoffDesk(settings.handoff, store, open_relay(settings.store))
    return Runtime(
        loaded,
        store,
        RasaActionRunner(loaded),
        runtime_settings,
        resume=ResumeVault(
            store,
            ttl_seconds=settings.store.resume_ttl_days * 86400.0,
            lane=WorkLane(
                settings.limits.resume_tries_at_once, settings.limits.resume_tries_waiting
            ),
            old_phrases=settings.store.backend != "memory",
        ),
        metrics=Metrics(),
        evaluation=open_counts(settings.store),
        desk=desk,
        appointments=(
            AppointmentBook(settings.appointments, store) if settings.appointments.enabled else None
        ),
        partners=settings.partners,
    )


async def serve(
    runtime: Runtime,
    settings: Settings,
    listening: Callable[[str, str], None] | None = None,
) -> int:
    """Run the enabled connectors (and the helpline's operator channels) until one ends or the
    process is asked to stop; beside them, the admin listener (metrics), the sweeper of idle
    sessions, and the desk's clock for waiting handoffs."""
    from redirection_bot.handoff.channel import ChannelContext, load_channel  # noqa: PLC0415
    from redirection_bot.serving.beside import running_beside  # noqa: PLC0415
    from redirection_bot.serving.connector import ConnectorContext, load_connector  # noqa: PLC0415

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runners: list[Connector | OperatorChannel] = [
        load_connector(c.name)(ConnectorContext(runtime, c.options, stop, listening))
        for c in settings.enabled_connectors()
    ]
    desk = runtime.handoff_desk
    if desk is not None and settings.handoff.run_channels:
        runners += [
            load_channel(service.channel)(
                ChannelContext(
                    desk.service(service.name, runtime), service.options, stop, runtime.appointments
                )
            )
            for service in settings.handoff.services
        ]
    async with running_beside(runtime, settings.admin):
        tasks = [asyncio.create_task(runner.run()) for runner in runners]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            stop.set()
            results = await asyncio.gather(*tasks)
        finally:
            stop.set()
    return max(results, default=0)
