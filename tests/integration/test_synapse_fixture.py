"""The Synapse fixture gives a real homeserver that real Matrix clients can talk through."""

from __future__ import annotations

import pytest
from nio import AsyncClient, RoomMessageText, RoomSendResponse, SyncResponse

from tests.fixtures.synapse import SynapseServer

pytestmark = pytest.mark.matrix


async def client_for(server: SynapseServer, localpart: str) -> AsyncClient:
    user = server.register(localpart)
    client = AsyncClient(server.url, user.user_id, device_id=user.device_id)
    client.access_token = user.access_token
    client.user_id = user.user_id
    return client


async def test_two_clients_exchange_a_message(synapse: SynapseServer) -> None:
    alice = await client_for(synapse, "fixture_alice")
    bob = await client_for(synapse, "fixture_bob")
    try:
        created = await alice.room_create(invite=[bob.user_id], is_direct=True)
        room_id = created.room_id  # type: ignore[union-attr]
        await bob.sync(timeout=1000)
        await bob.join(room_id)
        sent = await alice.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": "hello"}
        )
        assert isinstance(sent, RoomSendResponse)
        seen: list[str] = []
        for _ in range(10):
            response = await bob.sync(timeout=1000)
            assert isinstance(response, SyncResponse)
            room = response.rooms.join.get(room_id)
            if room is not None:
                seen += [e.body for e in room.timeline.events if isinstance(e, RoomMessageText)]
            if "hello" in seen:
                break
        assert "hello" in seen
    finally:
        await alice.close()
        await bob.close()


def test_the_homeserver_restarts_on_the_same_port(synapse_own: SynapseServer) -> None:
    user = synapse_own.register("fixture_carol")
    port = synapse_own.port
    synapse_own.restart()
    assert synapse_own.port == port and synapse_own.running
    assert synapse_own.register("fixture_dave").user_id != user.user_id
