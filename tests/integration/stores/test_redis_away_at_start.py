"""An instance started while Redis is away serves its pages and recovers when Redis comes
(issue 18): a real ``serve`` process, a real redis-server started after it on the port the
configuration names.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from redis import Redis

from redirection_bot.operations.crypto import Keyring, new_key_text, parse_key
from redirection_bot.store.redis import shares_key
from redirection_bot_connectors.webchat.sessions import form_token
from tests.fixtures.redis import RedisServer, redis_server_binary
from tests.helpers import REPOSITORY, free_port, require_ci
from tests.integration.stores.test_instances import BotInstance
from tests.integration.webchat.process import fetch

pytestmark = [pytest.mark.redis, pytest.mark.slow]

PREFIX = "away:"
TRY_AGAIN = "Something went wrong on our side. Please try again."
SAID = "I would like to carry on later"


@pytest.fixture
def redis_later(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server with its port chosen but not started: the test starts it."""
    binary = redis_server_binary()
    if binary is None:
        require_ci("redis-server is not installed (apt-get install redis-server)")
    assert binary is not None
    server = RedisServer(tmp_path / "redis", binary)
    try:
        yield server
    finally:
        server.stop()


def instance(tmp_path: Path, redis: RedisServer, key: str) -> BotInstance:
    config = tmp_path / "bot.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "connectors": {"webchat": {"host": "127.0.0.1", "port": free_port()}},
                "store": {"backend": "redis", "url": redis.url, "prefix": PREFIX},
                "admin": {"port": 0},
            }
        )
    )
    environment = {
        **os.environ,
        "REDIRECTION_BOT_DIALOGUES": str(REPOSITORY / "dialogues"),
        "REDIRECTION_BOT_LOCALES": str(REPOSITORY / "locales"),
        "REDIRECTION_BOT_STORE__KEYS": json.dumps([key]),
    }
    return BotInstance(tmp_path, config, environment)


def start_form(bot: BotInstance) -> tuple[int, str, str]:
    """Press "start" on the landing page: the status, the address it ends on, the page."""
    status, body = fetch(bot.url + "/start", urllib.parse.urlencode({"locale": "en"}).encode())
    token = re.search(r'action="/c/([A-Za-z0-9_-]{32}(?:[A-Za-z0-9_-]{11})?)"', body)
    return status, token.group(1) if token else "", body


def session_keys(redis: RedisServer) -> list[bytes]:
    client = Redis.from_url(redis.url)
    try:
        return list(client.scan_iter(match=f"{PREFIX}s:*"))
    finally:
        client.close()


def test_an_instance_started_while_redis_is_away_serves_and_recovers(
    tmp_path: Path, redis_later: RedisServer
) -> None:
    bot = instance(tmp_path, redis_later, new_key_text())
    bot.start()  # Redis is not running: it starts anyway
    try:
        assert fetch(bot.url + "/")[0] == 200
        status, _token, page = start_form(bot)
        assert status == 503 and TRY_AGAIN in page  # the polite notice, not a crash
        assert fetch(bot.url + "/readyz")[0] == 503

        redis_later.start()
        status, token, page = start_form(bot)
        assert status == 200 and token, page
        form = {"text": SAID, "csrf": form_token(token)}
        status, page = fetch(f"{bot.url}/c/{token}", urllib.parse.urlencode(form).encode())
        assert status == 200 and SAID in page
        assert session_keys(redis_later)  # kept in Redis, sealed
        assert fetch(bot.url + "/readyz")[0] == 200
    finally:
        bot.stop()
    # Kept: a new process draws the conversation again from the store.
    bot.start()
    try:
        assert fetch(f"{bot.url}/c/{token}")[0] == 200
    finally:
        bot.stop()


def test_an_instance_with_another_key_started_while_redis_is_away_never_uses_it(
    tmp_path: Path, redis_later: RedisServer
) -> None:
    key = new_key_text()
    bot = instance(tmp_path, redis_later, key)
    bot.start()
    try:
        redis_later.start()
        others = Keyring([parse_key(new_key_text(), "store.keys[0]")])
        assert shares_key(redis_later.url, PREFIX, [others.fingerprint()])  # the others' key
        for _attempt in range(2):
            status, _token, page = start_form(bot)
            assert status == 503 and TRY_AGAIN in page
        assert fetch(bot.url + "/readyz")[0] == 503
        assert session_keys(redis_later) == []  # nothing written under the wrong key
    finally:
        bot.stop()
    log = "\n".join(p.read_text() for p in tmp_path.glob("serve-*.log"))
    assert "store refused reason=store.keys" in log
    assert log.count("store refused") == 1  # said once, clearly
    assert key not in log and key.rstrip("=") not in log
