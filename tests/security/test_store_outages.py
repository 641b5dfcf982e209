"""A store that fails while a person leaves (attacks 7 and 8): with Redis paused, "Leave now"
on a page without JavaScript waited five seconds and showed the chat site's error page instead
of leaving; a typed "leave now" got "try again" and the page and plan.txt still showed what was
typed; the conversation was erased only when something else touched it."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest
from aiohttp import WSMsgType

from redirection_bot.authoring.testing import RasaActionRunner
from redirection_bot.operations.crypto import Keyring
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store import StoredSession, StoreUnavailable
from redirection_bot.store.encrypted import EncryptedStore
from redirection_bot.store.memory import MemoryStore
from redirection_bot.turn.runtime import Runtime
from redirection_bot_connectors.webchat.app import CHAT
from redirection_bot_connectors.webchat.sessions import REST_PREFIX
from tests.integration.webchat.conftest import Page, choose, press, start
from tests.security.conftest import WEBHOOK, Client, Over, rest


class PausedForDeletes(MemoryStore):
    """A store whose next ``failures`` deletes fail, as a paused Redis does."""

    failures = 0

    async def delete(self, name: str) -> None:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("paused")
        await super().delete(name)


async def paused_at_the_next_delete(
    over: Over, shipped: LoadedProgram
) -> tuple[Runtime, Client, Page]:
    """A conversation started on a page, over a store whose next delete fails."""
    store = PausedForDeletes()
    runtime = Runtime(shipped, store, RasaActionRunner(shipped))
    client = await over(runtime)
    page = await start(client)
    store.failures = 1
    return runtime, client, page


async def test_leave_now_leaves_at_once_when_the_store_fails_and_erases_when_it_is_back(
    over: Over, shipped: LoadedProgram
) -> None:
    runtime, client, page = await paused_at_the_next_delete(over, shipped)
    response = await client.post(f"/c/{page.token}/leave", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/blank"
    again = await client.get(f"/c/{page.token}")
    assert again.status == 404  # never shown from this process again
    for _ in range(40):  # retried in the background once the store answers (1 s, 2 s...)
        if await runtime.state(f"web:{page.token}") is None:
            break
        await asyncio.sleep(0.1)
    assert await runtime.state(f"web:{page.token}") is None


async def test_a_typed_leave_now_leaves_when_the_store_fails(
    over: Over, shipped: LoadedProgram
) -> None:
    runtime, client, page = await paused_at_the_next_delete(over, shipped)
    response = await press(client, page, "compose", text="leave now")
    assert str(response.url).endswith("/blank")
    assert (await client.get(f"/c/{page.token}")).status == 404
    assert (await client.get(f"/c/{page.token}/plan.txt")).status == 404
    await erased_soon(runtime, f"web:{page.token}")


async def erased_soon(runtime: Runtime, session_id: str) -> None:
    """Erased from the store within a few seconds (retried once a second: ``Endings``)."""
    for _ in range(40):
        if await runtime.state(session_id) is None:
            return
        await asyncio.sleep(0.1)
    assert await runtime.state(session_id) is None


class Obstructed(MemoryStore):
    """A store whose calls meet ``obstruct`` first (Redis stopped, or paused)."""

    async def obstruct(self, call: str) -> None:
        return None

    async def get(self, key: str) -> StoredSession | None:
        await self.obstruct("get")
        return await super().get(key)

    async def save(self, *args: Any, **kwargs: Any) -> Any:
        await self.obstruct("save")
        return await super().save(*args, **kwargs)

    async def delete(self, name: str) -> None:
        await self.obstruct("delete")
        await super().delete(name)

    async def kept_since(self) -> float:
        await self.obstruct("kept_since")
        return await super().kept_since()


class Away(Obstructed):
    """A store that answers nothing while ``away`` (Redis stopped)."""

    away = False

    async def obstruct(self, call: str) -> None:
        if self.away:
            raise StoreUnavailable("away")


class Hanging(Obstructed):
    """A store whose ``calls`` hang while ``hung`` is not set (Redis paused with SIGSTOP)."""

    def __init__(self, calls: tuple[str, ...] = ("get", "save", "delete")) -> None:
        super().__init__()
        self.calls = calls
        self.hung: asyncio.Event | None = None

    async def obstruct(self, call: str) -> None:
        if self.hung is not None and call in self.calls:
            await self.hung.wait()


@pytest.mark.parametrize("command", ["/stop", "/erase", "leave now"])
@pytest.mark.parametrize("keyed", [False, True])
@pytest.mark.parametrize("held_here", [True, False])
async def test_a_rest_stop_while_the_store_is_away_ends_the_conversation_when_it_is_back(
    over: Over, shipped: LoadedProgram, command: str, keyed: bool, held_here: bool
) -> None:
    """The thirty-fifth round: with Redis stopped, a REST "/stop" or "/erase" answered 503,
    and the conversation stayed in the store after it came back."""
    store = Away()
    runtime = Runtime(shipped, store, RasaActionRunner(shipped))
    client = await over(runtime)
    sender = secrets.token_hex(16)
    await rest(client, sender, "hello")
    if not held_here:  # made room for others: only the store holds it now
        book = client.server.app[CHAT].book
        book.remove(book.rest(sender))
    store.away = True
    headers = {"Idempotency-Key": "leave-1"} if keyed else {}
    response = await client.post(
        WEBHOOK, json={"sender": sender, "message": command}, headers=headers
    )
    answer = await response.json()
    assert response.status == 200, answer
    assert any(item.get("custom", {}).get("erase") for item in answer)
    store.away = False
    # Until the store has erased it, this instance answers for it as ended, never with what
    # the store still holds (the fifty-third attack: its plan, for 28 s after Redis returned).
    response = await client.post(WEBHOOK, json={"sender": sender, "message": "/plan"})
    plan = await response.json()
    assert response.status == 200 and any(item.get("custom", {}).get("erase") for item in plan)
    for _ in range(20):  # erased within a second or so of the store's return
        if await runtime.state(REST_PREFIX + sender) is None:
            break
        await asyncio.sleep(0.1)
    assert await runtime.state(REST_PREFIX + sender) is None


async def test_a_leave_now_typed_over_the_websocket_while_the_store_is_away_ends_once(
    over: Over, shipped: LoadedProgram
) -> None:
    """The fifty-third attack: "leave now" typed on a live page with Redis stopped sent two
    `end` frames to that page."""
    store = Away()
    runtime = Runtime(shipped, store, RasaActionRunner(shipped))
    client = await over(runtime)
    ws = await client.ws_connect("/ws")
    await ws.send_json({"type": "start", "locale": "en"})
    token = (await ws.receive_json(timeout=10))[0]["session"]
    store.away = True
    await ws.send_json({"type": "text", "text": "leave now"})
    frames: list[dict[str, Any]] = []
    while (message := await ws.receive(timeout=10)).type is WSMsgType.TEXT:
        frames.extend(message.json())
    assert [frame["type"] for frame in frames].count("end") == 1, frames
    store.away = False
    for _ in range(20):  # erased within a second or so of the store's return
        if await runtime.state(f"web:{token}") is None:
            break
        await asyncio.sleep(0.1)
    assert await runtime.state(f"web:{token}") is None


async def test_leave_now_never_waits_for_a_store_that_hangs(
    over: Over, shipped: LoadedProgram
) -> None:
    """The fifty-sixth attack: with Redis paused, "Leave now" without JavaScript took 5 s to
    reach the neutral page (and a REST "/stop" 15 s): a quick exit must be quick."""
    store = Hanging(calls=("delete",))
    runtime = Runtime(shipped, store, RasaActionRunner(shipped))
    client = await over(runtime)
    page = await start(client)
    store.hung = asyncio.Event()
    leaving = client.post(f"/c/{page.token}/leave", allow_redirects=False)
    response = await asyncio.wait_for(leaving, timeout=4)  # the store would hang for ever
    assert response.status == 303 and response.headers["Location"] == "/blank"
    assert (await client.get(f"/c/{page.token}")).status == 404
    store.hung.set()  # Redis resumes: the attempt still under way finishes
    for _ in range(30):
        if await runtime.state(f"web:{page.token}") is None:
            break
        await asyncio.sleep(0.1)
    assert await runtime.state(f"web:{page.token}") is None


async def test_an_erase_answered_while_the_store_was_away_is_finished_after_a_restart(
    over: Over, shipped: LoadedProgram
) -> None:
    """The fifty-sixth attack: "Erase" answered while Redis hung was kept only in the
    instance's memory; restarted before Redis came back, the instance forgot it, and the
    conversation stayed readable for a day, its resume words opening it for a month. What
    waits is kept, sealed, in a file the restarted instance reads."""
    shared = Away()
    store = EncryptedStore(shared, Keyring.generate())
    sender = secrets.token_hex(16)
    first = await over(Runtime(shipped, store, RasaActionRunner(shipped)))
    await rest(first, sender, "hello")
    shared.away = True
    status, answer = await rest(first, sender, "/erase")
    assert status == 200 and any(item.get("custom", {}).get("erase") for item in answer)
    journal = first.server.app[CHAT].endings._journal
    assert journal is not None and journal.path.exists()
    assert sender.encode() not in journal.path.read_bytes()  # sealed: which, never said
    await first.close()  # the instance stops while the store is still away

    shared.away = False
    restarted = Runtime(shipped, store, RasaActionRunner(shipped))
    assert await restarted.state(REST_PREFIX + sender) is not None  # still in the store
    await over(restarted)
    for _ in range(30):
        if await restarted.state(REST_PREFIX + sender) is None:
            break
        await asyncio.sleep(0.1)
    assert await restarted.state(REST_PREFIX + sender) is None
    assert not journal.path.exists()  # nothing waits: no file


async def test_a_rest_stop_never_waits_for_a_store_that_hangs(
    over: Over, shipped: LoadedProgram
) -> None:
    """The fifty-sixth attack: a REST "/stop" took 15 s while Redis was paused."""
    store = Hanging()
    runtime = Runtime(shipped, store, RasaActionRunner(shipped))
    client = await over(runtime)
    sender = secrets.token_hex(16)
    await rest(client, sender, "hello")
    store.hung = asyncio.Event()
    status, answer = await asyncio.wait_for(rest(client, sender, "/stop"), timeout=4)
    assert status == 200 and any(item.get("custom", {}).get("erase") for item in answer)
    store.hung.set()  # Redis resumes: the conversation goes
    for _ in range(40):
        if await runtime.state(REST_PREFIX + sender) is None:
            break
        await asyncio.sleep(0.1)
    assert await runtime.state(REST_PREFIX + sender) is None


async def test_leave_now_typed_without_javascript_never_waits_for_a_store_that_hangs(
    over: Over, shipped: LoadedProgram
) -> None:
    store = Hanging()
    runtime = Runtime(shipped, store, RasaActionRunner(shipped))
    client = await over(runtime)
    page = await start(client)
    store.hung = asyncio.Event()
    response = await asyncio.wait_for(press(client, page, "compose", text="leave now"), 5)
    assert str(response.url).endswith("/blank")
    store.hung.set()
    for _ in range(40):
        if await runtime.state(f"web:{page.token}") is None:
            break
        await asyncio.sleep(0.1)
    assert await runtime.state(f"web:{page.token}") is None


async def test_a_crisis_written_while_the_store_is_away_still_gets_an_emergency_number(
    over: Over, shipped: LoadedProgram
) -> None:
    """The fifty-seventh attack: with Redis down, "i want to end my life tonight" got only
    "Something went wrong on our side", on every channel."""
    store = Away()
    client = await over(Runtime(shipped, store, RasaActionRunner(shipped)))
    sender = secrets.token_hex(16)
    await rest(client, sender, "hello")
    store.away = True
    status, answer = await rest(client, sender, "i want to end my life tonight")
    assert status == 503
    assert "112 or 911" in " ".join(item.get("text", "") for item in answer)


async def test_leave_now_typed_without_javascript_leaves_while_the_store_is_away(
    over: Over, shipped: LoadedProgram
) -> None:
    """The fifty-seventh attack: typed on a page while Redis was down, "leave now" answered
    the error page, and the conversation stayed at its address."""
    store = Away()
    runtime = Runtime(shipped, store, RasaActionRunner(shipped))
    client = await over(runtime)
    page = await choose(client, await start(client), "Okay, go on")  # the store holds it
    store.away = True
    response = await press(client, page, "compose", text="leave now")
    assert str(response.url).endswith("/blank"), response.status
    store.away = False
    for _ in range(40):
        if await runtime.state(f"web:{page.token}") is None:
            break
        await asyncio.sleep(0.1)
    assert await runtime.state(f"web:{page.token}") is None
