"""Resume words in the web chat and the REST channel: what "Leave now" and "Erase my
conversation" do to the copy kept under them, and that the person is told before."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient
from tests.helpers import sender_id
from tests.integration.webchat.conftest import (
    Page,
    page_at,
    press,
    runtime_of,
    say,
    start,
    text_of,
)

Client = TestClient[Any, Any]
TO_THE_WORDS = ("go_on", "go_on", "curious", "no_thanks", "menu", "pause", "keep_my_place", "give")
"""From the welcome to the resume words in the shipped program: choice ids."""
WORDS = re.compile(r"(?:Your words are|Tus palabras son|Sanasi ovat): ([^\n<]+)")


async def words_on_a_page(client: Client, locale: str = "en") -> tuple[Page, str]:
    page = await start(client, locale)
    for choice in TO_THE_WORDS:
        page = await page_at(client, await press(client, page, "choices", choice=choice))
    found = WORDS.search(page.html)
    assert found, page.lines[-3:]
    return page, found.group(1).strip()


async def test_leave_now_keeps_the_saved_copy_and_erase_deletes_it(client: Client) -> None:
    page, words = await words_on_a_page(client)
    told = page.html
    assert text_of(client, "webchat.leave_keeps_words") in told  # beside the buttons
    assert "these words still open your saved copy" in told  # where the words are given
    left = await press(client, page, "leave-form")
    assert str(left.url).endswith("/blank")
    assert await runtime_of(client).state(f"web:{page.token}") is None

    back = await say(client, await start(client), words)
    assert any(text_of(client, "resume.restored") in line for _k, line in back.lines)
    erased = await press(client, back, "erase-form")
    assert text_of(client, "webchat.erased") in await erased.text()

    again = await say(client, await start(client), words)
    assert any(text_of(client, "resume.not_found") in line for _k, line in again.lines)


async def test_typed_leave_now_keeps_it_typed_erase_everything_deletes_it(
    client: Client,
) -> None:
    page, words = await words_on_a_page(client, "es")
    assert "estas palabras siguen abriendo tu copia guardada" in page.html
    assert text_of(client, "webchat.leave_keeps_words", "es") in page.html
    left = await press(client, page, "compose", text="salir ahora")
    assert str(left.url).endswith("/blank")
    back = await say(client, await start(client, "es"), words)
    assert any(text_of(client, "resume.restored", "es") in line for _k, line in back.lines)
    gone = await press(client, back, "compose", text="borrar todo")
    assert str(gone.url).endswith("/blank")
    again = await say(client, await start(client, "es"), words)
    assert any(text_of(client, "resume.not_found", "es") in line for _k, line in again.lines)


async def rest(client: Client, sender: str, message: str) -> list[dict[str, Any]]:
    response = await client.post(
        "/webhooks/rest/webhook", json={"sender": sender, "message": message}
    )
    assert response.status == 200, await response.text()
    answer: list[dict[str, Any]] = await response.json()
    return answer


async def test_over_rest_stop_keeps_the_saved_copy_and_erase_deletes_it(client: Client) -> None:
    first = sender_id("first")
    await rest(client, first, "/session_start")
    for choice in TO_THE_WORDS:
        answer = await rest(client, first, f"/choice:{choice}")
    shown = "\n".join(str(item.get("text", "")) for item in answer)
    found = WORDS.search(shown)
    assert found, shown
    assert "these words still open your saved copy" in shown
    words = found.group(1).strip()
    assert (await rest(client, first, "/stop"))[-1]["custom"] == {"type": "end", "erase": True}

    second = sender_id("second")
    await rest(client, second, "/session_start")
    back = await rest(client, second, words)
    assert back[0]["text"] == text_of(client, "resume.restored", "en")
    assert (await rest(client, second, "/erase"))[-1]["custom"]["type"] == "end"
    assert await runtime_of(client).state("rest:" + second) is None

    third = sender_id("third")
    await rest(client, third, "/session_start")
    again = await rest(client, third, words)
    assert again[0]["text"] == text_of(client, "resume.not_found", "en")


async def test_the_words_are_shown_once_to_the_page_that_asked_and_never_to_another(
    client: Client,
) -> None:
    """The fifteenth attack: whoever made a conversation's address and gave it out followed
    it over a WebSocket and by reloading, and read the resume words (which open the saved
    copy and the plan for 30 days). They are shown to the page that asked, once."""
    page = await start(client)
    first, *rest = TO_THE_WORDS
    page = await page_at(client, await press(client, page, "choices", choice=first))
    # A page following the conversation's address (another tab, or whoever got the address).
    follower = await client.ws_connect("/ws")
    await follower.send_json({"type": "resume", "session": page.token})
    await follower.receive_json()
    for choice in rest:
        page = await page_at(client, await press(client, page, "choices", choice=choice))
    found = WORDS.search(page.html)
    assert found  # the page that asked has them
    words = found.group(1).strip()
    followed: list[Any] = []
    while True:
        try:
            followed.extend(await follower.receive_json(timeout=0.5))
        except TimeoutError:
            break
    assert followed and words not in str(followed)
    assert text_of(client, "webchat.words_shown_once") in str(followed)
    await follower.close()
    drawn_again = await client.get(f"/c/{page.token}")
    html = await drawn_again.text()
    assert words not in html
    assert text_of(client, "webchat.words_shown_once") in html
    # They open the saved copy all the same.
    back = await say(client, await start(client), words)
    assert any(text_of(client, "resume.restored") in line for _k, line in back.lines)
