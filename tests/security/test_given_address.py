"""Attack: open a conversation, give its address out, and read along.

The address of a conversation is its only credential (no cookie). Whoever opened a
conversation and gave its address to someone else (a link in a forum: "talk to them here")
followed what that person then typed, live over a WebSocket and by reloading the page (the
fifteenth attack). The first answer given at a page only opened now goes to the
conversation's own copy under a new address; the address given out stays only opened."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.webchat.conftest import chat_of, page_at, press, say, start, text_of
from tests.security.conftest import Client

PRIVATE = "i keep thinking about it and im scared of myself"


async def test_whoever_gave_the_address_out_never_reads_what_is_said_there(
    client: Client,
) -> None:
    given = await start(client)  # opened by the one who gives the address out
    follower = await client.ws_connect("/ws")
    await follower.send_json({"type": "resume", "session": given.token})
    await follower.receive_json(timeout=10)
    # The person who was given the address answers there, without JavaScript.
    choice = next(iter(given.choices().values()))
    theirs = await page_at(client, await press(client, given, "choices", choice=choice))
    assert theirs.token != given.token
    theirs = await say(client, theirs, PRIVATE)
    assert any(PRIVATE in line for _kind, line in theirs.lines)
    # The follower was sent nothing, and the address given out shows only the greeting.
    try:
        sent = await follower.receive_json(timeout=1)
    except TimeoutError:
        sent = None
    assert sent is None
    await follower.close()
    drawn = await page_at(client, await client.get(f"/c/{given.token}"))
    assert PRIVATE not in drawn.html and len(drawn.lines) == len(given.lines)
    assert drawn.choices() == given.choices()
    # Whoever else answers there has a conversation of their own, never the first person's.
    drawn_again = await page_at(client, await client.get(f"/c/{given.token}"))
    other = await page_at(client, await press(client, drawn_again, "choices", choice=choice))
    assert other.token not in (given.token, theirs.token) and PRIVATE not in other.html
    assert text_of(client, "webchat.stale_form") not in other.html


async def test_a_live_page_takes_its_own_address_at_the_first_answer_and_keeps_it(
    client: Client,
) -> None:
    given = await start(client)
    ws = await client.ws_connect("/ws")
    await ws.send_json({"type": "resume", "session": given.token})
    await ws.receive_json(timeout=10)
    await ws.send_json({"type": "text", "text": PRIVATE})
    frames = await ws.receive_json(timeout=10)
    assert frames[0]["type"] == "address" and frames[0]["session"] != given.token
    own = frames[0]["session"]
    await ws.close()
    assert PRIVATE not in await (await client.get(f"/c/{given.token}")).text()
    assert PRIVATE in await (await client.get(f"/c/{own}")).text()


async def test_a_double_press_on_a_page_only_opened_makes_one_conversation_that_erase_removes(
    client: Client,
) -> None:
    """The sixteenth attack: the first form sent twice (a double click, a resend over a slow
    circuit) made two copies, and "Erase my conversation" on the one the person ended on left
    the other, with their first words, for a day."""
    given = await start(client)
    first, again = await asyncio.gather(
        press(client, given, "compose", text=PRIVATE),
        press(client, given, "compose", text=PRIVATE),
    )
    pages = [await page_at(client, first), await page_at(client, again)]
    assert pages[0].token == pages[1].token != given.token
    shown = await page_at(client, await client.get(f"/c/{pages[1].token}"))
    assert len([line for kind, line in shown.lines if line.endswith(PRIVATE)]) == 1
    chat = chat_of(client)
    copies = [s for s in chat.book if PRIVATE in str(s.lines())]
    assert len(copies) == 1


@pytest.mark.parametrize("way_out", ["erase-form", "leave-form"])
async def test_the_address_first_drawn_is_gone_with_the_conversation_it_moved_to(
    client: Client, way_out: str
) -> None:
    """The forty-second attack: after "Erase my conversation" or "Leave now" at the address
    the conversation moved to, the address it was first drawn at (in the browser's history)
    still showed a live chat and its plan.txt for half an hour. Now both are the neutral
    "not found"."""
    opened = await start(client)
    moved = await say(client, opened, PRIVATE)
    assert moved.token != opened.token
    await press(client, moved, way_out)
    for token in (opened.token, moved.token):
        assert (await client.get(f"/c/{token}")).status == 404
        assert (await client.get(f"/c/{token}/plan.txt")).status == 404


async def test_the_address_given_out_stays_for_others_until_its_own_first_answer_ends(
    client: Client,
) -> None:
    """Whoever else was given the address (the fifteenth attack) still opens their own
    conversation there while the first person's goes on; only "erase" or "leave now" of a
    conversation that moved from it takes it away."""
    given = await start(client)
    theirs = await say(client, given, PRIVATE)
    other = await say(client, await page_at(client, await client.get(f"/c/{given.token}")), "hi")
    assert other.token not in (given.token, theirs.token)
    await press(client, other, "erase-form")
    assert (await client.get(f"/c/{theirs.token}")).status == 200
    assert (await client.get(f"/c/{given.token}")).status == 404
