"""Helpline operators for the Matrix tests: real matrix-nio clients in a real operator room,
reacting and writing in threads as Element does."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    JoinResponse,
    RoomCreateResponse,
    RoomMessageNotice,
    RoomMessageText,
    RoomSendResponse,
    SyncResponse,
)

from tests.fixtures.synapse import SynapseServer
from tests.integration.matrix.people import unique

TIMELINE = {"room": {"timeline": {"limit": 200}}}


@dataclass
class Posted:
    """One message the bot posted in the operator room."""

    event_id: str
    body: str
    thread: str | None
    notice: bool
    formatted: str | None = None
    """The HTML Element shows, when the bot sent one."""


class Staff:
    """Someone in the operator room (on the allow-list or not), on their own account."""

    def __init__(self, server: SynapseServer, folder: Path, name: str) -> None:
        user = server.register(unique(name))
        self.user_id = user.user_id
        config = AsyncClientConfig(encryption_enabled=False, store_sync_tokens=False)
        store = folder / unique("store")
        store.mkdir(parents=True)
        self.client = AsyncClient(
            server.url, user.user_id, device_id=user.device_id, store_path=str(store), config=config
        )
        self.client.restore_login(user.user_id, user.device_id, user.access_token)
        self.room_id = ""
        self.bot_id = ""
        self.posted: list[Posted] = []

    async def close(self) -> None:
        await self.client.close()

    async def create_room(self, invite: list[str]) -> str:
        created = await self.client.room_create(name="Helpline desk", invite=invite)
        assert isinstance(created, RoomCreateResponse), created
        self.room_id = created.room_id
        await self.pump()
        return self.room_id

    async def join(self, room_id: str) -> None:
        joined = await self.client.join(room_id)
        assert isinstance(joined, JoinResponse), joined
        self.room_id = room_id
        await self.pump()

    async def say(self, text: str, thread: str | None = None) -> str:
        content: dict[str, Any] = {"msgtype": "m.text", "body": text}
        if thread is not None:
            content["m.relates_to"] = {
                "rel_type": "m.thread",
                "event_id": thread,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": thread},
            }
        return await self._send("m.room.message", content)

    async def react(self, target: str, key: str = "✋") -> str:
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": key}}
        return await self._send("m.reaction", content)

    async def _send(self, event_type: str, content: dict[str, Any]) -> str:
        sent = await self.client.room_send(self.room_id, event_type, content)
        assert isinstance(sent, RoomSendResponse), sent
        return str(sent.event_id)

    async def pump(self, timeout_ms: int = 200) -> None:
        response = await self.client.sync(timeout=timeout_ms, sync_filter=TIMELINE)
        if not isinstance(response, SyncResponse):
            return
        room = response.rooms.join.get(self.room_id)
        if room is None:
            return
        for event in room.timeline.events:
            if getattr(event, "sender", None) != self.bot_id:
                continue
            if isinstance(event, RoomMessageText | RoomMessageNotice):
                relation = event.source.get("content", {}).get("m.relates_to") or {}
                thread = (
                    relation.get("event_id") if relation.get("rel_type") == "m.thread" else None
                )
                notice = isinstance(event, RoomMessageNotice)
                formatted = event.source.get("content", {}).get("formatted_body")
                self.posted.append(Posted(event.event_id, event.body, thread, notice, formatted))

    async def wait_for(self, containing: str, timeout: float = 60.0) -> Posted:
        """The first message from the bot that contains ``containing``."""
        deadline = time.monotonic() + timeout
        while True:
            for posted in self.posted:
                if containing in posted.body:
                    return posted
            if time.monotonic() > deadline:
                shown = [p.body[:60] for p in self.posted]
                raise TimeoutError(f"no bot message with {containing!r}; got {shown}")
            await self.pump(500)
