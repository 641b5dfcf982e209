"""The bot rides out a homeserver restart and its rate limits, and logs no Matrix ids."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from redirection_bot.errors import ConnectorError
from tests.fixtures.synapse import SynapseServer
from tests.helpers import async_wait_until
from tests.integration.matrix.conftest import StartBot
from tests.integration.matrix.people import Person, unique

pytestmark = [pytest.mark.matrix, pytest.mark.slow]


def logged(caplog: pytest.LogCaptureFixture, event: str) -> int:
    return sum(1 for record in caplog.records if record.getMessage().startswith(event))


def assert_no_matrix_ids_logged(caplog: pytest.LogCaptureFixture, *ids: str) -> None:
    for record in caplog.records:
        text = record.getMessage()
        assert "@" not in text and "!" not in text, text
        for identifier in ids:
            assert identifier not in text


async def test_the_bot_carries_on_when_the_homeserver_restarts(
    synapse_own: SynapseServer,
    start_bot: StartBot,
    people: Callable[[SynapseServer], Person],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    bot = await start_bot(synapse_own)
    person = people(synapse_own)
    await person.open_chat(bot.user_id, encrypted=True)
    await person.replies(1)
    assert (await person.answer_to("2")).body.startswith("From 0 to 10")

    await asyncio.to_thread(synapse_own.stop)
    failures = logged(caplog, "matrix sync failed")

    async def retried_twice() -> bool:
        return logged(caplog, "matrix sync failed") >= failures + 2

    await async_wait_until(retried_twice, 30, "the bot to try the homeserver again")
    await asyncio.to_thread(synapse_own.start)

    assert (await person.answer_to("7")).body == "In a few words, why does it matter to you?"
    assert "My reasons: my children" in (await person.answer_to("my children")).body
    bot.check_alive()
    assert_no_matrix_ids_logged(caplog, bot.user_id, person.user_id, person.room_id)


async def test_a_flood_of_messages_meets_the_rate_limit_and_none_is_lost(
    synapse_rate_limited: SynapseServer,
    start_bot: StartBot,
    people: Callable[[SynapseServer], Person],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    bot = await start_bot(synapse_rate_limited)
    person = people(synapse_rate_limited)
    await person.open_chat(bot.user_id)
    await person.replies(1)
    flood = 8
    for number in range(flood):
        await person.say(f"word {number}")  # the person's client waits out its own limit
    replies = await person.replies(1 + flood, timeout=180)
    assert all("Sorry, I did not understand." in r.body or "person" in r.body for r in replies[1:])
    assert logged(caplog, "matrix rate limited") > 0
    # Exactly one answer each: the next message is answered next, and nothing came between.
    answer = await person.answer_to("repeat", timeout=60)
    assert person.received.index(answer) == 1 + flood
    bot.check_alive()
    assert_no_matrix_ids_logged(caplog, bot.user_id, person.user_id, person.room_id)


async def test_many_messages_sent_while_the_bot_was_away_are_each_answered_once(
    synapse: SynapseServer, start_bot: StartBot, people: Callable[[SynapseServer], Person]
) -> None:
    bot = await start_bot(synapse)
    person = people(synapse)
    await person.open_chat(bot.user_id, encrypted=True)
    await person.replies(1)
    await bot.stop()
    away = 60  # more than one sync returns, so the bot fetches the rest of the timeline
    for number in range(away):
        await person.say(f"word {number}")
    await bot.start()
    replies = await person.replies(1 + away, timeout=120)
    assert all("Sorry, I did not understand." in r.body for r in replies[1:])
    assert (await person.answer_to("2")).body.startswith("From 0 to 10")
    assert len(person.received) == 2 + away


async def test_a_refused_login_stops_the_connector_with_a_clear_error(
    synapse: SynapseServer, start_bot: StartBot
) -> None:
    bot = await start_bot(synapse, access_token="not-a-real-token")
    with pytest.raises(ConnectorError, match="refused the bot's login"):
        await bot.wait()


async def test_with_a_password_the_bot_stays_one_device_across_restarts(
    synapse: SynapseServer, start_bot: StartBot, people: Callable[[SynapseServer], Person]
) -> None:
    account = synapse.register(unique("passwordbot"))
    bot = await start_bot(
        synapse, user_id=account.user_id, access_token=None, password=account.password
    )
    person = people(synapse)
    await person.open_chat(bot.user_id, encrypted=True)
    await person.replies(1)
    assert bot.connector is not None
    device = bot.connector.device_id
    assert device is not None and device != account.device_id

    await bot.stop()
    await bot.start()
    assert (await person.answer_to("2")).body.startswith("From 0 to 10")
    assert bot.connector.device_id == device
