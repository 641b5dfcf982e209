"""The Redis client's new connections (store/redis.py: redis_client): made without looking
anything up in the installed packages, so that filling the pool under load does not pause
every conversation waiting."""

from __future__ import annotations

from importlib import metadata

import pytest

from redirection_bot.store.redis import redis_client


def test_new_connections_do_not_read_package_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    client = redis_client("redis://127.0.0.1:1/0", connections=50)
    looked_up: list[str] = []
    real_version = metadata.version

    def counted(name: str) -> str:
        looked_up.append(name)
        return real_version(name)

    monkeypatch.setattr(metadata, "version", counted)
    made = [client.connection_pool.make_connection() for _ in range(50)]
    assert len(made) == 50
    assert looked_up == []
    assert all(connection.driver_info is not None for connection in made)  # still told
