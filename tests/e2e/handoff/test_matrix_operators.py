"""A person in the web chat asks for a person; a helpline operator in a real Matrix room (real
Synapse, real matrix-nio clients) claims, they talk both ways, the operator closes and the
program resumes. Also: someone not on the allow-list cannot act; nobody claims and the
fallback comes on time; the homeserver is away and the person still gets the fallback, with
the ticket in the room once it is back."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from nio import RoomCreateResponse, RoomGetStateEventResponse

from redirection_bot.program.load import LoadedProgram
from redirection_bot_connectors.operators.matrix import MatrixOperatorChannel
from redirection_bot_connectors.operators.matrix.options import MatrixOperatorOptions
from tests.e2e.handoff.operators import Staff
from tests.fixtures.synapse import MatrixUser, SynapseServer
from tests.integration.handoff.conftest import (
    Setup,
    channel_context,
    handoff_settings,
    running,
)
from tests.integration.matrix.people import unique

pytestmark = [pytest.mark.matrix, pytest.mark.slow]

Desk = Callable[..., Awaitable[tuple[Setup, Staff, Staff, Path]]]


def text(setup: Setup, key: str, **params: str) -> str:
    return setup.runtime.loaded.catalog.render(key, "en", params)


def operator_options(
    server: SynapseServer, bot: MatrixUser, room: str, anna: Staff, **extra: Any
) -> dict[str, Any]:
    return {
        "homeserver": server.url,
        "user_id": bot.user_id,
        "access_token": bot.access_token,
        "room": room,
        "operators": (f"{anna.user_id} = Anna",),
        "encryption": False,
        "sync_timeout_seconds": 1,
        "max_backoff_seconds": 0.5,
        **extra,
    }


@contextlib.asynccontextmanager
async def start_desk(
    loaded: LoadedProgram,
    server: SynapseServer,
    staff: Callable[[SynapseServer, str], Staff],
    channel_options: dict[str, Any] | None = None,
    **settings: Any,
) -> AsyncIterator[tuple[Setup, Staff, Staff]]:
    """An operator room made by Anna (on the allow-list) with Mallory in it (not on it), the
    bot invited; the runtime, the web chat and the Matrix operator channel running (with
    ``channel_options`` added to its options; ``settings``: the handoff section's)."""
    async with start_desk_with_ben(loaded, server, staff, channel_options, **settings) as (
        setup,
        anna,
        mallory,
        _,
    ):
        yield setup, anna, mallory


@contextlib.asynccontextmanager
async def start_desk_with_ben(
    loaded: LoadedProgram,
    server: SynapseServer,
    staff: Callable[[SynapseServer, str], Staff],
    channel_options: dict[str, Any] | None = None,
    **settings: Any,
) -> AsyncIterator[tuple[Setup, Staff, Staff, Staff]]:
    """As ``start_desk``, with Ben in the room too, on the allow-list as Anna is."""
    anna, mallory, ben = staff(server, "anna"), staff(server, "mallory"), staff(server, "ben")
    bot_user = server.register(unique("deskbot"))
    room = await anna.create_room([bot_user.user_id, mallory.user_id, ben.user_id])
    await mallory.join(room)
    await ben.join(room)
    written = operator_options(server, bot_user, room, anna, **(channel_options or {}))
    written["operators"] = (f"{anna.user_id} = Anna", f"{ben.user_id} = Ben")
    options = MatrixOperatorOptions(**written).checked()
    anna.bot_id = mallory.bot_id = ben.bot_id = bot_user.user_id
    async with running(loaded, handoff_settings("matrix", options, **settings)) as setup:
        channel = MatrixOperatorChannel(channel_context(setup, options))
        setup.start_channel(channel)
        await asyncio.wait_for(channel.synced.wait(), 60)
        yield setup, anna, mallory, ben
        setup.check_channels()


async def test_a_person_in_the_web_chat_and_an_operator_in_matrix(
    shipped: LoadedProgram, synapse: SynapseServer, staff: Callable[[SynapseServer, str], Staff]
) -> None:
    async with start_desk(shipped, synapse, staff) as (setup, anna, mallory):
        await anna.say("!on")
        await anna.wait_for("Anna: on duty")
        page, token = await setup.page()
        await page.ask_for_a_person()
        await page.text_frame(text(setup, "handoff.available_now"))
        ticket = await anna.wait_for("New request T-")
        assert "reason: asked" in ticket.body and "Language: en" in ticket.body
        assert token not in ticket.body

        # Mallory is in the room but not on the allow-list: nothing she does counts.
        await mallory.react(ticket.event_id)
        await mallory.say("!claim", thread=ticket.event_id)
        await mallory.say("Hello, I'm taking this one", thread=ticket.event_id)
        # Anna writes before claiming: she is told it was not sent.
        await anna.say("Hello, are you there?", thread=ticket.event_id)
        await anna.wait_for("Not sent: nobody has claimed this request yet.")
        await anna.react(ticket.event_id)
        claimed = await anna.wait_for("Claimed by Anna")
        assert claimed.thread == ticket.event_id
        await page.text_frame("Anna from our support team has joined")
        assert not any("taking this one" in said for said in page.said())
        assert not any("are you there" in said for said in page.said())
        refusals = [p.body for p in anna.posted if p.notice and "Not sent" in p.body]
        assert len(refusals) == 1 and "nobody has claimed" in refusals[0]  # Anna's, not Mallory's

        await page.until(lambda f: f.get("type") == "state")
        await page.send({"type": "choice", "id": "handoff:share"})
        shared = await anna.wait_for("The conversation so far:")
        assert shared.thread == ticket.event_id and "Program: " in shared.body

        await page.send({"type": "text", "text": "I'm not sure what to say"})
        person = await anna.wait_for("Person: I'm not sure what to say")
        assert person.thread == ticket.event_id

        await anna.say("That's all right. We can take it slowly.", thread=ticket.event_id)
        said = await page.until(lambda f: f.get("type") == "operator")
        assert said["text"] == "That's all right. We can take it slowly."
        assert said["who"] == text(setup, "handoff.from_operator", operator="Anna")
        await anna.say("!note seems calmer now", thread=ticket.event_id)
        await anna.wait_for("Note kept in this thread; not sent.")

        await anna.say("!close", thread=ticket.event_id)
        await page.text_frame(text(setup, "handoff.operator_left"))
        await page.text_frame(text(setup, "engine.handoff_ended"))
        await anna.wait_for("Closed. The program has taken over again.")
        await anna.say("!close", thread=ticket.event_id)
        await anna.wait_for("Already done: nothing changed.")

        # While Anna had the conversation the program said nothing of its own.
        joined_at = next(i for i, f in enumerate(page.seen) if "has joined" in f.get("text", ""))
        left_at = next(
            i
            for i, f in enumerate(page.seen)
            if f.get("text") == text(setup, "handoff.operator_left")
        )
        program_said = [
            f["text"]
            for f in page.seen[joined_at + 1 : left_at]
            if f.get("type") == "message"
            and f["text"]
            not in (text(setup, "handoff.ask_to_share"), text(setup, "handoff.shared"))
        ]
        assert program_said == []


async def test_a_helpline_reads_its_operator_room_in_spanish(
    shipped: LoadedProgram, synapse: SynapseServer, staff: Callable[[SynapseServer, str], Staff]
) -> None:
    async with start_desk(shipped, synapse, staff, {"language": "es"}) as (setup, anna, _mallory):
        await anna.say("!on")
        await anna.wait_for("Anna: de turno. De turno ahora: 1.")
        page, _token = await setup.page()  # the person writes in English
        await page.ask_for_a_person()
        ticket = await anna.wait_for("Nueva solicitud T-")
        assert "urgencia: normal · motivo: pidió hablar con una persona" in ticket.body
        assert "Idioma: en" in ticket.body and "Para tomarla: reacciona con ✋" in ticket.body
        assert not any("New request" in p.body or "on duty" in p.body for p in anna.posted)


async def test_nobody_claims_and_the_fallback_comes_on_time(
    shipped: LoadedProgram, synapse: SynapseServer, staff: Callable[[SynapseServer, str], Staff]
) -> None:
    async with start_desk(
        shipped, synapse, staff, claim_timeout_seconds=2.0, notice_interval_seconds=1.0
    ) as (setup, anna, _mallory):
        await anna.say("!on")
        await anna.wait_for("Anna: on duty")
        page, _token = await setup.page()
        await page.ask_for_a_person()
        await page.text_frame(text(setup, "handoff.available_now"))
        await page.text_frame(text(setup, "handoff.queue_position", position="1"))
        await page.text_frame(text(setup, "handoff.fallback"), timeout=10)
        await page.text_frame(text(setup, "handoff.safety_plan")[:20])
        ticket = await anna.wait_for("New request T-")
        fallback = await anna.wait_for("Nobody claimed it in time")
        assert fallback.thread == ticket.event_id


async def test_the_operator_room_is_away_and_the_person_still_gets_the_fallback(
    shipped: LoadedProgram,
    synapse_own: SynapseServer,
    staff: Callable[[SynapseServer, str], Staff],
) -> None:
    async with start_desk(shipped, synapse_own, staff, claim_timeout_seconds=2.0) as (
        setup,
        anna,
        _mallory,
    ):
        await anna.say("!on")
        await anna.wait_for("Anna: on duty")
        synapse_own.stop()
        page, _token = await setup.page()
        await page.ask_for_a_person()
        await page.text_frame(text(setup, "handoff.available_now"))
        await page.text_frame(text(setup, "handoff.fallback"), timeout=15)
        synapse_own.start()
        ticket = await anna.wait_for("New request T-", timeout=90)
        fallback = await anna.wait_for("Nobody claimed it in time", timeout=60)
        assert fallback.thread == ticket.event_id
        # Once it is back, the request can still be taken.
        await anna.react(ticket.event_id)
        await page.text_frame("Anna from our support team has joined", timeout=60)


async def test_a_transfer_to_a_colleague_risk_shown_and_a_return_to_a_chosen_module(
    shipped: LoadedProgram, synapse: SynapseServer, staff: Callable[[SynapseServer, str], Staff]
) -> None:
    async with start_desk_with_ben(shipped, synapse, staff) as (setup, anna, _mallory, ben):
        await anna.say("!on")
        await anna.wait_for("Anna: on duty")
        page, _token = await setup.page()
        await page.ask_for_a_person()
        ticket = await anna.wait_for("New request T-")
        await anna.say("!claim", thread=ticket.event_id)
        await page.text_frame("Anna from our support team has joined")
        await anna.say(f"!transfer {ben.user_id}", thread=ticket.event_id)
        await page.text_frame(text(setup, "handoff.transferred", operator="Ben"))
        await ben.wait_for("Passed to Ben")

        # Anna no longer holds it: her words are not passed on; Ben's are.
        await anna.say("Are you still there?", thread=ticket.event_id)
        await ben.say("Hello, I'm Ben. I'm here now.", thread=ticket.event_id)
        said = await page.until(lambda f: f.get("type") == "operator")
        assert said["text"] == "Hello, I'm Ben. I'm here now."

        # Screening still runs while a person has the conversation, and annotates it.
        await page.send({"type": "text", "text": "some days I think about ending my life"})
        risk = await ben.wait_for("Risk raised during the handoff: suicide")
        assert risk.thread == ticket.event_id
        person = await ben.wait_for("Person: some days I think about ending my life")
        assert "[risk: suicide]" in person.body

        # What the person writes is shown as text, never as markup, in the operator room.
        await page.send({"type": "text", "text": "<b>is this ok?</b> & <a href=x>more</a>"})
        marked = await ben.wait_for("Person: <b>is this ok?</b> & <a href=x>more</a>")
        assert marked.formatted is not None and "<b>" not in marked.formatted
        assert (
            "&lt;b&gt;is this ok?&lt;/b&gt;" in marked.formatted and "<a " not in marked.formatted
        )

        await ben.say("!return coping", thread=ticket.event_id)
        await page.text_frame(text(setup, "handoff.operator_left"))
        # What the person wrote to the operator of ending their life is asked about first;
        # then the module the operator chose.
        await page.text_frame(text(setup, "safety.suicide.check"))
        await page.send({"type": "choice", "id": "no_thoughts"})
        await page.text_frame(text(setup, "coping.intro"))
        assert not any(f.get("text") == "Are you still there?" for f in page.seen)


async def test_the_desk_bot_joins_only_the_operator_room(
    shipped: LoadedProgram, synapse: SynapseServer, staff: Callable[[SynapseServer, str], Staff]
) -> None:
    async with start_desk(shipped, synapse, staff) as (_setup, _anna, mallory):
        elsewhere = await mallory.client.room_create(name="Somewhere else", invite=[mallory.bot_id])
        assert isinstance(elsewhere, RoomCreateResponse), elsewhere
        deadline = time.monotonic() + 30
        while True:
            member = await mallory.client.room_get_state_event(
                elsewhere.room_id, "m.room.member", mallory.bot_id
            )
            if isinstance(member, RoomGetStateEventResponse):
                if member.content.get("membership") == "leave":
                    break  # the invitation was refused: the bot reads nothing there
                assert member.content.get("membership") == "invite", member.content
            assert time.monotonic() < deadline, "the desk bot did not refuse the invitation"
            await asyncio.sleep(0.2)
