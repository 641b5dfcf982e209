"""Fixtures for the Matrix tests: the bot running in this process against a real Synapse."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from redirection_bot.handoff.desk import HandoffDesk
from redirection_bot.operations.config import HandoffSettings
from redirection_bot.program.load import LoadedProgram
from redirection_bot.serving.connector import ConnectorContext
from redirection_bot.store.relay import MemoryRelay
from redirection_bot.store.sqlite import SqliteStore
from redirection_bot.turn.actions import RasaActionRunner
from redirection_bot.turn.runtime import Runtime
from redirection_bot_connectors.matrix import MatrixConnector
from redirection_bot_connectors.matrix.settings import MatrixOptions
from tests.fixtures.synapse import SynapseServer
from tests.integration.matrix.people import Person, unique
from tests.integration.matrix.program import load_matrix_program


def bot_options(server: SynapseServer, folder: Path, **overrides: Any) -> dict[str, Any]:
    """Options for a new bot account on ``server``, its state kept in ``folder``."""
    account = server.register(unique("helpbot"))
    return {
        "homeserver": server.url,
        "user_id": account.user_id,
        "access_token": account.access_token,
        "state_dir": str(folder / "matrix"),
        "pickle_key": "a pickle key for the tests",
        "session_key": "a session key for the tests",
        "sync_timeout_seconds": 5,
        "max_backoff_seconds": 1,
        **overrides,
    }


class InProcessBot:
    """The Matrix connector in this process, over a SQLite session store in ``folder``; with
    ``handoff``, a helpline attached to its runtime (an in-memory relay, the desk's clock
    running), as ``serve`` attaches one."""

    def __init__(
        self,
        loaded: LoadedProgram,
        folder: Path,
        options: dict[str, Any],
        handoff: HandoffSettings | None = None,
    ) -> None:
        self.loaded = loaded
        self.folder = folder
        self.options = MatrixOptions(**options).checked()
        self.handoff = handoff
        self.user_id: str = options["user_id"]
        self.connector: MatrixConnector | None = None
        self.runtime: Runtime | None = None
        self.desk: HandoffDesk | None = None
        self._store: SqliteStore | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[int] | None = None
        self._desk_stop = asyncio.Event()
        self._desk_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._store = SqliteStore(self.folder / "sessions.sqlite")
        if self.handoff is not None:
            self.desk = HandoffDesk(self.handoff, self._store, MemoryRelay())
        actions = RasaActionRunner(self.loaded)
        self.runtime = Runtime(self.loaded, self._store, actions, desk=self.desk)
        if self.desk is not None:
            self._desk_stop = asyncio.Event()
            run = self.desk.run(self.runtime, self._desk_stop)
            self._desk_task = asyncio.create_task(run)
        self.start_connector()

    def start_connector(self) -> None:
        """The connector alone (again), over the same runtime, helpline and state folder."""
        assert self.runtime is not None
        self._stop = asyncio.Event()
        self.connector = MatrixConnector(ConnectorContext(self.runtime, self.options, self._stop))
        self._task = asyncio.create_task(self.connector.run())

    async def stop_connector(self) -> None:
        """Stop the connector alone: the runtime and its helpline go on."""
        if self._task is None:
            return
        self._stop.set()
        status = await asyncio.wait_for(self._task, 30)
        self._task = None
        assert status == 0

    async def stop(self) -> None:
        if self._task is None:
            return
        await self.stop_connector()
        if self._desk_task is not None:
            self._desk_stop.set()
            await asyncio.wait_for(self._desk_task, 30)
            self._desk_task = None
        if self.desk is not None:
            await self.desk.relay.close()
        if self._store is not None:
            await self._store.close()

    async def wait(self) -> int:
        """Until the connector ends by itself (its error raised here)."""
        assert self._task is not None
        task, self._task = self._task, None
        return await asyncio.wait_for(task, 30)

    def check_alive(self) -> None:
        if self._task is not None and self._task.done():
            self._task.result()
            raise AssertionError("the bot stopped")


StartBot = Callable[..., Awaitable[InProcessBot]]


@pytest.fixture
def matrix_program(tmp_path: Path) -> LoadedProgram:
    return load_matrix_program(tmp_path / "program")


@pytest.fixture
async def start_bot(matrix_program: LoadedProgram, tmp_path: Path) -> AsyncIterator[StartBot]:
    """Start a bot on a homeserver: ``await start_bot(server, **options)`` (another
    ``loaded`` program, a helpline with ``handoff``)."""
    bots: list[InProcessBot] = []

    async def starter(
        server: SynapseServer,
        loaded: LoadedProgram | None = None,
        handoff: HandoffSettings | None = None,
        **overrides: Any,
    ) -> InProcessBot:
        folder = tmp_path / unique("bot")
        folder.mkdir()
        options = bot_options(server, folder, **overrides)
        bot = InProcessBot(loaded or matrix_program, folder, options, handoff)
        await bot.start()
        bots.append(bot)
        return bot

    yield starter
    for bot in bots:
        await bot.stop()


@pytest.fixture
async def people(tmp_path: Path) -> AsyncIterator[Callable[[SynapseServer], Person]]:
    """Make people on a homeserver: ``people(server)``; their clients are closed afterwards."""
    made: list[Person] = []

    def maker(server: SynapseServer, name: str = "person") -> Person:
        person = Person(server, tmp_path / "people", name)
        made.append(person)
        return person

    yield maker
    for person in made:
        await person.close()
