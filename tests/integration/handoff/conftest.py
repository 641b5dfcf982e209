"""A person in the web chat (live, over its WebSocket) and a helpline connected to the same
runtime; the helpline's channel is started by each test."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from redirection_bot.handoff.appointments import AppointmentBook
from redirection_bot.handoff.channel import ChannelContext, OperatorChannel
from redirection_bot.handoff.desk import HandoffDesk
from redirection_bot.operations.config import HandoffSettings, ServiceSettings
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store import SessionStore
from redirection_bot.store.memory import MemoryStore
from redirection_bot.store.relay import MemoryRelay, Relay
from redirection_bot.store.resume import ResumeVault
from redirection_bot.turn.actions import RasaActionRunner
from redirection_bot.turn.runtime import Runtime
from redirection_bot_connectors.webchat import WebChatOptions, create_app
from tests.fixtures.handoff import Clock, Helpline
from tests.integration.handoff.platform import PLATFORM_SECRET, Platform


class LivePage:
    """The web chat as its script uses it: one WebSocket, frames read in order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.unread: list[dict[str, Any]] = []
        self.seen: list[dict[str, Any]] = []
        self.token: str | None = None
        """The conversation's address as the page holds it now (``session``, ``address``)."""

    async def send(self, request: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(request))

    async def until(self, wanted: Any, timeout: float = 20.0) -> dict[str, Any]:
        """The next frame for which ``wanted`` is true (the frames before it are passed)."""
        deadline = time.monotonic() + timeout
        while True:
            while self.unread:
                frame = self.unread.pop(0)
                self.seen.append(frame)
                if frame.get("type") in ("session", "address"):
                    self.token = str(frame["session"])
                if wanted(frame):
                    return frame
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no such frame; got {[f.get('type') for f in self.seen]}")
            try:
                message = await self.ws.receive(timeout=left)
            except TimeoutError:
                continue
            if message.type is not aiohttp.WSMsgType.TEXT:
                raise AssertionError(f"the socket closed: {message}")
            self.unread.extend(json.loads(message.data))

    async def text_frame(self, containing: str, timeout: float = 20.0) -> dict[str, Any]:
        return await self.until(
            lambda f: f.get("type") in ("message", "operator") and containing in f["text"],
            timeout,
        )

    def said(self) -> list[str]:
        return [f["text"] for f in self.seen if f.get("type") in ("message", "operator")]

    async def ask_for_a_person(self) -> None:
        """From the first question: on, then `help`, then "talk to a person"."""
        await self.until(lambda f: f.get("type") == "state")
        await self.send({"type": "choice", "id": "go_on"})
        await self.until(lambda f: f.get("type") == "state")
        await self.send({"type": "command", "command": "help"})
        await self.until(lambda f: f.get("type") == "state")
        await self.send({"type": "choice", "id": "person"})


@dataclass
class Setup:
    runtime: Runtime
    desk: HandoffDesk
    client: TestClient[Any, Any]
    stop: asyncio.Event
    tasks: list[asyncio.Task[int]] = field(default_factory=list)

    def start_channel(self, channel: OperatorChannel) -> None:
        self.tasks.append(asyncio.create_task(channel.run()))

    async def page(self, locale: str = "en") -> tuple[LivePage, str]:
        """A new conversation on a live page: (the page, the conversation's token)."""
        ws = await self.client.ws_connect("/ws")
        page = LivePage(ws)
        await page.send({"type": "start", "locale": locale})
        session = await page.until(lambda f: f.get("type") == "session")
        return page, str(session["session"])

    async def operators(self) -> Helpline:
        """Someone reading what the helpline's operators are told (``stop`` it after)."""
        service = self.desk.service("helpline", self.runtime)
        line = Helpline(self.runtime, self.desk, Clock(), service)
        await line.start_reading()
        return line

    def check_channels(self) -> None:
        for task in self.tasks:
            if task.done():
                task.result()
                raise AssertionError("an operator channel stopped")


def handoff_settings(channel: str, options: Any, **changes: Any) -> HandoffSettings:
    values: dict[str, Any] = {
        "claim_timeout_seconds": 300.0,
        "notice_interval_seconds": 120.0,
        "tick_seconds": 0.2,
        "services": (ServiceSettings("helpline", channel, options=options),),
        **changes,
    }
    return HandoffSettings(**values)


@contextlib.asynccontextmanager
async def running(
    loaded: LoadedProgram,
    settings: HandoffSettings,
    store: SessionStore | None = None,
    relay: Relay | None = None,
    appointments: AppointmentBook | None = None,
) -> AsyncIterator[Setup]:
    """The runtime, its desk (its clock ticking), and the web chat on a free port (with
    ``appointments``: the book, and resume words quick to check)."""
    store = store or MemoryStore()
    desk = HandoffDesk(settings, store, relay or MemoryRelay())
    resume = ResumeVault(store, cost=2**4) if appointments is not None else None
    runtime = Runtime(
        loaded,
        store,
        RasaActionRunner(loaded),
        resume=resume,
        desk=desk,
        appointments=appointments,
    )
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(runtime, WebChatOptions())))
    await client.start_server()
    stop = asyncio.Event()
    setup = Setup(runtime, desk, client, stop)
    clock = asyncio.create_task(desk.run(runtime, stop))
    try:
        yield setup
    finally:
        stop.set()
        for task in setup.tasks:
            await asyncio.wait_for(task, 30)
        await clock
        await client.close()
        await desk.relay.close()


def channel_context(setup: Setup, options: Any) -> ChannelContext[Any]:
    return ChannelContext(setup.desk.service("helpline", setup.runtime), options, setup.stop)


@pytest.fixture
def loaded(shipped: LoadedProgram) -> LoadedProgram:
    return shipped


@pytest.fixture
async def platform() -> AsyncIterator[Platform]:
    """A helpline platform on a free port, sharing ``PLATFORM_SECRET`` with the bot."""
    found = Platform(PLATFORM_SECRET)
    await found.start()
    yield found
    await found.stop()
