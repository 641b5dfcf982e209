"""The Matrix connector's options: ``connectors: matrix:`` in the operator's configuration.

The configuration reads them into ``MatrixOptions`` (types, defaults, located errors) and
calls ``checked()``, which holds the rules across fields and reads each secret given as
``<name>_file`` (the path of a file holding it, as container secrets are mounted); the
connector receives the result in ``context.options``. Secrets (the access token or password,
the pickle key, the session key) are kept out of ``repr`` so that no traceback or debug
print can show them.
"""

from __future__ import annotations

import dataclasses
import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from redirection_bot.api import ConfigError, read_secret

PREFIX = "connectors.matrix"
MIN_KEY_LENGTH = 16


def _above_zero(value: float) -> str | None:
    return None if value > 0 else "must be a number of seconds above 0"


_POSITIVE: dict[str, Any] = {"check": _above_zero}
_SECRETS = ("access_token", "password", "pickle_key", "session_key")


@dataclass(frozen=True, slots=True)
class MatrixOptions:
    """What an operator may write under ``connectors: matrix:``, and, once ``checked()``,
    everything the connector needs to know."""

    homeserver: str = ""
    user_id: str = ""
    access_token: str | None = field(default=None, repr=False)
    access_token_file: str | None = None
    password: str | None = field(default=None, repr=False)
    password_file: str | None = None
    device_id: str | None = None
    device_name: str | None = None
    """None: ``redirection-bot``."""
    state_dir: str = ""
    pickle_key: str | None = field(default=None, repr=False)
    pickle_key_file: str | None = None
    session_key: str = field(default="", repr=False)
    session_key_file: str | None = None
    encryption: bool = True
    direct_only: bool = True
    locale: str | None = None
    """The locale new conversations start in (None: the program's default)."""
    sync_timeout_seconds: float = field(default=30.0, metadata=_POSITIVE)
    max_backoff_seconds: float = field(default=60.0, metadata=_POSITIVE)
    undecryptable_wait_seconds: float = field(default=60.0, metadata=_POSITIVE)
    plan_action: str = "action_plan_summary"

    def checked(self) -> MatrixOptions:
        """The options with every secret read (from its file where one is named) and the
        homeserver's address without a trailing ``/``; ConfigError names the first problem."""
        secrets = {
            name: read_secret(getattr(self, name), getattr(self, f"{name}_file"), name, PREFIX)
            for name in _SECRETS
        }
        homeserver = _required(self.homeserver, "homeserver")
        if urlsplit(homeserver).scheme not in ("http", "https") or not urlsplit(homeserver).netloc:
            raise ConfigError(f"{PREFIX}.homeserver: give a URL such as https://matrix.example.org")
        user_id = _required(self.user_id, "user_id")
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
        pickle_key = secrets["pickle_key"]
        if self.encryption and (pickle_key is None or len(pickle_key) < MIN_KEY_LENGTH):
            raise ConfigError(
                f"{PREFIX}.pickle_key: a secret of at least {MIN_KEY_LENGTH} characters is "
                "needed to encrypt the bot's encryption keys on disk"
            )
        _required(self.state_dir, "state_dir")
        return dataclasses.replace(
            self,
            homeserver=homeserver.rstrip("/"),
            access_token=secrets["access_token"],
            access_token_file=None,
            password=secrets["password"],
            password_file=None,
            pickle_key=pickle_key,
            pickle_key_file=None,
            session_key=session_key,
            session_key_file=None,
            device_id=self.device_id or None,
            device_name=self.device_name or None,
            locale=self.locale or None,
            plan_action=self.plan_action or "action_plan_summary",
        )

    @property
    def state_path(self) -> Path:
        return Path(self.state_dir)

    @property
    def crypto_dir(self) -> Path:
        return self.state_path / "crypto"

    @property
    def ledger_path(self) -> Path:
        return self.state_path / "matrix.sqlite"

    @property
    def room_key(self) -> bytes:
        """The key of the keyed hash that conversations are stored under."""
        return self.session_key.encode()

    @property
    def ledger_key(self) -> bytes:
        """The key that seals what the ledger must keep readable (derived, 32 bytes)."""
        return hmac.new(self.room_key, b"redirection-bot/matrix-ledger", "sha256").digest()

    @property
    def login_name(self) -> str:
        """The device name the bot logs in with."""
        return self.device_name or "redirection-bot"


def _required(value: str, name: str) -> str:
    if not value:
        raise ConfigError(f"{PREFIX}.{name}: this setting is required")
    return value
