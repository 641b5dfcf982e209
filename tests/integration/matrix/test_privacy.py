"""What the Matrix connector keeps on disk shows neither who talked nor what was said."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.synapse import SynapseServer
from tests.integration.matrix.conftest import StartBot
from tests.integration.matrix.people import Person

pytestmark = pytest.mark.matrix


async def test_the_ledger_keeps_no_room_or_user_id_and_no_words(
    synapse: SynapseServer, start_bot: StartBot, people: Callable[[SynapseServer], Person]
) -> None:
    bot = await start_bot(synapse)
    person = people(synapse)
    await person.open_chat(bot.user_id, encrypted=True)
    await person.replies(1)
    await person.answer_to("2")
    await person.answer_to("7")
    await person.answer_to("because of my own private reasons")
    await person.replies(5)  # the plan file too
    await bot.stop()

    state_dir = Path(bot.options.state_dir)
    files = sorted(state_dir.glob("matrix.sqlite*"))
    assert files and all(f.stat().st_mode & 0o077 == 0 for f in files)
    assert state_dir.stat().st_mode & 0o077 == 0
    data = b"".join(f.read_bytes() for f in files)
    assert bot.connector is not None and bot.connector.bot is not None
    assert bot.connector.bot.room_key(person.room_id).encode() in data  # the files were read
    for kept_nowhere in (
        person.room_id,
        person.user_id,
        bot.options.access_token,
        "my own private reasons",
        "In a few words",
    ):
        assert kept_nowhere.encode() not in data, kept_nowhere
