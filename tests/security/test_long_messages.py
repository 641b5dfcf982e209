"""Attack: hold every conversation of an instance with long messages.

A message is screened up to 20,000 characters (a risk in a pasted text is found even when the
text is refused as too long), at about 0.1 ms a character at the worst ("a a a ..."). It was
screened on the event loop: one such message held every conversation of the instance for
about two seconds, and four scripted senders made a person's ordinary turn take 8 to 16
seconds. Long messages are now screened in a worker thread, one at a time
(``turn/screening_lane.py``)."""

from __future__ import annotations

import asyncio
import secrets

from tests.integration.webchat.conftest import text_of
from tests.security.conftest import Client, rest

HEAVIEST = "a " * 10_000
"""20,000 characters of the word that starts the most phrases: the slowest to screen."""


async def test_a_person_is_answered_while_scripts_send_the_longest_messages(
    client: Client,
) -> None:
    scripts = [secrets.token_hex(16) for _ in range(2)]
    person = secrets.token_hex(16)
    for sender in (*scripts, person):
        await rest(client, sender, "hi")
    attack = [asyncio.create_task(rest(client, sender, HEAVIEST)) for sender in scripts]
    await asyncio.sleep(0.2)  # the long messages are being screened
    status, answer = await rest(client, person, "i had a hard day at work")
    assert status == 200 and answer
    assert not any(task.done() for task in attack)  # answered before any long one
    for status, answer in await asyncio.gather(*attack):
        assert status == 200  # and each long message still gets its polite answer
        assert answer[0]["text"] == text_of(client, "engine.too_long")
