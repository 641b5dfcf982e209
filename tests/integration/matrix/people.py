"""People for the Matrix tests: real matrix-nio clients, encrypted or not, as Element would be.

A ``Person`` opens a direct chat with the bot, says things, and collects what the bot sends
(texts and files, decrypted where the room is encrypted), polling with a deadline.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    DownloadError,
    RoomCreateResponse,
    RoomEncryptedFile,
    RoomMemberEvent,
    RoomMessageFile,
    RoomMessageText,
    RoomSendResponse,
    SyncResponse,
)
from nio.crypto import decrypt_attachment

from tests.fixtures.synapse import SynapseServer

ENCRYPTION = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


TIMELINE = {"room": {"timeline": {"limit": 200}}}
"""Enough that a sync never leaves out a message the bot sent (Synapse's default is 10)."""


def unique(name: str) -> str:
    return f"{name}_{uuid.uuid4().hex[:8]}"


@dataclass
class Received:
    """One message from the bot."""

    event_id: str
    msgtype: str
    body: str
    formatted_body: str | None = None
    content: dict[str, Any] = field(default_factory=dict)
    file_text: str | None = None


class Person:
    """Someone seeking help, on their own Matrix account and device."""

    def __init__(self, server: SynapseServer, folder: Path, name: str = "person") -> None:
        self.server = server
        user = server.register(unique(name))
        self.user_id = user.user_id
        store = folder / unique("store")
        store.mkdir(parents=True)
        config = AsyncClientConfig(
            encryption_enabled=True, store_sync_tokens=False, pickle_key="person-pickle-key"
        )
        self.client = AsyncClient(
            server.url, user.user_id, device_id=user.device_id, store_path=str(store), config=config
        )
        self.client.restore_login(user.user_id, user.device_id, user.access_token)
        self.room_id = ""
        self.bot_id = ""
        self.received: list[Received] = []
        self.bot_membership: str | None = None

    async def close(self) -> None:
        await self.client.close()

    # --- talking --------------------------------------------------------------------------------

    async def open_chat(
        self,
        bot_id: str,
        encrypted: bool = False,
        direct: bool = True,
        others: tuple[str, ...] = (),
        invite_bot: bool = True,
    ) -> str:
        """Create a room and invite the bot (and ``others``), as "start a direct chat" does."""
        await self.pump()
        self.bot_id = bot_id
        created = await self.client.room_create(
            invite=[bot_id, *others] if invite_bot else list(others),
            is_direct=direct,
            initial_state=[ENCRYPTION] if encrypted else [],
        )
        assert isinstance(created, RoomCreateResponse), created
        self.room_id = created.room_id
        await self.pump()
        return self.room_id

    async def say(self, text: str) -> str:
        return await self.send({"msgtype": "m.text", "body": text})

    async def send(self, content: dict[str, Any], event_type: str = "m.room.message") -> str:
        sent = await self.client.room_send(
            self.room_id, event_type, content, ignore_unverified_devices=True
        )
        assert isinstance(sent, RoomSendResponse), sent
        return str(sent.event_id)

    async def invite(self, user_id: str) -> None:
        await self.client.room_invite(self.room_id, user_id)

    # --- listening ------------------------------------------------------------------------------

    async def pump(self, timeout_ms: int = 200) -> None:
        """One sync, and the key traffic an encrypting client does between syncs."""
        response = await self.client.sync(timeout=timeout_ms, sync_filter=TIMELINE)
        client = self.client
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()
        if not isinstance(response, SyncResponse):
            return
        room = response.rooms.join.get(self.room_id) or response.rooms.leave.get(self.room_id)
        if room is None:
            return
        for event in room.timeline.events:
            await self._take(event)

    async def _take(self, event: Any) -> None:
        if isinstance(event, RoomMemberEvent) and event.state_key == self.bot_id:
            self.bot_membership = event.membership
            return
        if getattr(event, "sender", None) != self.bot_id:
            return
        content = event.source.get("content", {})
        if isinstance(event, RoomMessageText):
            self.received.append(
                Received(
                    event.event_id,
                    content.get("msgtype", ""),
                    event.body,
                    event.formatted_body,
                    content,
                )
            )
        elif isinstance(event, RoomMessageFile | RoomEncryptedFile):
            self.received.append(
                Received(
                    event.event_id, "m.file", event.body, None, content, await self._file(event)
                )
            )

    async def _file(self, event: RoomMessageFile | RoomEncryptedFile) -> str:
        answer = await self.client.download(event.url)
        assert not isinstance(answer, DownloadError), answer
        data: bytes = answer.body
        if isinstance(event, RoomEncryptedFile):
            data = decrypt_attachment(data, event.key["k"], event.hashes["sha256"], event.iv)
        return data.decode("utf-8")

    async def replies(self, count: int, timeout: float = 60.0) -> list[Received]:
        """Wait until the bot has sent ``count`` messages in all; return them all."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                shown = [r.body[:60] for r in self.received]
                raise TimeoutError(f"expected {count} bot messages, got {len(shown)}: {shown}")
            await self.pump(500)
        return list(self.received)

    async def answer_to(self, text: str, timeout: float = 60.0) -> Received:
        """Say something and wait for the bot's next message."""
        before = len(self.received)
        await self.say(text)
        return (await self.replies(before + 1, timeout))[before]

    async def answer_to_content(self, content: dict[str, Any], timeout: float = 60.0) -> Received:
        before = len(self.received)
        await self.send(content)
        return (await self.replies(before + 1, timeout))[before]

    async def wait_for_bot_to_leave(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.bot_membership != "leave":
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot did not leave (membership {self.bot_membership})")
            await self.pump(500)
