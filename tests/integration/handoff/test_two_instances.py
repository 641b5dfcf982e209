"""Two instances of the bot over one Redis (sessions and the relay, both sealed): the person
chats live on one, the helpline's channel runs on the other. What the operator writes reaches
the person's page, and the person's words reach the operator, with nothing in Redis readable."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import pytest

from redirection_bot.handoff.desk import Operator, Outcome
from redirection_bot.handoff.wire import PersonWrote, TicketOpened
from redirection_bot.operations.config import StoreSettings
from redirection_bot.operations.crypto import new_key_text
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store.factory import open_relay, open_store
from tests.fixtures.redis import RedisServer
from tests.integration.handoff.conftest import Setup, handoff_settings, running

pytestmark = pytest.mark.redis

ANNA = Operator("@anna:helpline.example", "Anna")


@contextlib.asynccontextmanager
async def instance(loaded: LoadedProgram, store: StoreSettings) -> AsyncIterator[Setup]:
    settings = handoff_settings("test", {}, claim_timeout_seconds=300.0)
    async with running(loaded, settings, open_store(store), open_relay(store)) as setup:
        yield setup


async def test_an_operator_on_one_instance_talks_with_a_person_on_another(
    shipped: LoadedProgram, redis_server: RedisServer
) -> None:
    prefix = f"two-{uuid.uuid4().hex[:8]}:"
    store = StoreSettings(
        backend="redis", url=redis_server.url, prefix=prefix, keys=(new_key_text(),)
    )
    async with instance(shipped, store) as person_side, instance(shipped, store) as desk_side:
        operators = await desk_side.operators()
        service = operators.service
        await service.duty(ANNA.ref, True)

        page, _token = await person_side.page()
        await page.ask_for_a_person()
        available = person_side.runtime.loaded.catalog.render("handoff.available_now", "en")
        await page.text_frame(available)  # the duty said on the other instance counts here

        (opened,) = await operators.told(TicketOpened)
        assert isinstance(opened, TicketOpened)
        assert await service.claim(opened.ticket, ANNA) is Outcome.APPLIED
        await page.text_frame("Anna from our support team has joined")
        assert await service.write(opened.ticket, ANNA, "Hello, I'm Anna.", "m1") is Outcome.APPLIED
        said = await page.until(lambda f: f.get("type") == "operator")
        assert said["text"] == "Hello, I'm Anna."

        await page.send({"type": "text", "text": "hello, thank you for coming"})
        wrote = await operators.told(PersonWrote)
        assert [w.text for w in wrote if isinstance(w, PersonWrote)] == [
            "hello, thank you for coming"
        ]
        await operators.stop()

    from redis.asyncio import Redis

    client = Redis.from_url(redis_server.url)
    try:
        keys = await client.keys(prefix + "*")
        assert len(keys) >= 3  # sessions, the desk, the relay's streams
        for key in keys:
            kind = await client.type(key)
            values: list[bytes] = []
            if kind == b"string":
                values = [await client.get(key) or b""]
            elif kind == b"stream":
                values = [
                    value for _id, fields in await client.xrange(key) for value in fields.values()
                ]
            blob = b"".join(values)
            assert b"Anna" not in blob and b"thank you for coming" not in blob, key
    finally:
        await client.aclose()
