"""The `store:` section: the configured store opens sealed, or refuses clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from redirection_bot.errors import ConfigError
from redirection_bot.operations.config import read_settings
from redirection_bot.operations.crypto import new_key_text
from redirection_bot.store.encrypted import EncryptedStore
from redirection_bot.store.factory import open_counts, open_store
from redirection_bot.store.memory import MemoryStore


def settings_from(tmp_path: Path, text: str, **environ: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "bot.yaml"
    path.write_text(text, encoding="utf-8")
    return read_settings(path, environ)


def test_the_default_is_the_memory_store(tmp_path: Path) -> None:
    assert isinstance(open_store(settings_from(tmp_path, "{}\n").store), MemoryStore)


async def test_sqlite_opens_sealed_with_keys_from_the_environment(tmp_path: Path) -> None:
    settings = settings_from(
        tmp_path,
        f"store:\n  backend: sqlite\n  path: {tmp_path / 's.sqlite3'}\n  resume_ttl_days: 7\n",
        REDIRECTION_BOT_STORE__KEYS=json.dumps([new_key_text(), new_key_text()]),
    )
    assert settings.store.resume_ttl_days == 7
    store = open_store(settings.store)
    assert isinstance(store, EncryptedStore) and len(store.keyring) == 2
    await store.save("a", b"x", None, 60)
    await store.close()
    counts = open_counts(settings.store)
    assert await counts.rows() == []
    await counts.close()


def test_a_store_on_disk_without_a_key_is_refused_with_the_way_out(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "store:\n  backend: sqlite\n")
    with pytest.raises(ConfigError, match="redirection-bot store-key"):
        open_store(settings.store)


def test_a_broken_key_is_reported_where_it_was_written(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(tmp_path, "store:\n  backend: redis\n  keys: [too-short]\n")
    assert "bot.yaml:3:9: error: `keys` has a key that is not valid" in str(caught.value)


def test_the_admin_listener_is_on_localhost_unless_told(tmp_path: Path) -> None:
    admin = settings_from(tmp_path, "{}\n").admin
    assert (admin.enabled, admin.host, admin.port) == (True, "127.0.0.1", 9464)
