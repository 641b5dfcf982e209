"""A REST client can resend safely, and read an operator's words without sending anything
(issue 18).

The faults: of 24 turns in flight when an instance died, 17 had been applied, and a resend
applied them twice; a REST client received an operator's words only by sending something,
and whatever it sent went to the operator.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from redirection_bot.authoring.testing import RasaActionRunner
from redirection_bot.engine import SessionState
from redirection_bot.handoff.desk import Operator, Outcome
from redirection_bot.handoff.wire import PersonWrote, TicketOpened
from redirection_bot.operations.config import StoreSettings
from redirection_bot.operations.crypto import new_key_text
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store.factory import open_store
from redirection_bot.turn.runtime import Runtime
from redirection_bot_connectors.webchat import WebChatOptions, create_app
from tests.fixtures.redis import RedisServer
from tests.helpers import sender_id
from tests.integration.handoff.conftest import handoff_settings, running

URL = "/webhooks/rest/webhook"
ANNA = Operator("@anna:helpline.example", "Anna")
Client = TestClient[Any, Any]


@pytest.fixture
async def two_instances(
    shipped: LoadedProgram, redis_server: RedisServer
) -> AsyncIterator[tuple[Client, Client, Runtime]]:
    """Two web chats (two runtimes) over one Redis, as two instances behind a balancer."""
    settings = StoreSettings(
        "redis",
        url=redis_server.url,
        prefix=f"resend-{uuid.uuid4().hex[:8]}:",
        keys=(new_key_text(),),
    )
    runtimes = [Runtime(shipped, open_store(settings), RasaActionRunner(shipped)) for _ in "ab"]
    clients: list[Client] = [
        TestClient(TestServer(create_app(runtime, WebChatOptions()))) for runtime in runtimes
    ]
    for client in clients:
        await client.start_server()
    yield clients[0], clients[1], runtimes[0]
    for client in clients:
        await client.close()
    for runtime in runtimes:
        await runtime.close()


async def state_of(runtime: Runtime, sender: str) -> SessionState:
    """The REST sender's conversation as stored."""
    state = await runtime.state(f"rest:{sender}")
    assert state is not None
    return state


async def opened(client: Client, name: str) -> str:
    """A new conversation's sender, its first message sent."""
    sender = f"{name}-{uuid.uuid4().hex}"
    assert (await client.post(URL, json={"sender": sender, "message": "hello"})).ok
    return sender


async def turn_of(runtime: Runtime, sender: str) -> int:
    return (await state_of(runtime, sender)).turn


@pytest.mark.redis
async def test_a_resend_with_the_same_key_gets_the_first_answer_and_applies_nothing_twice(
    two_instances: tuple[Client, Client, Runtime],
) -> None:
    first, second, runtime = two_instances
    sender = await opened(first, "resend")
    before = await turn_of(runtime, sender)
    press = {"sender": sender, "message": "/choice:go_on"}
    answer = await first.post(URL, json=press, headers={"Idempotency-Key": "press-1"})
    assert answer.status == 200
    original = await answer.json()
    # The client never saw that answer; it resends, and the balancer picks the other instance.
    again = await second.post(URL, json=press, headers={"Idempotency-Key": "press-1"})
    assert await again.json() == original
    assert await turn_of(runtime, sender) == before + 1
    # The key may come in the body too (widgets that cannot set headers).
    body = {**press, "message": "/repeat", "message_id": "press-2"}
    repeated = await (await second.post(URL, json=body)).json()
    assert await (await first.post(URL, json=body)).json() == repeated
    assert await turn_of(runtime, sender) == before + 2
    # A new key is a new message.
    await first.post(URL, json=press, headers={"Idempotency-Key": "press-3"})
    assert await turn_of(runtime, sender) == before + 3


@pytest.mark.redis
async def test_a_used_key_with_another_message_is_that_message_screened_never_an_old_answer(
    two_instances: tuple[Client, Client, Runtime],
) -> None:
    """The forty-second outside attack: a widget whose counter began again after a reload sent
    "i want to end my life" with a key already used, and got the old answer back; the message
    was dropped unread."""
    first, second, runtime = two_instances
    sender = await opened(first, "reused")
    before = await turn_of(runtime, sender)
    headers = {"Idempotency-Key": "1"}
    pressed = await first.post(
        URL, json={"sender": sender, "message": "/choice:go_on"}, headers=headers
    )
    old = await pressed.json()
    crisis = {"sender": sender, "message": "i want to end my life"}
    answer = await (await second.post(URL, json=crisis, headers=headers)).json()
    assert answer != old
    assert await turn_of(runtime, sender) == before + 2
    assert "suicide" in (await state_of(runtime, sender)).risks
    # Its own resend is still answered once.
    again = await (await first.post(URL, json=crisis, headers=headers)).json()
    assert again == answer and await turn_of(runtime, sender) == before + 2


@pytest.mark.redis
async def test_concurrent_resends_apply_once(two_instances: tuple[Client, Client, Runtime]) -> None:
    first, second, runtime = two_instances
    sender = await opened(first, "resend")
    before = await turn_of(runtime, sender)
    body = {"sender": sender, "message": "/repeat"}
    headers = {"Idempotency-Key": "same"}
    answers = await asyncio.gather(
        *(c.post(URL, json=body, headers=headers) for c in (first, second) * 5)
    )
    statuses = sorted(a.status for a in answers)
    assert set(statuses) <= {200, 409}  # 409: the first is still being handled, retry
    assert 200 in statuses
    assert await turn_of(runtime, sender) == before + 1


async def test_a_bad_key_is_refused_clearly(two_instances: tuple[Client, Client, Runtime]) -> None:
    first, _, _ = two_instances
    answer = await first.post(
        URL,
        json={"sender": sender_id("someone"), "message": "hi"},
        headers={"Idempotency-Key": "a b"},
    )
    assert answer.status == 400
    assert "Idempotency-Key" in (await answer.json())["error"]
    # Without a sender each resend would open another conversation under another issued one.
    issued = await first.post(URL, json={"message": "hi"}, headers={"Idempotency-Key": "k-1"})
    assert issued.status == 400
    assert "sender" in (await issued.json())["error"]


async def test_a_rest_client_reads_the_operators_words_without_sending_anything(
    shipped: LoadedProgram,
) -> None:
    async with running(shipped, handoff_settings("test", {})) as setup:
        line = await setup.operators()
        client = setup.client
        sender = sender_id("widget-2")

        async def post(message: str) -> list[dict[str, Any]]:
            response = await client.post(URL, json={"sender": sender, "message": message})
            assert response.status == 200
            answer: list[dict[str, Any]] = await response.json()
            return answer

        await line.service.duty(ANNA.ref, True)
        for message in ("hello", "/choice:go_on", "/help", "/choice:person"):
            await post(message)
        (opened,) = await line.told(TicketOpened)
        assert isinstance(opened, TicketOpened)
        assert await line.service.claim(opened.ticket, ANNA) is Outcome.APPLIED
        assert await line.service.write(opened.ticket, ANNA, "Hello, I'm Anna.", "m1") is (
            Outcome.APPLIED
        )

        async def waiting() -> list[str]:
            response = await client.post("/webhooks/rest/pending", json={"sender": sender})
            assert response.status == 200
            return [m["text"] for m in await response.json() if "text" in m]

        got: list[str] = []
        for _ in range(100):  # the words reach this instance's feed asynchronously
            got += await waiting()
            if "Hello, I'm Anna." in got:
                break
            await asyncio.sleep(0.05)
        assert "Hello, I'm Anna." in got
        assert await waiting() == []  # given once
        assert not [e for e in line.seen if isinstance(e, PersonWrote)]  # nothing went to Anna
        unknown = await client.post("/webhooks/rest/pending", json={"sender": sender_id("nobody")})
        assert await unknown.json() == []
        # The sender is the conversation's credential here too: guessable or missing, refused.
        for refused in ({"sender": "widget-2"}, {"sender": "abc"}, {}):
            answer = await client.post("/webhooks/rest/pending", json=refused)
            assert answer.status == 400
            assert "128 random bits" in (await answer.json())["error"]
        deep = b'{"sender": "' + sender.encode() + b'", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}"
        answer = await client.post(
            "/webhooks/rest/pending", data=deep, headers={"Content-Type": "application/json"}
        )
        assert answer.status == 400
        await line.stop()


@pytest.mark.redis
async def test_after_erasing_no_resend_reads_back_what_the_person_wrote(
    two_instances: tuple[Client, Client, Runtime],
) -> None:
    # Found by an outside tester: a resend of an earlier key, after "/erase", returned the
    # answer that echoed the person's words, for as long as the answers were kept.
    first, second, _ = two_instances
    sender = f"erased-{uuid.uuid4().hex}"
    words = "I want to be someone my family can trust"
    path = ["hello", "/choice:go_on", "/choice:go_on", "/choice:stop", "/choice:no_thanks", words]
    steps = [(message, f"k{number}") for number, message in enumerate(path)]
    for message, key in steps:
        body = {"sender": sender, "message": message}
        answer = await first.post(URL, json=body, headers={"Idempotency-Key": key})
        assert answer.ok
    assert words in await answer.text()  # "Thank you. You wrote: ..." is kept for a resend
    answer = await second.post(
        URL, json={"sender": sender, "message": "/stop"}, headers={"Idempotency-Key": "kstop"}
    )
    assert {"type": "end", "erase": True} in [item.get("custom") for item in await answer.json()]
    for client in (first, second):
        for _message, key in [*steps, ("/stop", "kstop")]:
            resent = await client.post(
                URL,
                json={"sender": sender, "message": "/repeat"},
                headers={"Idempotency-Key": key},
            )
            assert words not in await resent.text()
            await client.post(URL, json={"sender": sender, "message": "/stop"})  # erase again


async def test_after_an_unkeyed_erase_no_resend_reads_back_either(
    two_instances: tuple[Client, Client, Runtime],
) -> None:
    first, _, _ = two_instances
    sender = f"erased-{uuid.uuid4().hex}"
    for message, key in (("hello", "k1"), ("/choice:go_on", "k2")):
        body = {"sender": sender, "message": message}
        await first.post(URL, json=body, headers={"Idempotency-Key": key})
    await first.post(URL, json={"sender": sender, "message": "/stop"})
    resent = await first.post(
        URL, json={"sender": sender, "message": "/repeat"}, headers={"Idempotency-Key": "k2"}
    )
    assert "Anonymity has limits" not in await resent.text()  # k2's answer: gone


@pytest.mark.redis
async def test_a_key_whose_instance_died_is_handled_afresh_within_seconds(
    two_instances: tuple[Client, Client, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found by an outside tester: after an instance died mid-message (or the store was away
    # when it gave up), every resend got 409 for about 60 seconds.
    from redirection_bot_connectors.webchat import replays

    monkeypatch.setattr(replays, "PENDING_SECONDS", 1.0)
    first, second, runtime = two_instances
    sender = await opened(first, "died")
    before = await turn_of(runtime, sender)
    # What a dead instance leaves: the key marked "being handled", never renewed.
    left = replays.Replays(runtime.store, 3600)
    press = {"sender": sender, "message": "/repeat"}
    bound = replays.bound_key("k-died", press["message"])  # the key as stored: with its message
    assert isinstance(await left.claim(f"rest:{sender}", bound), replays.Claimed)
    busy = await second.post(URL, json=press, headers={"Idempotency-Key": "k-died"})
    assert busy.status == 409 and busy.headers["Retry-After"] == "1"
    await asyncio.sleep(1.5)  # the mark's time, in this test: 10 s in a deployment
    again = await second.post(URL, json=press, headers={"Idempotency-Key": "k-died"})
    assert again.status == 200
    assert await turn_of(runtime, sender) == before + 1


@pytest.mark.redis
async def test_a_slow_message_keeps_its_mark_past_the_marks_time(
    two_instances: tuple[Client, Client, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    from redirection_bot_connectors.webchat import replays

    monkeypatch.setattr(replays, "PENDING_SECONDS", 0.6)
    monkeypatch.setattr(replays, "RENEW_SECONDS", 0.2)
    _, _, runtime = two_instances
    kept = replays.Replays(runtime.store, 3600)
    claimed = await kept.claim("rest:slow", "k1")
    assert isinstance(claimed, replays.Claimed)
    async with kept.holding(claimed):
        await asyncio.sleep(1.5)  # longer than the mark lasts unrenewed
        assert await kept.claim("rest:slow", "k1") == replays.Replayed(None)
    await kept.keep(claimed, [{"text": "done"}])
    assert await kept.claim("rest:slow", "k1") == replays.Replayed([{"text": "done"}])


ECHOED = "I want to be someone my family can trust"
TO_ECHO = ["hello", "/choice:go_on", "/choice:go_on", "/choice:stop", "/choice:no_thanks"]


async def walk_and_type(client: Client, sender: str) -> None:
    """To the question that echoes a typed answer, every message with a key; then the answer."""
    for number, message in enumerate([*TO_ECHO, ECHOED]):
        body = {"sender": sender, "message": message}
        answer = await client.post(URL, json=body, headers={"Idempotency-Key": f"k{number}"})
        assert answer.ok
    assert ECHOED in await answer.text()


async def read_back(client: Client, sender: str) -> str:
    """What resending every key of ``walk_and_type`` gives, together."""
    said = ""
    for number in range(len(TO_ECHO) + 1):
        body = {"sender": sender, "message": "/repeat"}
        answer = await client.post(URL, json=body, headers={"Idempotency-Key": f"k{number}"})
        said += await answer.text()
    return said


@pytest.mark.redis
async def test_an_erase_at_another_instance_during_a_message_leaves_nothing_to_read_back(
    two_instances: tuple[Client, Client, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found by an outside tester: a typed answer at one instance and "/erase" at the other, a
    # few milliseconds apart, left the answer readable by a resend for 24 hours.
    from redirection_bot_connectors.webchat import replays

    first, second, _ = two_instances
    sender = f"race-{uuid.uuid4().hex}"
    for number, message in enumerate(TO_ECHO):  # to the question that echoes what is typed
        await first.post(
            URL,
            json={"sender": sender, "message": message},
            headers={"Idempotency-Key": f"{number}"},
        )
    keep = replays.Replays.keep

    async def erased_first(
        self: replays.Replays, claimed: Any, answer: Any, ttl_seconds: float | None = None
    ) -> None:
        # The other instance's erase lands between this message's turn and its answer's keep.
        await second.post(URL, json={"sender": sender, "message": "/erase"})
        await keep(self, claimed, answer, ttl_seconds)

    monkeypatch.setattr(replays.Replays, "keep", erased_first)
    body = {"sender": sender, "message": ECHOED}
    typed = await first.post(URL, json=body, headers={"Idempotency-Key": "k-last"})
    assert ECHOED in await typed.text()  # answered, then kept for resends
    monkeypatch.setattr(replays.Replays, "keep", keep)
    resent = await second.post(URL, json=body, headers={"Idempotency-Key": "k-last"})
    assert "You wrote" not in await resent.text()


@pytest.mark.redis
async def test_starting_again_leaves_nothing_to_read_back(
    two_instances: tuple[Client, Client, Runtime],
) -> None:
    # Found by an outside tester: after "/restart" the plan was empty, but resends of earlier
    # keys still echoed what the person had written.
    first, second, _ = two_instances
    for restart in ("/restart", "/session_start"):
        sender = f"again-{uuid.uuid4().hex}"
        await walk_and_type(first, sender)
        await second.post(URL, json={"sender": sender, "message": restart})
        assert ECHOED not in await read_back(first, sender)


@pytest.mark.redis
async def test_a_message_applied_before_its_instance_died_is_not_applied_again(
    two_instances: tuple[Client, Client, Runtime],
) -> None:
    # Found by an outside tester: kill -9 after the save and before the answer was kept, and
    # the resend (once the mark lapsed) applied "/choice:7" twice: the plan then held an
    # answer to a question never asked.
    from redirection_bot.engine import ChoicePicked

    first, second, runtime = two_instances
    sender = await opened(first, "died")
    # What the dead instance did: the turn applied and saved with its key; no answer kept.
    from redirection_bot_connectors.webchat import replays

    bound = replays.bound_key("k-died", "/choice:go_on")  # the key as saved: with its message
    await runtime.handle(f"rest:{sender}", ChoicePicked("go_on"), known=True, key=bound)
    where = (await state_of(runtime, sender)).at
    resent = await second.post(
        URL,
        json={"sender": sender, "message": "/choice:go_on"},
        headers={"Idempotency-Key": "k-died"},
    )
    assert resent.status == 200
    assert (await state_of(runtime, sender)).at == where
    assert "Anonymity has limits" in await resent.text()  # where the person is, shown again
    # A new key is a new message, and moves on.
    pressed = await second.post(
        URL,
        json={"sender": sender, "message": "/choice:go_on"},
        headers={"Idempotency-Key": "k-next"},
    )
    assert pressed.status == 200
    assert (await state_of(runtime, sender)).at != where
