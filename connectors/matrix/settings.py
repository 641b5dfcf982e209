"""The Matrix connector's settings, read from its ``connectors: matrix:`` options.

Secrets (the access token or password, the pickle key, the session key) are kept out of
``repr`` so that no traceback or debug print can show them. Each of them can also be given
as ``<name>_file``: the path of a file holding it, as container secrets are mounted.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from redirection_bot.api import ConfigError, did_you_mean, read_secret

PREFIX = "connectors.matrix"
MIN_KEY_LENGTH = 16


def _above_zero(value: float) -> str | None:
    return None if value > 0 else "must be a number of seconds above 0"


_POSITIVE: dict[str, Any] = {"check": _above_zero}


@dataclass(frozen=True, slots=True)
class MatrixOptions:
    """What an operator may write under ``connectors: matrix:``; the configuration reader
    checks types against it and reports problems at file:line:column."""

    homeserver: str | None = None
    user_id: str | None = None
    access_token: str | None = None
    access_token_file: str | None = None
    password: str | None = None
    password_file: str | None = None
    device_id: str | None = None
    device_name: str | None = None
    state_dir: str | None = None
    pickle_key: str | None = None
    pickle_key_file: str | None = None
    session_key: str | None = None
    session_key_file: str | None = None
    encryption: bool = True
    direct_only: bool = True
    locale: str | None = None
    sync_timeout_seconds: float = field(default=30.0, metadata=_POSITIVE)
    max_backoff_seconds: float = field(default=60.0, metadata=_POSITIVE)
    undecryptable_wait_seconds: float = field(default=60.0, metadata=_POSITIVE)
    plan_action: str = "action_plan_summary"


_KNOWN = frozenset(f.name for f in fields(MatrixOptions))
_SECRETS = ("access_token", "password", "pickle_key", "session_key")


@dataclass(frozen=True, slots=True)
class MatrixSettings:
    """Everything the connector needs to know, checked."""

    homeserver: str
    user_id: str
    state_dir: Path
    session_key: bytes = field(repr=False)
    access_token: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    pickle_key: str | None = field(default=None, repr=False)
    device_id: str | None = None
    device_name: str = "redirection-bot"
    encryption: bool = True
    direct_only: bool = True
    locale: str | None = None
    """The locale new conversations start in (None: the program's default)."""
    sync_timeout_seconds: float = 30.0
    max_backoff_seconds: float = 60.0
    undecryptable_wait_seconds: float = 60.0
    plan_action: str = "action_plan_summary"

    @property
    def crypto_dir(self) -> Path:
        return self.state_dir / "crypto"

    @property
    def ledger_path(self) -> Path:
        return self.state_dir / "matrix.sqlite"

    @property
    def ledger_key(self) -> bytes:
        """The key that seals what the ledger must keep readable (derived, 32 bytes)."""
        return hmac.new(self.session_key, b"redirection-bot/matrix-ledger", "sha256").digest()

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> MatrixSettings:
        """Settings from the connector's options; ConfigError names the first problem."""
        for name in options:
            if name not in _KNOWN:
                raise ConfigError(f"{PREFIX}.{name}: unknown setting{did_you_mean(name, _KNOWN)}")
        secrets = {name: _secret(options, name) for name in _SECRETS}
        homeserver = _text(options, "homeserver", required=True)
        if urlsplit(homeserver).scheme not in ("http", "https") or not urlsplit(homeserver).netloc:
            raise ConfigError(f"{PREFIX}.homeserver: give a URL such as https://matrix.example.org")
        user_id = _text(options, "user_id", required=True)
        if not (user_id.startswith("@") and ":" in user_id):
            raise ConfigError(f"{PREFIX}.user_id: give a full user id such as @bot:example.org")
        if (secrets["access_token"] is None) == (secrets["password"] is None):
            raise ConfigError(f"{PREFIX}: give either access_token or password (exactly one)")
        session_key = secrets["session_key"]
        if session_key is None or len(session_key) < MIN_KEY_LENGTH:
            raise ConfigError(
                f"{PREFIX}.session_key: a secret of at least {MIN_KEY_LENGTH} characters is "
                "needed (conversations are stored under a keyed hash of the room id)"
            )
        encryption = _flag(options, "encryption", True)
        pickle_key = secrets["pickle_key"]
        if encryption and (pickle_key is None or len(pickle_key) < MIN_KEY_LENGTH):
            raise ConfigError(
                f"{PREFIX}.pickle_key: a secret of at least {MIN_KEY_LENGTH} characters is "
                "needed to encrypt the bot's encryption keys on disk"
            )
        state_dir = _text(options, "state_dir", required=True)
        return cls(
            homeserver=homeserver.rstrip("/"),
            user_id=user_id,
            state_dir=Path(state_dir),
            session_key=session_key.encode(),
            access_token=secrets["access_token"],
            password=secrets["password"],
            pickle_key=pickle_key,
            device_id=_text(options, "device_id") or None,
            device_name=_text(options, "device_name") or "redirection-bot",
            encryption=encryption,
            direct_only=_flag(options, "direct_only", True),
            locale=_text(options, "locale") or None,
            sync_timeout_seconds=_seconds(options, "sync_timeout_seconds", 30.0),
            max_backoff_seconds=_seconds(options, "max_backoff_seconds", 60.0),
            undecryptable_wait_seconds=_seconds(options, "undecryptable_wait_seconds", 60.0),
            plan_action=_text(options, "plan_action") or "action_plan_summary",
        )


def _text(options: Mapping[str, Any], name: str, required: bool = False) -> str:
    value = options.get(name)
    if value is None or value == "":
        if required:
            raise ConfigError(f"{PREFIX}.{name}: this setting is required")
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"{PREFIX}.{name}: give a string")
    return value


def _secret(options: Mapping[str, Any], name: str) -> str | None:
    return read_secret(options, name, PREFIX)


def _flag(options: Mapping[str, Any], name: str, default: bool) -> bool:
    value = options.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ConfigError(f"{PREFIX}.{name}: give true or false")
    return value


def _seconds(options: Mapping[str, Any], name: str, default: float) -> float:
    value = options.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{PREFIX}.{name}: give a number of seconds above 0")
    return float(value)
