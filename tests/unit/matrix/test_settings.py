"""The Matrix connector's options: clear errors, and secrets that never show."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from redirection_bot.errors import ConfigError
from redirection_bot.operations.config import read_settings
from redirection_bot_connectors.matrix.settings import MatrixOptions

GOOD: dict[str, Any] = {
    "homeserver": "https://matrix.example.org/",
    "user_id": "@helpbot:example.org",
    "access_token": "syt_the_token",
    "state_dir": "/var/lib/redirection-bot/matrix",
    "pickle_key": "a long pickle key",
    "session_key": "a long session key",
}


def settings(**changes: Any) -> MatrixOptions:
    options = {**GOOD, **changes}
    return MatrixOptions(**{k: v for k, v in options.items() if v is not None}).checked()


def test_good_options_give_settings_with_defaults() -> None:
    found = settings()
    assert found.homeserver == "https://matrix.example.org"
    assert found.encryption and found.direct_only
    assert found.crypto_dir == Path("/var/lib/redirection-bot/matrix/crypto")
    assert found.room_key == b"a long session key"
    assert found.login_name == "redirection-bot"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"homeserver": None}, "connectors.matrix.homeserver: this setting is required"),
        ({"homeserver": "matrix.example.org"}, "give a URL such as https://"),
        ({"user_id": "helpbot"}, "give a full user id such as @bot:example.org"),
        ({"password": "secret"}, "give either access_token or password (exactly one)"),
        ({"access_token": None}, "give either access_token or password (exactly one)"),
        ({"session_key": "short"}, "connectors.matrix.session_key: a secret of at least 16"),
        ({"pickle_key": None}, "connectors.matrix.pickle_key: a secret of at least 16"),
        ({"state_dir": None}, "connectors.matrix.state_dir: this setting is required"),
    ],
)
def test_each_problem_is_named(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        settings(**changes)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("direct_onyl: true", "`direct_onyl` is not a field of the `matrix` connector's options"),
        ("encryption: maybe", "`encryption`"),
        ("max_backoff_seconds: 0", "`max_backoff_seconds` must be a number of seconds above 0"),
    ],
)
def test_the_configuration_reads_the_options_with_located_errors(
    tmp_path: Path, line: str, message: str
) -> None:
    good = "".join(f"    {key}: '{value}'\n" for key, value in GOOD.items())
    path = tmp_path / "config.yaml"
    path.write_text(f"connectors:\n  matrix:\n{good}    {line}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        read_settings(path, {})
    assert str(raised.value).startswith(f"{path}:9:")
    assert message in str(raised.value)


def test_the_connector_receives_the_options_read_once(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("syt_from_a_file\n")
    good = "".join(
        f"    {key}: '{value}'\n" for key, value in GOOD.items() if key != "access_token"
    )
    path = tmp_path / "config.yaml"
    path.write_text(
        f"connectors:\n  matrix:\n{good}    access_token_file: {token_file}\n", encoding="utf-8"
    )
    matrix = read_settings(path, {}).connector("matrix")
    assert matrix is not None
    assert matrix.options == settings(access_token=None, access_token_file=str(token_file))
    assert matrix.options.access_token == "syt_from_a_file"


def test_without_encryption_no_pickle_key_is_needed() -> None:
    assert settings(encryption=False, pickle_key=None).pickle_key is None


def test_secrets_can_come_from_files_and_never_show(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("syt_from_a_file\n")
    found = settings(access_token=None, access_token_file=str(token_file))
    assert found.access_token == "syt_from_a_file"
    shown = repr(found)
    for secret in ("syt_from_a_file", "a long pickle key", "a long session key"):
        assert secret not in shown
    with pytest.raises(ConfigError, match="cannot read"):
        settings(access_token=None, access_token_file=str(tmp_path / "missing"))
