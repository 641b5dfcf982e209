"""The chat as plain HTML forms, as a browser with JavaScript off (Tor Browser "Safest") or a
text browser uses it: start, choices, typed answers, language, a person, the plan, leaving."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from tests.integration.webchat.conftest import (
    Serve,
    chat_of,
    choose,
    page_at,
    press,
    runtime_of,
    say,
    start,
    text_of,
)

from redirection_bot.engine import Waiting
from redirection_bot.operations.config import LimitSettings
from redirection_bot_connectors.webchat.sessions import TranscriptEntry

Client = TestClient[Any, Any]


async def test_the_landing_page_starts_nothing_until_the_person_presses_start(
    client: Client,
) -> None:
    response = await client.get("/")
    html = await response.text()
    assert response.status == 200
    assert 'action="/start"' in html and text_of(client, "webchat.start") in html
    assert len(chat_of(client).book) == 0  # crawlers and link previews create no session
    page = await start(client)
    assert len(chat_of(client).book) == 1
    assert page.url.endswith(f"/c/{page.token}")
    assert any(text_of(client, "welcome.hello") in line for _kind, line in page.lines)


async def test_session_tokens_and_form_tokens_are_unguessable(client: Client) -> None:
    first, second = await start(client), await start(client)
    for page in (first, second):
        assert len(page.token) >= 22  # 128 bits in URL-safe base64 need 22 characters
        csrf = page.form("compose")["hidden"]["csrf"]
        assert len(csrf) >= 22 and csrf != page.token
    assert first.token != second.token
    assert first.form("compose")["hidden"]["csrf"] != second.form("compose")["hidden"]["csrf"]


async def test_a_conversation_with_choices_and_typed_answers(client: Client) -> None:
    page = await start(client)
    label = next(iter(page.choices()))
    after = await choose(client, page, label)
    assert ("you", f"{text_of(client, 'webchat.you')} {label}") in after.lines
    assert len(after.lines) > len(page.lines)
    assert 'id="now"' in after.html  # the page opens at the latest turn
    typed = await say(client, after, "help")
    assert any(text_of(client, "support.no_team") in line for _k, line in typed.lines)


async def test_the_page_is_in_the_persons_language(client: Client) -> None:
    page = await start(client)
    spanish = await page_at(client, await press(client, page, "languages-form", language="es"))
    assert '<html lang="es"' in spanish.html
    assert text_of(client, "webchat.send", "es") in spanish.html
    assert ("you", f"{text_of(client, 'webchat.you', 'es')} Español") in spanish.lines
    landing = await client.get("/", headers={"Accept-Language": "fi-FI,fi;q=0.9,en;q=0.5"})
    assert text_of(client, "webchat.start", "fi") in await landing.text()


async def test_talk_to_a_person_runs_the_help_command(client: Client) -> None:
    page = await start(client)
    after = await page_at(client, await press(client, page, "command", command="help"))
    assert any(text_of(client, "support.no_team") in line for _k, line in after.lines)


async def test_the_plan_downloads_as_a_text_file(client: Client) -> None:
    page = await start(client)
    response = await client.get(f"/c/{page.token}/plan.txt")
    assert response.status == 200
    assert response.content_type == "text/plain" and response.charset == "utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="plan.txt"'
    assert response.headers["Cache-Control"] == "no-store"
    assert (await response.text()).strip()


async def test_leave_now_erases_at_once_and_goes_to_a_neutral_page(client: Client) -> None:
    page = await start(client)
    session_id = f"web:{page.token}"
    assert await runtime_of(client).state(session_id) is not None
    response = await press(client, page, "leave-form")
    assert str(response.url).endswith("/blank")
    assert await runtime_of(client).state(session_id) is None
    assert len(chat_of(client).book) == 0
    again = await client.get(f"/c/{page.token}")
    html = await again.text()
    assert again.status == 404
    assert text_of(client, "program.title") not in html  # Back shows nothing about the program


async def test_leave_now_works_even_from_an_outdated_page(client: Client) -> None:
    page = await start(client)
    response = await client.post(f"/c/{page.token}/leave", data={"csrf": "outdated"})
    assert str(response.url).endswith("/blank")
    assert await runtime_of(client).state(f"web:{page.token}") is None


async def test_erase_my_conversation(client: Client) -> None:
    page = await start(client)
    response = await press(client, page, "erase-form")
    assert text_of(client, "webchat.erased") in await response.text()
    assert await runtime_of(client).state(f"web:{page.token}") is None


async def test_typing_the_stop_words_leaves_and_erases(client: Client) -> None:
    page = await start(client)
    response = await press(client, page, "compose", text="leave now")
    assert str(response.url).endswith("/blank")
    assert await runtime_of(client).state(f"web:{page.token}") is None


async def test_a_form_without_the_anti_forgery_token_changes_nothing(client: Client) -> None:
    page = await start(client)
    state_before = await runtime_of(client).state(f"web:{page.token}")
    label, choice = next(iter(page.choices().items()))
    for csrf in (None, "forged", page.token):
        data = {"choice": choice} if csrf is None else {"choice": choice, "csrf": csrf}
        response = await client.post(f"/c/{page.token}", data=data)
        assert response.status == 200
    assert await runtime_of(client).state(f"web:{page.token}") == state_before
    shown = await page_at(client, await client.get(f"/c/{page.token}"))
    assert ("you", f"{text_of(client, 'webchat.you')} {label}") not in shown.lines
    assert any(text_of(client, "webchat.stale_form") in line for _k, line in shown.lines)


async def test_a_double_press_never_answers_the_next_question(client: Client) -> None:
    """The fifteenth attack: the forms said nothing of the question they answered, so a
    double press (or a resubmit, or a second tab) of "Okay, go on" answered the next
    question too, skipping "Anonymity has limits"; on a checklist it took the item off."""
    opened = await start(client)
    choice = next(iter(opened.choices().values()))
    page = await page_at(client, await press(client, opened, "choices", choice=choice))
    choice = next(iter(page.choices().values()))
    after = await page_at(client, await press(client, page, "choices", choice=choice))
    state = await runtime_of(client).state(f"web:{page.token}")
    again = await page_at(client, await press(client, page, "choices", choice=choice))
    assert await runtime_of(client).state(f"web:{page.token}") == state
    assert any(text_of(client, "webchat.stale_form") in line for _k, line in again.lines)
    assert again.choices() == after.choices()
    typed = await page_at(client, await press(client, page, "compose", text="hello"))
    assert await runtime_of(client).state(f"web:{page.token}") == state
    assert ("you", "hello") not in [(kind, line[-5:]) for kind, line in typed.lines]
    # The page drawn now answers as before.
    picked = next(iter(again.choices().values()))
    moved = await page_at(client, await press(client, again, "choices", choice=picked))
    assert len(moved.lines) > len(again.lines)


async def test_too_long_a_message_gets_a_polite_answer_and_loses_nothing(client: Client) -> None:
    page = await start(client)
    after = await say(client, page, "a" * 2001)
    assert any(text_of(client, "engine.too_long") in line for _k, line in after.lines)
    you = [line for kind, line in after.lines if kind == "you"]
    assert you and you[-1].endswith("…") and len(you[-1]) < 2100
    assert await runtime_of(client).state(f"web:{page.token}") is not None


async def test_a_long_paste_reaches_the_bot_whole_and_a_risk_at_its_end_is_read(
    client: Client,
) -> None:
    page = await start(client)
    # The text box let 2,000 characters through: a browser cut a longer paste silently, and
    # words at its end never arrived (an outside tester's finding).
    assert 'maxlength="20000"' in page.html
    pasted = "it has been a long week at work and at home. " * 60 + "i want to die"
    after = await say(client, page, pasted)
    assert any(text_of(client, "safety.suicide.acknowledge") in line for _k, line in after.lines)


async def test_a_disclosure_over_the_rate_limit_is_heard_all_the_same(serve: Serve) -> None:
    """An outside tester's finding: past the limit, "i dont want to be alive anymore" was
    answered only "you are sending messages faster..." and never screened."""
    client = await serve(limits=LimitSettings(messages_per_minute=3))
    page = await start(client)
    for _ in range(4):
        page = await say(client, page, "hello")
    assert page.lines[-1][1].endswith(text_of(client, "webchat.rate_limited"))
    after = await say(client, page, "i dont want to be alive anymore")
    assert any(text_of(client, "safety.suicide.acknowledge") in line for _k, line in after.lines)


async def test_the_plan_over_the_rate_limit_is_a_text_file_never_the_chat_page(
    serve: Serve,
) -> None:
    """The thirty-second retest: "plan.txt" asked for over the rate limit was a redirect to
    the chat page, which the browser saved as the file, its transcript and address in it."""
    client = await serve(limits=LimitSettings(messages_per_minute=3))
    page = await start(client)
    for _ in range(4):
        page = await say(client, page, "hello")
    response = await client.get(f"/c/{page.token}/plan.txt", allow_redirects=False)
    assert response.status == 429
    assert response.content_type == "text/plain"
    assert response.headers["Content-Disposition"] == 'attachment; filename="plan.txt"'
    body = await response.text()
    assert body == text_of(client, "webchat.rate_limited")
    assert page.token not in body


async def test_too_many_messages_a_minute_get_a_polite_answer(serve: Serve) -> None:
    client = await serve(limits=LimitSettings(messages_per_minute=3))
    page = await start(client)
    for _ in range(3):
        page = await say(client, page, "hello")
    limited = await say(client, page, "hello")
    assert limited.lines[-1] == (
        "notice",
        f"{text_of(client, 'webchat.notice')} {text_of(client, 'webchat.rate_limited')}",
    )
    assert await runtime_of(client).state(f"web:{page.token}") is not None


async def test_a_full_house_makes_room_and_keeps_the_others(serve: Serve) -> None:
    client = await serve(limits=LimitSettings(max_sessions=2))
    first = await start(client)
    await start(client)
    third = await start(client, "es")  # nobody is turned away: the process makes room
    assert third.lines[0][1].endswith(text_of(client, "welcome.hello", "es"))
    still = await page_at(client, await client.get(f"/c/{first.token}"))  # from the store
    assert still.choices() == first.choices()


async def test_unreadable_forms_are_answered_politely(client: Client) -> None:
    page = await start(client)
    csrf = page.form("compose")["hidden"]["csrf"]
    not_utf8 = f"csrf={csrf}&text=".encode() + b"\xff\xfe\xfd"
    response = await client.post(
        f"/c/{page.token}",
        data=not_utf8,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    assert response.status == 200
    # Escaped bytes that are not UTF-8 (half an emoji, a stray byte) are unreadable too,
    # never the person's words in replacement characters (attack 12).
    for escaped in ("%ED%A0%80", "%FF%FEabc"):
        posted = await client.post(
            f"/c/{page.token}",
            data=f"csrf={csrf}&text={escaped}".encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        shown = await page_at(client, posted)
        assert shown.lines[-1][1].endswith(text_of(client, "webchat.unreadable"))
        assert all("\ufffd" not in text for _who, text in shown.lines)
    too_big = await client.post(f"/c/{page.token}", data={"csrf": csrf, "text": "x" * 100_000})
    assert too_big.status == 200
    nonsense = await client.post(f"/c/{page.token}", data={"csrf": csrf, "command": "fly"})
    shown = await page_at(client, nonsense)
    assert shown.lines[-1][1].endswith(text_of(client, "webchat.unreadable"))
    assert await runtime_of(client).state(f"web:{page.token}") is not None


async def test_while_waiting_for_a_person_only_a_frame_refreshes_never_the_page_being_typed_in(
    client: Client,
) -> None:
    """The nineteenth retest: the page without JavaScript refreshed itself every 15 s while
    the person waited, and emptied the text box they were typing in. The page itself never
    refreshes now; a frame in it does, and shows what came after the page was drawn."""
    page = await start(client)
    assert "waiting" not in page.html
    session = chat_of(client).book.web(page.token)
    assert session is not None
    session.waiting = Waiting.HANDOFF
    drawn_page = await client.get(f"/c/{page.token}")
    waiting = await page_at(client, drawn_page)
    assert 'http-equiv="refresh"' not in waiting.html
    drawn = len(session.lines())
    frame_url = f"/c/{page.token}/waiting?since={drawn}"
    # In <noscript>: with JavaScript on, the live page follows the conversation itself.
    assert f'<noscript><iframe class="waiting-frame" src="{frame_url}"' in waiting.html
    frame = await client.get(frame_url)
    body = await frame.text()
    assert '<meta http-equiv="refresh" content="15">' in body
    assert text_of(client, "webchat.waiting_refresh") in body
    assert "frame-ancestors 'self'" in frame.headers["Content-Security-Policy"]
    assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'none'" in drawn_page.headers["Content-Security-Policy"]
    assert drawn_page.headers["X-Frame-Options"] == "DENY"
    session.add([TranscriptEntry("operator", "Hello, I'm here <b>now</b>", who="Anna")])
    body = await (await client.get(frame_url)).text()
    assert "Anna" in body and "&lt;b&gt;now&lt;/b&gt;" in body
    assert f'href="/c/{page.token}#now" target="_top"' in body
    # Newest first: a small frame on a phone shows what came last (the twenty-second retest).
    session.add([TranscriptEntry("operator", "Are you safe right now?", who="Anna")])
    body = await (await client.get(frame_url)).text()
    assert body.index("Are you safe right now?") < body.index("I&#39;m here")
    # ...by reply: a reply's heading before its list (the twenty-sixth retest: the list first)
    session.add([TranscriptEntry("bot", "These services can help:"), TranscriptEntry("bot", "988")])
    body = await (await client.get(frame_url)).text()
    assert body.index("These services can help:") < body.index("988") < body.index("Are you safe")
    assert "Hello" not in await (await client.get(frame_url[: -len(str(drawn))] + "99")).text()
    session.waiting = Waiting.ANSWER
    over = await (await client.get(frame_url)).text()
    assert 'http-equiv="refresh"' not in over  # the wait is over: the link, no more refresh
    assert (await client.get("/c/not-a-conversation/waiting?since=1")).status == 404


async def test_a_restarted_process_finds_the_conversation_in_the_store(serve: Serve) -> None:
    client = await serve(limits=LimitSettings(max_sessions=1))
    page = await start(client)
    chat = chat_of(client)
    chat.book.remove(chat.book.web(page.token))  # type: ignore[arg-type]
    await start(client)  # the process is full again: it still finds conversations it had
    again = await page_at(client, await client.get(f"/c/{page.token}"))
    assert again.choices() == page.choices()
    # The page drawn before the restart (or by another instance) still works.
    chat.book.remove(chat.book.web(page.token))  # type: ignore[arg-type]
    label = next(iter(page.choices()))
    after = await choose(client, page, label)
    assert after.lines[-1][0] == "bot"
    assert not any(text_of(client, "webchat.stale_form") in line for _k, line in after.lines)


async def test_unknown_addresses_get_a_neutral_page(client: Client) -> None:
    for path in ("/c/not-a-token", "/c/" + "A" * 32, "/nothing-here", "/c/x/plan.txt"):
        response = await client.get(path)
        assert response.status == 404
        assert text_of(client, "webchat.gone") in await response.text()


async def test_a_page_erased_here_is_never_opened_again_from_the_store(client: Client) -> None:
    """An outside attacker's finding: a form posted as another tab erased the conversation
    brought the address back. Erasing forgets the page here first, then deletes from the
    store; a request in between must not open it again from the store's copy."""
    page = await start(client)
    chat = chat_of(client)
    session = chat.book.web(page.token)
    assert session is not None
    chat.book.gone(session)  # the erase's first step; the store still holds it
    again = await client.get(f"/c/{page.token}")
    assert again.status == 404


async def test_a_page_erased_while_it_is_opened_from_the_store_is_not_started_again(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opened from the store (after a restart, or at another instance) while an erase
    deletes it: gone, never a new conversation under the erased address."""
    page = await start(client)
    chat, runtime = chat_of(client), runtime_of(client)
    session = chat.book.web(page.token)
    assert session is not None
    chat.book.remove(session)  # this process no longer holds the page
    read = runtime.state

    async def read_then_erased(session_id: str) -> Any:
        found = await read(session_id)
        await runtime.erase(session_id)  # the erase lands between the read and the turn
        return found

    monkeypatch.setattr(runtime, "state", read_then_erased)
    again = await client.get(f"/c/{page.token}")
    assert again.status == 404
    monkeypatch.setattr(runtime, "state", read)
    assert await runtime.state(f"web:{page.token}") is None
