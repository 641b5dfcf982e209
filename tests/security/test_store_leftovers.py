"""Erased is erased: no earlier sealed version of a conversation survives in the SQLite files,
the files are the operator's alone, a sealed blob's length does not tell what was typed, and
an expired conversation's page is not served from memory.

The faults (issue 18): after "Erase my conversation" the -wal file still held 6 to 15 earlier
sealed versions, which open with the store key; files were created 0644; a blob's length
followed what was typed; an expired page was shown until the next sweep.
"""

from __future__ import annotations

import asyncio
import secrets
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from redirection_bot.authoring.testing import RasaActionRunner, load, write_program
from redirection_bot.engine import ChoicePicked, CommandGiven, Start, Text
from redirection_bot.engine.events import CommandName
from redirection_bot.operations.crypto import Keyring, new_key_text, parse_key
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store import StoredSession, VersionConflict
from redirection_bot.store.encrypted import EncryptedStore
from redirection_bot.store.sqlite import SqliteStore
from redirection_bot.turn.runtime import Runtime, RuntimeSettings
from redirection_bot_connectors.webchat import WebChatOptions, create_app
from redirection_bot_connectors.webchat.sessions import form_token
from tests.fixtures.programs import FLOWS, LOCALES, PROGRAM

SESSION = "web:erase-me"
OTHER = "web:someone-else"
OWN_WORDS = "Call my brother Tuomas every Sunday evening"


class RecordingSqlite(SqliteStore):
    """The SQLite store, remembering every sealed blob it was given."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.written: dict[str, list[bytes]] = {}

    async def save(
        self,
        key: str,
        data: bytes,
        expected_version: int | None,
        ttl_seconds: float,
        *,
        final: bool = False,
    ) -> int:
        self.written.setdefault(key, []).append(data)
        return await super().save(key, data, expected_version, ttl_seconds, final=final)


@pytest.fixture
def program(tmp_path: Path) -> LoadedProgram:
    return load(write_program(tmp_path / "program", PROGRAM, FLOWS, LOCALES), tmp_path)


def files_bytes(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in folder.iterdir() if path.is_file())


def found_in(raw: bytes, blobs: list[bytes]) -> int:
    """How many of ``blobs`` have their ciphertext (past the 17-byte header) in ``raw``."""
    return sum(1 for blob in blobs if blob[17:49] in raw)


async def a_conversation(runtime: Runtime, session: str) -> None:
    await runtime.handle(session, Start())
    await runtime.handle(session, ChoicePicked("bad"))
    await runtime.handle(session, Text(OWN_WORDS))
    await runtime.handle(session, CommandGiven(CommandName.REPEAT))
    await runtime.handle(session, CommandGiven(CommandName.REPEAT))


def runtime_over(program: LoadedProgram, folder: Path) -> tuple[Runtime, RecordingSqlite, str]:
    keyring = Keyring([parse_key(new_key_text(), "store.keys[0]")])
    inner = RecordingSqlite(folder / "sessions.sqlite3")
    runtime = Runtime(program, EncryptedStore(inner, keyring), RasaActionRunner(program))
    return runtime, inner, keyring.lookup_key(SESSION)


async def test_after_erasing_no_earlier_version_is_left_in_the_database_or_its_log(
    program: LoadedProgram, tmp_path: Path
) -> None:
    folder = tmp_path / "state"
    runtime, inner, name = runtime_over(program, folder)
    await a_conversation(runtime, OTHER)
    await a_conversation(runtime, SESSION)
    blobs = inner.written[name]
    assert len(blobs) >= 5
    assert found_in(files_bytes(folder), blobs) >= 1  # the scan does find sealed versions
    await runtime.erase(SESSION)
    assert found_in(files_bytes(folder), blobs) == 0
    assert (await runtime.state(OTHER)) is not None  # the others' conversations stay
    await runtime.close()


async def test_erasing_by_the_stop_command_leaves_no_earlier_version_either(
    program: LoadedProgram, tmp_path: Path
) -> None:
    folder = tmp_path / "state"
    runtime, inner, name = runtime_over(program, folder)
    await a_conversation(runtime, SESSION)
    reply = await runtime.handle(SESSION, CommandGiven(CommandName.STOP))
    assert reply.state is None
    assert found_in(files_bytes(folder), inner.written[name]) == 0
    await runtime.close()


async def test_after_expiry_no_earlier_version_is_left(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    now = [1_000_000.0]
    store = SqliteStore(folder / "s.sqlite3", clock=lambda: now[0])
    blobs = [bytes([n]) * 17 + bytes([n + 1]) * 300 for n in range(1, 9)]
    version = None
    for blob in blobs:
        version = await store.save("old", blob, version, 60)
    kept = await store.save("fresh", b"stays", None, 3600)
    now[0] += 61 + 6  # the time to live, and its grain (`coarse_ttl`)
    assert await store.expire() == 1
    assert found_in(files_bytes(folder), blobs) == 0
    assert await store.get("fresh") == StoredSession(b"stays", kept)
    await store.close()


async def test_versions_a_killed_process_left_in_the_log_are_gone_once_the_store_opens(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "state"
    path = folder / "s.sqlite3"
    store = SqliteStore(path)
    blobs = [bytes([n]) * 17 + bytes([n + 1]) * 300 for n in range(1, 6)]
    version = None
    for blob in blobs:
        version = await store.save("a", blob, version, 3600)
    # As a SIGKILL leaves it: the log file with its frames, no checkpoint on close.
    left = {p.name: p.read_bytes() for p in folder.iterdir()}
    await store.close()
    for file_name, raw in left.items():
        (folder / file_name).write_bytes(raw)
    assert found_in(files_bytes(folder), blobs[:-1]) >= 1
    reopened = SqliteStore(path)
    assert (await reopened.get("a")) == StoredSession(blobs[-1], version)
    assert found_in(files_bytes(folder), blobs[:-1]) == 0
    await reopened.close()


async def test_the_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    store = SqliteStore(folder / "s.sqlite3")
    await store.save("a", b"x" * 5000, None, 3600)
    files = list(folder.iterdir())
    assert {p.name for p in files} >= {"s.sqlite3", "s.sqlite3-wal", "s.sqlite3-shm"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    await store.close()


async def test_a_sealed_blobs_length_does_not_follow_what_was_typed(
    program: LoadedProgram, tmp_path: Path
) -> None:
    lengths = set()
    for typed in (
        "walks",
        "I will call my brother every evening",
        "I want to spend more evenings walking with my family. " * 3,
    ):
        runtime, inner, name = runtime_over(program, tmp_path / typed[:8])
        await runtime.handle(SESSION, Start())
        await runtime.handle(SESSION, ChoicePicked("bad"))
        await runtime.handle(SESSION, Text(typed))
        lengths.add(len(inner.written[name][-1]))
        state = await runtime.state(SESSION)
        assert state is not None and state.slots.get("why") == typed.strip()  # it reads back
        await runtime.close()
    assert len(lengths) == 1, lengths


async def served_over_sqlite(
    shipped: LoadedProgram,
    path: Path,
    keyring: Keyring | None = None,
    settings: RuntimeSettings | None = None,
) -> tuple[Runtime, TestClient[Any, Any]]:
    """The web chat over a sealed SQLite file, started on loopback."""
    store = EncryptedStore(SqliteStore(path), keyring or Keyring.generate())
    runtime = Runtime(shipped, store, RasaActionRunner(shipped), settings)
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(runtime, WebChatOptions())))
    await client.start_server()
    return runtime, client


async def own_words_said(client: TestClient[Any, Any]) -> tuple[str, str]:
    """A conversation started and ``OWN_WORDS`` typed in it: its address and token."""
    started = await client.post("/start", data={"locale": "en"})
    address = started.url.path
    token = address.rsplit("/", 1)[1]
    said = await client.post(address, data={"text": OWN_WORDS, "csrf": form_token(token)})
    assert "Tuomas" in await said.text()
    return address, token


async def test_an_expired_conversation_is_not_shown_again_from_memory(
    shipped: LoadedProgram, tmp_path: Path
) -> None:
    _runtime, client = await served_over_sqlite(
        shipped, tmp_path / "s.sqlite3", settings=RuntimeSettings(session_ttl_seconds=1.0)
    )
    try:
        address, _token = await own_words_said(client)
        deadline = time.monotonic() + 10
        while True:
            response = await client.get(address)
            text = await response.text()
            if response.status == 404:
                break
            # Still there: only while the conversation is still kept.
            assert time.monotonic() < deadline, "the expired page is still shown"
            await asyncio.sleep(0.05)
        assert "Tuomas" not in text
    finally:
        await client.close()


async def test_erased_at_one_process_the_page_is_not_shown_at_another_sharing_the_file(
    shipped: LoadedProgram, tmp_path: Path
) -> None:
    """An outside attacker's finding: with two processes on one SQLite file, a conversation
    erased at one was still shown at the other, words and all, for as long as that process
    held its page. A page is now drawn only if the file still holds the conversation."""
    keyring = Keyring.generate()
    clients = [
        (await served_over_sqlite(shipped, tmp_path / "s.sqlite3", keyring))[1] for _ in range(2)
    ]
    one, two = clients
    try:
        address, token = await own_words_said(one)
        assert (await two.get(address)).status == 200  # the other process holds its page
        await one.post(f"{address}/erase", data={"csrf": form_token(token)})
        again = await two.get(address)
        assert again.status == 404
        assert "Tuomas" not in await again.text()
    finally:
        for client in clients:
            await client.close()


async def test_a_turn_that_meets_another_process_s_save_answers_try_again_never_a_bare_500(
    shipped: LoadedProgram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An outside attacker's finding: two processes on one SQLite file, a REST turn whose
    save met the other's got {"error": "HTTP 500"}. Nothing was changed: a polite notice,
    503 and Retry-After, as when the store is away."""
    runtime, client = await served_over_sqlite(shipped, tmp_path / "s.sqlite3")
    try:

        async def conflict(*_args: Any, **_kwargs: Any) -> Any:
            raise VersionConflict("the session was changed by someone else")

        monkeypatch.setattr(runtime, "handle", conflict)
        sender = secrets.token_urlsafe(24)
        response = await client.post(
            "/webhooks/rest/webhook", json={"sender": sender, "message": "hello"}
        )
        assert response.status == 503
        assert response.headers["Retry-After"] == "1"
        answer = await response.json()
        assert isinstance(answer, list) and answer[0]["text"]
    finally:
        await client.close()
