"""Encryption at rest: sealed data under hashed names; old keys still read; wrong keys never do."""

from __future__ import annotations

import pytest

from redirection_bot.errors import ConfigError
from redirection_bot.operations.crypto import DecryptionError, Keyring, new_key_text, parse_key
from redirection_bot.store import encrypted as encrypted_module
from redirection_bot.store.encrypted import encrypted
from redirection_bot.store.memory import MemoryStore

DAY = 86400.0


def ring(*keys: bytes) -> Keyring:
    return Keyring(list(keys))


OLD, NEW = bytes(range(32)), bytes(range(1, 33))


async def test_the_inner_store_holds_neither_the_session_id_nor_the_text() -> None:
    inner = MemoryStore()
    store = encrypted(inner, ring(NEW))
    await store.save("@person:example.org", b"I want to stop for my family", None, DAY)
    names = list(inner._sessions)
    assert names and all("person" not in name for name in names)
    raw = inner._sessions[names[0]][0].data
    assert b"family" not in raw and b"stop" not in raw
    found = await store.get("@person:example.org")
    assert found is not None and found.data == b"I want to stop for my family"


async def test_after_rotation_old_sessions_are_read_and_moved_to_the_new_key() -> None:
    inner = MemoryStore()
    await encrypted(inner, ring(OLD)).save("s", b"before rotation", None, DAY)
    rotated = encrypted(inner, ring(NEW, OLD))
    found = await rotated.get("s")
    assert found is not None and found.data == b"before rotation"
    await rotated.save("s", b"after rotation", found.version, DAY)
    # Now only the new key is needed: the old one can be dropped.
    again = await encrypted(inner, ring(NEW)).get("s")
    assert again is not None and again.data == b"after rotation"
    assert len(inner) == 1


async def test_a_session_sealed_under_a_dropped_key_is_gone_not_an_error() -> None:
    inner = MemoryStore()
    await encrypted(inner, ring(OLD)).save("s", b"old", None, DAY)
    store = encrypted(inner, ring(NEW))
    assert await store.get("s") is None
    version = await store.save("s", b"fresh", None, DAY)
    found = await store.get("s")
    assert found is not None and (found.data, found.version) == (b"fresh", version)


async def test_a_blob_cannot_be_moved_to_another_session() -> None:
    inner = MemoryStore()
    store = encrypted(inner, ring(NEW))
    keyring = ring(NEW)
    await store.save("a", b"mine", None, DAY)
    blob = await inner.get(keyring.lookup_key("a"))
    assert blob is not None
    with pytest.raises(DecryptionError):
        keyring.open(blob.data, keyring.lookup_key("b").encode())


async def test_names_kept_are_the_hashed_names_each_session_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(encrypted_module, "NAMES_KEPT", 3)
    inner = MemoryStore()
    store = encrypted(inner, ring(NEW))
    sessions = [f"web:{n}" for n in range(10)]
    latest: dict[str, int] = {}
    for _ in range(2):
        for session in sessions:
            found = await store.get(session)
            version = None if found is None else found.version
            latest[session] = await store.save(session, f"said in {session}".encode(), version, DAY)
            assert len(store._names) <= 3
    fresh = encrypted(inner, ring(NEW))  # nothing kept: hashes every name again
    for session in sessions:
        found, again = await store.get(session), await fresh.get(session)
        assert found == again and found is not None
        assert found.data == f"said in {session}".encode() and found.version == latest[session]
    assert set(inner._sessions) == {ring(NEW).lookup_key(s) for s in sessions}


async def test_a_deleted_session_s_name_is_not_kept() -> None:
    store = encrypted(MemoryStore(), ring(NEW))
    await store.save("web:gone", b"erase me", None, DAY)
    await store.delete("web:gone")
    assert "web:gone" not in store._names
    assert await store.get("web:gone") is None


def test_every_seal_differs_and_only_the_ring_opens_it() -> None:
    keyring = ring(NEW)
    one, two = keyring.seal(b"same"), keyring.seal(b"same")
    assert one != two and keyring.open(one) == keyring.open(two) == b"same"
    with pytest.raises(DecryptionError):
        ring(OLD).open(one)
    with pytest.raises(DecryptionError):
        keyring.open(one[:-1] + bytes([one[-1] ^ 1]))


def test_keys_are_checked_where_the_operator_wrote_them() -> None:
    assert len(parse_key(new_key_text(), "store.keys[0]")) == 32
    with pytest.raises(ConfigError, match=r"store.keys\[1\]: an encryption key must be 32 bytes"):
        parse_key("c2hvcnQ=", "store.keys[1]")
    with pytest.raises(ConfigError, match="base64"):
        parse_key("not base64 at all!", "REDIRECTION_BOT_STORE_KEYS")


def test_store_key_prints_a_key_the_store_accepts(capsys: pytest.CaptureFixture[str]) -> None:
    from redirection_bot.cli import main

    assert main(["store-key"]) == 0
    printed = capsys.readouterr().out.strip()
    assert len(parse_key(printed, "store.keys[0]")) == 32
    assert main(["store-key"]) == 0
    assert capsys.readouterr().out.strip() != printed
