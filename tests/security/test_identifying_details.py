"""Attack: read back what a person was told was not kept.

The bot answers identifying details with "I haven't kept what you just wrote", and the store
holds them hidden; the transcript a page shows again (a reload, another tab, whoever has the
device next) held them word for word."""

from __future__ import annotations

from redirection_bot.safety.identifiers import HIDDEN_MARK
from tests.integration.webchat.conftest import page_at, runtime_of, say, start, text_of
from tests.security.conftest import Client

EMAIL = "anna.virtanen@example.org"
PHONE = "+358 40 123 4567"


async def test_a_reload_shows_identifying_details_hidden_as_the_store_keeps_them(
    client: Client,
) -> None:
    page = await start(client)
    said = await say(client, page, f"You can write to me at {EMAIL} or call {PHONE}")
    assert any(
        text_of(client, "safety.identifying_info.not_kept") in line for _k, line in said.lines
    )
    reloaded = await page_at(client, await client.get(f"/c/{said.token}"))
    mine = [line for kind, line in reloaded.lines if "you" in kind]
    assert mine and HIDDEN_MARK in mine[-1]
    assert EMAIL not in reloaded.html and "123 4567" not in reloaded.html
    state = await runtime_of(client).state(f"web:{said.token}")
    assert state is not None and EMAIL not in repr(state)


async def test_the_live_page_echo_hides_them_too(client: Client) -> None:
    ws = await client.ws_connect("/ws")
    await ws.send_json({"type": "start", "locale": "en"})
    await ws.receive_json(timeout=10)
    await ws.send_json({"type": "text", "text": "hello"})
    session = (await ws.receive_json(timeout=10))[0]["session"]  # its own address, answered
    other = await client.ws_connect("/ws")  # a second tab, which is sent the person's echo
    await other.send_json({"type": "resume", "session": session})
    await other.receive_json(timeout=10)
    await ws.send_json({"type": "text", "text": f"my e-mail is {EMAIL}"})
    await ws.receive_json(timeout=10)
    echoed = await other.receive_json(timeout=10)
    (you,) = [frame for frame in echoed if frame["type"] == "you"]
    assert EMAIL not in you["text"] and HIDDEN_MARK in you["text"]
    await ws.close()
    await other.close()


async def test_a_young_persons_own_school_is_hidden_as_any_detail(client: Client) -> None:
    """The forty-third retest: "im 16 ... riverside high" reached the operator with the
    school's name, which names a child to anyone who reads it."""
    page = await start(client)
    said = await say(client, page, "im 16 and i go to riverside high")
    reloaded = await page_at(client, await client.get(f"/c/{said.token}"))
    assert "riverside" not in reloaded.html.lower()
    mine = [line for kind, line in reloaded.lines if "you" in kind]
    assert mine and HIDDEN_MARK in mine[-1]
