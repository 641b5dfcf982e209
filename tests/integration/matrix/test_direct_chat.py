"""A person talks with the bot in a direct chat, unencrypted and end-to-end encrypted."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.fixtures.synapse import SynapseServer
from tests.integration.matrix.conftest import StartBot
from tests.integration.matrix.people import Person

pytestmark = pytest.mark.matrix


@pytest.mark.parametrize(
    ("encrypted", "first_answer"),
    [(False, "2"), (True, "i want to STOP")],
    ids=["unencrypted", "encrypted"],
)
async def test_a_whole_module_in_a_direct_chat(
    synapse: SynapseServer,
    start_bot: StartBot,
    people: Callable[[SynapseServer], Person],
    encrypted: bool,
    first_answer: str,
) -> None:
    bot = await start_bot(synapse)
    person = people(synapse)
    await person.open_chat(bot.user_id, encrypted=encrypted)

    greeting = (await person.replies(1))[0]
    assert greeting.body == (
        "Hello, and welcome.\n\nWhere are you now?\n1. I want to cut down\n2. I want to stop"
    )
    assert greeting.formatted_body == (
        "<p>Hello, and welcome.</p><p>Where are you now?</p>"
        "<ol><li>I want to cut down</li><li>I want to stop</li></ol>"
    )

    # The choice by its number or by its label; then a number; then the person's own words.
    scale = " · ".join(str(n) for n in range(11))
    question = await person.answer_to(first_answer)
    assert question.body == f"From 0 to 10, how important is stopping to you?\n{scale}"
    assert (await person.answer_to("eleven")).body == f"Please give a number from 0 to 10.\n{scale}"
    assert (await person.answer_to("7")).body == "In a few words, why does it matter to you?"
    plan = await person.answer_to("For <b>my</b> family & me")
    assert "My reasons: For <b>my</b> family & me" in plan.body
    assert "For &lt;b&gt;my&lt;/b&gt; family &amp; me" in (plan.formatted_body or "")
    assert "<b>my</b>" not in (plan.formatted_body or "")
    assert plan.body.endswith("That is the end of this module.")

    # The plan also arrives as a text file, encrypted in an encrypted room.
    file = (await person.replies(6))[5]
    assert file.msgtype == "m.file" and file.body == "my-plan.txt"
    assert ("file" in file.content) is encrypted
    assert file.file_text is not None
    assert "Where I started: I want to stop" in file.file_text
    assert "My reasons: For <b>my</b> family & me" in file.file_text
    bot.check_alive()
