"""Attack: fill the store with conversations that cost nothing to open.

A REST "hi" from a new sender (or a new page) stores a conversation, and every one was kept
for ``session_ttl_minutes`` (a day): one client could add about 5 GB an hour to the memory
store, 7 GB to Redis or 16 GB of SQLite disk (attack 7). A global cap would bring back the
lockout ``test_session_slots`` closed, so a conversation the person has only opened is kept
for ``store.untouched_minutes`` (30) instead, and for the whole day once they do anything."""

from __future__ import annotations

import secrets

from redirection_bot.authoring.testing import RasaActionRunner
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store.memory import MemoryStore
from redirection_bot.turn.runtime import Runtime, RuntimeSettings
from tests.integration.webchat.conftest import text_of
from tests.security.conftest import Over, rest

MINUTE = 60.0


async def test_conversations_only_opened_are_gone_long_before_a_day(
    over: Over, shipped: LoadedProgram
) -> None:
    now = [0.0]
    store = MemoryStore(clock=lambda: now[0])
    settings = RuntimeSettings(session_ttl_seconds=24 * 60 * MINUTE)
    client = await over(Runtime(shipped, store, RasaActionRunner(shipped), settings))
    for _ in range(200):  # a script: one "hi" each, from new senders, with and without a key
        assert (await rest(client, secrets.token_hex(16), "hi"))[0] == 200
        assert (await rest(client, None, "hi"))[0] == 200
    keyed = await client.post(
        "/webhooks/rest/webhook",
        json={"sender": secrets.token_hex(16), "message": "hi"},
        headers={"Idempotency-Key": "first-1"},
    )
    assert keyed.status == 200
    person = secrets.token_hex(16)  # someone who goes on
    await rest(client, person, "hi")
    await rest(client, person, "/choice:go_on")
    held = len(store._sessions)
    assert held > 400
    now[0] = 31 * MINUTE
    await store.expire()
    left = list(store._sessions)
    assert len(left) < 5, left  # the person's conversation (and its lookup names), nothing else
    status, answer = await rest(client, person, "/choice:go_on")  # still where they were
    assert status == 200
    assert all(item.get("text") != text_of(client, "welcome.hello") for item in answer)
    now[0] = 23 * 60 * MINUTE
    await store.expire()
    assert (await rest(client, person, "/choice:go_on"))[0] == 200
