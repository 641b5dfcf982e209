"""Attack: hold every conversation of an instance with long messages.

A message is screened up to 20,000 characters (a risk in a pasted text is found even when the
text is refused as too long), at about 0.1 ms a character at the worst ("a a a ..."). It was
screened on the event loop: one such message held every conversation of the instance for
about two seconds, and four scripted senders made a person's ordinary turn take 8 to 16
seconds. Long messages are now screened in a worker thread, one at a time
(``turn/screening_lane.py``).

An outside tester then found messages that held the interpreter itself, thread or not, and
its memory: one word of 20,000 letters or digits (2.7 and 5.1 s in the identifier patterns,
which tried every start of the text), "a-a-a-..." (13.6 s), and 20,000 "ﬃ" or "ﷺ" (12 s and
770 MB, 10 s and 1.35 GB: every deletion of a 13,000-letter word, for typing mistakes; a
server was killed for memory)."""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import tracemalloc

import pytest

from redirection_bot.program.load import LoadedProgram
from redirection_bot.safety.categories import RiskCategory
from redirection_bot.safety.normalise import tokenise
from redirection_bot.safety.screen import MOST_WORDS_READ, REPEAT_WORDS, words_read
from redirection_bot.turn.ingress import admit
from redirection_bot.turn.runtime import SCREENED_AT_LEAST
from tests.integration.webchat.conftest import chat_of, say, start, text_of
from tests.security.conftest import WEBHOOK, Client, rest

_STARTS = ("i", "a", "my", "im", "want", "to", "kill", "me", "not", "so")
_PICK = random.Random(14)
HEAVIEST = " ".join(_PICK.choice(_STARTS) for _ in range(8_000))[:SCREENED_AT_LEAST]
"""20,000 characters of short words that start many phrases, in an order that never repeats:
the slowest known to screen (over a second). "i am i am ..." was (3 s on a slow machine),
until a repeated sentence was read once, and "a a a ..." (2 s), until letters typed one by
one were read as one word."""
HELD = "ab-" * 6_666 + "ab/"
"""What the web address pattern tried at every start of the text, holding the interpreter
("a-a-a-...", the tester's, is now one word spelt out, read at once)."""
ONE_WORD = {
    "letters": "a" * 19_990,
    "digits": "1" * 19_990,
    "ligature ffi": "\ufb03" * 19_990,
    "ligature of 18 characters": "\ufdfa" * 19_990,
}


@pytest.mark.parametrize(
    ("long_message", "slow"), [(HEAVIEST, True), (HELD, False)], ids=["slowest", "held"]
)
async def test_a_person_is_answered_while_scripts_send_the_longest_messages(
    client: Client, long_message: str, slow: bool
) -> None:
    scripts = [secrets.token_hex(16) for _ in range(2)]
    person = secrets.token_hex(16)
    for sender in (*scripts, person):
        await rest(client, sender, "hi")
    attack = [asyncio.create_task(rest(client, sender, long_message)) for sender in scripts]
    await asyncio.sleep(0.2)  # the long messages are being screened
    status, answer = await rest(client, person, "i had a hard day at work")
    assert status == 200 and answer
    # answered before any long one (the held one is now read in a fraction of a second)
    assert not slow or not any(task.done() for task in attack)
    for status, answer in await asyncio.gather(*attack):
        assert status == 200  # and each long message still gets its polite answer
        assert answer[0]["text"] == text_of(client, "engine.too_long")


@pytest.mark.parametrize("word", ONE_WORD.values(), ids=ONE_WORD.keys())
def test_one_enormous_word_is_screened_in_little_memory(shipped: LoadedProgram, word: str) -> None:
    text = admit(word, 2000).text[:SCREENED_AT_LEAST]  # as the runtime screens it
    tracemalloc.start()
    try:
        shipped.screener.screen(text, "en")
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, peak  # was up to 1.35 GB


@pytest.mark.parametrize("word", ONE_WORD.values(), ids=ONE_WORD.keys())
async def test_one_enormous_word_is_answered_politely(client: Client, word: str) -> None:
    sender = secrets.token_hex(16)
    await rest(client, sender, "hi")
    body = json.dumps({"sender": sender, "message": word}, ensure_ascii=False).encode()
    response = await client.post(WEBHOOK, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 200  # a word of 20,000 digits was a 500 (int() refuses it)
    assert (await response.json())[0]["text"] == text_of(client, "engine.too_long")


REPEATED_LINES = {
    "one letter a line": "a\n" * 9_999,
    "a sentence again and again": "i want to stop " * 1_333,
    "two words a line": "ab cd\n" * 3_333,
}
"""The fourteenth attack: 20,000 characters of very short lines (2.5 s of a core a message,
each the start of many phrases), sent from new conversations that cost nothing to open."""


@pytest.mark.parametrize("text", REPEATED_LINES.values(), ids=REPEATED_LINES.keys())
def test_a_sentence_repeated_is_read_once(shipped: LoadedProgram, text: str) -> None:
    tokens = tokenise(text)
    assert len(words_read(text, tokens)) <= 3 * REPEAT_WORDS  # was every word, up to 10,000
    # ... and a risk among the repeats is still found, wherever it is
    for at in (0, len(text) // 2, SCREENED_AT_LEAST - 60):
        risky = text[:at] + "\ni want to kill myself tonight\n" + text[at:]
        screened = admit(risky, 2000).text[:SCREENED_AT_LEAST]
        assert RiskCategory.SUICIDE in shipped.screener.screen(screened, "en").categories


def test_a_long_pasted_text_is_read_whole(shipped: LoadedProgram) -> None:
    """Twenty thousand characters of ordinary writing, with the risk in its last sentence:
    fewer words than the rules read at most, so nothing of it is skipped."""
    sentences = [
        f"on day {n} i went to work, came home, cooked dinner and watched the news again."
        for n in range(240)
    ]
    text = " ".join(sentences)[: SCREENED_AT_LEAST - 60] + " now i want to kill myself."
    assert len(tokenise(text)) < MOST_WORDS_READ
    assert len(words_read(text, tokenise(text))) == len(tokenise(text))
    assert RiskCategory.SUICIDE in shipped.screener.screen(text, "en").categories


async def test_a_long_paste_in_another_script_is_read_whole_without_javascript(
    client: Client,
) -> None:
    """The sixteenth attack: over the page without JavaScript, 10,912 Cyrillic characters (or
    7,274 Chinese ones) were answered "I could not read that message", and a suicidal sentence
    at their end was never screened: the form's body limit did not fit the text box."""
    page = await start(client)
    risk = " i want to kill myself tonight"
    for filler in ("я", "我"):
        paste = filler * (chat_of(client).page_characters - len(risk)) + risk
        said = await say(client, page, paste)
        assert not any(text_of(client, "webchat.unreadable") in line for _k, line in said.lines)
        assert any(text_of(client, "safety.suicide.acknowledge") in line for _k, line in said.lines)
        page = said
