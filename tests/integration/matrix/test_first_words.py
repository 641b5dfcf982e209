"""A room the bot is in without a record of it (its account joined elsewhere, its ledger was
lost) is taken up when the person writes, the greeting answering their first message. Those
first words were dropped unread: now a risk in them starts the safety flow after the greeting,
exactly as the runtime answers them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from nio import RoomCreateResponse, RoomPreset

from redirection_bot.authoring.testing import make_runtime
from redirection_bot.engine import Start, Text
from redirection_bot.program.load import LoadedProgram
from redirection_bot_connectors.matrix.content import turn_content
from tests.fixtures.synapse import SynapseServer
from tests.integration.matrix.conftest import InProcessBot, bot_options
from tests.integration.matrix.people import Person

pytestmark = pytest.mark.matrix

WORDS = "i dont want to be alive anymore"


async def join_elsewhere(
    server: SynapseServer, bot_id: str, access_token: str, person: Person
) -> None:
    """The person opens a room anyone may join, and the bot's account joins it from another
    client, so that the bot finds itself in a room it has no record of."""
    created = await person.client.room_create(preset=RoomPreset.public_chat)
    assert isinstance(created, RoomCreateResponse), created
    person.room_id = room_id = created.room_id
    person.bot_id = bot_id
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            f"{server.url}/_matrix/client/v3/join/{room_id}",
            headers={"Authorization": f"Bearer {access_token}"},
            json={},
        )
        assert response.status == 200, await response.text()


async def test_a_risk_in_the_first_words_of_a_room_taken_up_starts_the_safety_flow(
    synapse: SynapseServer,
    shipped: LoadedProgram,
    people: Callable[[SynapseServer], Person],
    tmp_path: Path,
) -> None:
    options = bot_options(synapse, tmp_path)
    bot = InProcessBot(shipped, tmp_path, options)
    await bot.start()
    twin = make_runtime(shipped)
    try:
        someone = people(synapse)  # once they are greeted, the bot is following the server
        await someone.open_chat(bot.user_id)
        await someone.replies(1)
        person = people(synapse)
        await join_elsewhere(synapse, bot.user_id, options["access_token"], person)
        await person.pump(1000)
        assert person.received == []  # taken up when the person writes, not before
        await person.say(WORDS)
        greeting, answer = await person.replies(2)
        for received, event in zip((greeting, answer), (Start("en"), Text(WORDS)), strict=True):
            expected = turn_content((await twin.handle("twin", event)).shown)
            assert expected is not None
            assert received.body == expected["body"]
        twin_state = await twin.state("twin")
        assert twin_state is not None and "suicide" in twin_state.risks
        bot.check_alive()
    finally:
        await bot.stop()
