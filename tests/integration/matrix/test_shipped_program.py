"""The shipped program over Matrix: the chat shows exactly what the runtime says."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from redirection_bot.authoring.testing import make_runtime
from redirection_bot.engine import Start, Text
from redirection_bot.program.load import LoadedProgram
from redirection_bot_connectors.matrix.content import turn_content
from tests.fixtures.synapse import SynapseServer
from tests.integration.matrix.conftest import InProcessBot, bot_options
from tests.integration.matrix.people import Person

pytestmark = pytest.mark.matrix


async def test_the_shipped_program_reads_in_a_chat_as_the_runtime_says_it(
    synapse: SynapseServer,
    shipped: LoadedProgram,
    people: Callable[[SynapseServer], Person],
    tmp_path: Path,
) -> None:
    bot = InProcessBot(shipped, tmp_path, bot_options(synapse, tmp_path, locale="es"))
    await bot.start()
    twin = make_runtime(shipped)
    try:
        person = people(synapse)
        await person.open_chat(bot.user_id, encrypted=True)
        expected = turn_content((await twin.handle("twin", Start("es"))).shown)
        assert expected is not None
        greeting = (await person.replies(1))[0]
        assert (greeting.body, greeting.formatted_body) == (
            expected["body"],
            expected["formatted_body"],
        )
        for answer in ("1", "2"):
            expected = turn_content((await twin.handle("twin", Text(answer))).shown)
            assert expected is not None
            assert (await person.answer_to(answer)).body == expected["body"]
        bot.check_alive()
    finally:
        await bot.stop()
