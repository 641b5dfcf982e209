"""The sealed relay: what a person writes to an operator passes through the relay (Redis's
streams in production); an entry's length must not tell how much was written (the fifty-sixth
attack read 93 bytes plus the message's length from each entry)."""

from __future__ import annotations

from redirection_bot.operations.crypto import Keyring
from redirection_bot.store.relay import EncryptedRelay, MemoryRelay


async def test_entries_are_padded_to_a_size_bucket_and_read_back_whole() -> None:
    inner = MemoryRelay()
    relay = EncryptedRelay(inner, Keyring([bytes(range(32))]))
    messages = [b"x", b"x" * 10, b"x" * 100, b"x" * 400]
    for message in messages:
        await relay.publish("handoff:desk:helpline", message)
    (name,) = inner._topics
    sealed = {len(entry.data) for entry in inner._topics[name].messages}
    assert len(sealed) == 1  # one bucket, whatever was written
    read = []
    async for entry in relay.listen("handoff:desk:helpline"):
        read.append(entry.data)
        if len(read) == len(messages):
            break
    assert read == messages
