"""A disguised message is read like the plain one, everywhere: invisible characters anywhere,
accents typed in two parts and look-alike letters from other scripts give the same screening
result as the plain sentence (in the screener, through `redirection-bot screen`, and in a
whole turn over the web chat's REST and WebSocket channels), and what is stored and echoed is
the cleaned text."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.disguise import disguised, invisible_characters, realised, risk_sentences, rule_phrases
from tests.helpers import sender_id
from tests.integration.test_cli import run
from tests.integration.webchat.conftest import runtime_of

from redirection_bot.program.load import LoadedProgram
from redirection_bot.turn.ingress import admit

Client = TestClient[Any, Any]
LOCALES = ("en", "es", "fi")
WEBHOOK = "/webhooks/rest/webhook"
FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def screened(loaded: LoadedProgram, typed: str, locale: str) -> list[tuple[str, bool]]:
    """What a turn screens: the message admitted as the runtime admits it, then screened."""
    text = admit(typed, 10**6).text
    return [(hit.category.value, hit.certain) for hit in loaded.screener.screen(text, locale).hits]


def sentence_and_disguise(loaded: LoadedProgram, locale: str) -> st.SearchStrategy[Any]:
    sentences = st.one_of(
        st.sampled_from(risk_sentences(locale)),
        st.sampled_from(rule_phrases(loaded.screener, locale)).flatmap(realised),
    )
    return sentences.flatmap(lambda plain: st.tuples(st.just(plain), disguised(plain)))


@pytest.mark.parametrize("locale", LOCALES)
def test_a_disguised_risk_sentence_screens_like_the_plain_one(
    shipped: LoadedProgram, locale: str
) -> None:
    @settings(max_examples=400, deadline=None, suppress_health_check=FIXTURES)
    @given(sentence_and_disguise(shipped, locale))
    # found by this test: an address whose letters are look-alikes ("ǀ" for "l", "˛" for "i")
    @example(("email me: anon1234@protonmail.com", "Εmail me: anon1234@protonma˛ǀ.com"))
    def check(pair: tuple[str, str]) -> None:
        plain, typed = pair
        assert screened(shipped, typed, locale) == screened(shipped, plain, locale), typed

    check()


@pytest.mark.parametrize("locale", LOCALES)
def test_the_screen_command_reads_disguised_lines_like_plain_ones(
    shipped: LoadedProgram, locale: str
) -> None:
    @settings(max_examples=2, deadline=None, suppress_health_check=FIXTURES)
    @given(st.lists(sentence_and_disguise(shipped, locale), min_size=60, max_size=60))
    def check(pairs: list[tuple[str, str]]) -> None:
        # The plain lines as one conversation, the disguised ones as another: lines on
        # standard input are read as one conversation, and what a line carries to the next
        # (its leaning towards a category) must not differ because a line's twin preceded it.
        plains, typeds = (screened_lines([pair[side] for pair in pairs]) for side in (0, 1))
        for plain, typed in zip(plains, typeds, strict=True):
            assert (typed["categories"], typed["check"]) == (
                plain["categories"],
                plain["check"],
            ), typed["text"]
            assert not any(char in typed["text"] for char in invisible_characters())

    def screened_lines(lines: list[str]) -> list[dict[str, Any]]:
        done = run("screen", "--locale", locale, stdin="\n".join(lines) + "\n")
        assert done.returncode == 0, done.stderr
        found = [json.loads(line) for line in done.stdout.splitlines()]
        assert len(found) == len(lines)
        return found

    check()


async def rest_turn(client: Client, sender: str, *messages: str) -> list[str]:
    texts: list[str] = []
    for message in messages:
        response = await client.post(
            WEBHOOK, json={"sender": sender_id(sender), "message": message}
        )
        assert response.status == 200, await response.text()
        texts = [item.get("text", "") for item in await response.json()]
    return texts


async def socket_turn(client: Client, *messages: str) -> list[str]:
    ws = await client.ws_connect("/ws")
    await ws.send_json({"type": "start", "locale": "en"})
    texts: list[str] = []
    try:
        await ws.receive_json(timeout=10)
        for message in messages:
            await ws.send_json({"type": "text", "text": message})
            frames = await ws.receive_json(timeout=10)
            texts = [frame["text"] for frame in frames if frame.get("type") == "bot"]
    finally:
        await ws.close()
    return texts


async def test_a_disguised_risk_sentence_gets_the_same_answer_over_rest_and_websocket(
    client: Client, shipped: LoadedProgram
) -> None:
    pairs = st.sampled_from(risk_sentences("en")).flatmap(
        lambda plain: st.tuples(st.just(plain), disguised(plain))
    )
    examples: list[tuple[str, str]] = []

    @settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES, database=None)
    @given(pairs)
    def collect(pair: tuple[str, str]) -> None:
        examples.append(pair)

    collect()
    for number, (plain, typed) in enumerate(examples):
        expected = await rest_turn(client, f"plain-{number}", "hello", plain)
        assert await rest_turn(client, f"typed-{number}", "hello", typed) == expected, typed
        assert await socket_turn(client, typed) == await socket_turn(client, plain), typed


REASONS = ("I want to be there for my family", "so my partner can trust me again")


@pytest.mark.parametrize("reason", REASONS)
async def test_what_is_stored_and_echoed_is_the_cleaned_text(client: Client, reason: str) -> None:
    typed = "\u200b" + unicodedata.normalize("NFD", reason.replace("a", "a\u00ad")) + "\u2060 "
    sender = "reasons-" + str(REASONS.index(reason))
    answer = await rest_turn(
        client,
        sender,
        "/session_start",
        "/choice:go_on",
        "/choice:go_on",
        "/choice:stop",
        "/choice:no_thanks",
        typed,
    )
    state = await runtime_of(client).state("rest:" + sender_id(sender))
    assert state is not None
    assert state.slots["reasons"] == reason
    assert any(reason in text for text in answer)
    assert not any(char in text for text in answer for char in "\u200b\u00ad\u2060")


async def test_half_a_character_gets_a_polite_answer_over_rest_and_the_session_carries_on(
    client: Client,
) -> None:
    await rest_turn(client, "half", "/session_start")
    half = sender_id("half")
    body = '{"sender": "' + half + '", "message": "thank you \\ud83d"}'  # what slice() leaves
    response = await client.post(WEBHOOK, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 200, await response.text()
    answer = [item.get("text", "") for item in await response.json()]
    assert answer[0] == runtime_of(client).loaded.catalog.render("engine.unreadable", "en")
    assert len(answer) > 1  # and where the person was, again
    plan = await client.post(WEBHOOK, json={"sender": sender_id("half"), "message": "/plan"})
    assert plan.status == 200


async def test_half_a_character_gets_a_polite_answer_over_websocket_and_the_socket_stays(
    client: Client,
) -> None:
    ws = await client.ws_connect("/ws")
    await ws.send_json({"type": "start", "locale": "en"})
    await ws.receive_json(timeout=10)
    await ws.send_str('{"type": "text", "text": "thank you \\ud83d"}')
    frames = await ws.receive_json(timeout=10)
    texts = [frame.get("text") for frame in frames]
    assert runtime_of(client).loaded.catalog.render("engine.unreadable", "en") in texts
    await ws.send_json({"type": "text", "text": "hello"})
    assert await ws.receive_json(timeout=10)
    await ws.close()
