"""The webhook channel's options: ``handoff: services: <name>: options:``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from redirection_bot.api import ConfigError, above_zero, between, read_secret

PREFIX = "handoff.services.<name>.options"
MIN_SECRET_LENGTH = 32
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PATH = "/handoff/webhook"


@dataclass(frozen=True, slots=True)
class WebhookOptions:
    """What an operator writes for a webhook service: the configuration reader checks the
    types and reports problems at file:line:column, then ``checked()`` the rest."""

    url: str = ""
    """Where the bot POSTs tickets, changes and the person's words (the platform's endpoint)."""
    secret: str = field(default="", repr=False)
    secret_file: str | None = None
    """The shared secret both sides sign with (at least 32 characters)."""
    host: str = DEFAULT_HOST
    port: int = field(default=8090, metadata=between(0, 65535))
    """Where the bot listens for the platform's requests (claims, messages, closes)."""
    path: str = DEFAULT_PATH
    tolerance_seconds: float = field(default=300.0, metadata=above_zero())
    """How far a request's timestamp may be from the receiver's clock."""
    timeout_seconds: float = field(default=10.0, metadata=above_zero())
    max_backoff_seconds: float = field(default=60.0, metadata=above_zero())

    def checked(self) -> WebhookOptions:
        """The options with the secret read (from its file where one is named); ConfigError
        names the first problem."""
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{PREFIX}.url: give the platform's address, https://...")
        secret = read_secret(self.secret, self.secret_file, "secret", PREFIX)
        if secret is None or len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"{PREFIX}.secret: a shared secret of at least {MIN_SECRET_LENGTH} characters is "
                "needed (python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        path = self.path or DEFAULT_PATH
        if not path.startswith("/"):
            raise ConfigError(f"{PREFIX}.path: give a path starting with /")
        return dataclasses.replace(
            self, secret=secret, secret_file=None, host=self.host or DEFAULT_HOST, path=path
        )
