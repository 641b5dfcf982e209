"""Encryption at rest: the SQLite file and Redis hold nothing of what was said, nor whose it was.

A whole conversation (with the person's own words, and a resume phrase) goes through the
runtime over the configured store; then the raw bytes on disk and in Redis are searched.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis

from redirection_bot.authoring.testing import RasaActionRunner, load, write_program
from redirection_bot.engine import ChoicePicked, Start, Text
from redirection_bot.operations.config import StoreSettings
from redirection_bot.operations.crypto import new_key_text
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store import SessionStore
from redirection_bot.store.factory import open_store
from redirection_bot.store.resume import ResumeVault
from redirection_bot.turn.runtime import Runtime
from tests.fixtures.programs import FLOWS, LOCALES, PROGRAM
from tests.fixtures.redis import RedisServer

SESSION = "webchat:7f3a-private-session-id"
OWN_WORDS = "Call my brother Tuomas every Sunday evening"
SECRETS = [b"Tuomas", b"brother", b"Sunday evening", b"7f3a-private"]


@pytest.fixture
def program(tmp_path: Path) -> LoadedProgram:
    return load(write_program(tmp_path / "program", PROGRAM, FLOWS, LOCALES), tmp_path)


async def converse(program: LoadedProgram, store: SessionStore) -> None:
    runtime = Runtime(
        program, store, RasaActionRunner(program), resume=ResumeVault(store, cost=2**10)
    )
    await runtime.handle(SESSION, Start())
    await runtime.handle(SESSION, ChoicePicked("bad"))
    await runtime.handle(SESSION, Text(OWN_WORDS))
    await runtime.handle(SESSION, ChoicePicked("keep"))
    reply = await runtime.handle(SESSION, ChoicePicked("yes_please"))
    assert reply.messages[0].key == "resume.phrase"
    state = await runtime.state(SESSION)
    assert state is not None and state.slots["why"] == OWN_WORDS  # the runtime can read it


def assert_unreadable(raw: bytes, where: str) -> None:
    for secret in SECRETS:
        assert secret not in raw, f"{secret!r} found in {where}"


async def test_the_sqlite_files_hold_nothing_readable(
    program: LoadedProgram, tmp_path: Path
) -> None:
    folder = tmp_path / "state"
    key = new_key_text()
    store = open_store(StoreSettings("sqlite", path=str(folder / "s.sqlite3"), keys=(key,)))
    await converse(program, store)
    files = list(folder.iterdir())
    raw = b"".join(path.read_bytes() for path in files)  # the database, its WAL, its index
    assert len(raw) > 1000
    assert_unreadable(raw, "the SQLite files")
    await store.close()
    assert_unreadable(b"".join(p.read_bytes() for p in folder.iterdir()), "the closed SQLite file")


@pytest.mark.redis
async def test_redis_memory_and_its_append_only_file_hold_nothing_readable(
    program: LoadedProgram, redis_own: RedisServer
) -> None:
    settings = StoreSettings("redis", url=redis_own.url, prefix="at-rest:", keys=(new_key_text(),))
    store = open_store(settings)
    await converse(program, store)
    client = Redis.from_url(redis_own.url)
    try:
        raw = b""
        async for name in client.scan_iter(match="*"):
            raw += name
            kind = await client.type(name)
            if kind == b"hash":
                for field, value in (await client.hgetall(name)).items():
                    raw += field + value
            elif kind == b"string":
                raw += await client.get(name) or b""
        assert len(raw) > 500
        assert_unreadable(raw, "Redis's memory")
        on_disk = b"".join(
            path.read_bytes() for path in redis_own.folder.rglob("*") if path.is_file()
        )
        assert_unreadable(on_disk, "Redis's files")
    finally:
        await client.aclose()
        await store.close()
