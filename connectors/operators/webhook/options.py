"""The webhook channel's options: ``handoff: services: <name>: options:``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from redirection_bot.api import ConfigError, above_zero, between, read_secret

PREFIX = "handoff.services.<name>.options"
MIN_SECRET_LENGTH = 32


@dataclass(frozen=True, slots=True)
class WebhookOptions:
    """What an operator writes for a webhook service; the configuration reader checks the
    types and reports problems at file:line:column."""

    url: str | None = None
    """Where the bot POSTs tickets, changes and the person's words (the platform's endpoint)."""
    secret: str | None = field(default=None, repr=False)
    secret_file: str | None = None
    """The shared secret both sides sign with (at least 32 characters)."""
    host: str = "127.0.0.1"
    port: int = field(default=8090, metadata=between(0, 65535))
    """Where the bot listens for the platform's requests (claims, messages, closes)."""
    path: str = "/handoff/webhook"
    tolerance_seconds: float = field(default=300.0, metadata=above_zero())
    """How far a request's timestamp may be from the receiver's clock."""
    timeout_seconds: float = field(default=10.0, metadata=above_zero())
    max_backoff_seconds: float = field(default=60.0, metadata=above_zero())


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    url: str
    secret: str = field(repr=False)
    host: str = "127.0.0.1"
    port: int = 8090
    path: str = "/handoff/webhook"
    tolerance_seconds: float = 300.0
    timeout_seconds: float = 10.0
    max_backoff_seconds: float = 60.0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> WebhookSettings:
        url = options.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{PREFIX}.url: give the platform's address, https://...")
        secret = read_secret(options, "secret", PREFIX)
        if secret is None or len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"{PREFIX}.secret: a shared secret of at least {MIN_SECRET_LENGTH} characters is "
                "needed (python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        path = str(options.get("path") or "/handoff/webhook")
        if not path.startswith("/"):
            raise ConfigError(f"{PREFIX}.path: give a path starting with /")
        return cls(
            url=str(url),
            secret=secret,
            host=str(options.get("host") or "127.0.0.1"),
            port=int(options.get("port", 8090)),
            path=path,
            tolerance_seconds=float(options.get("tolerance_seconds", 300.0)),
            timeout_seconds=float(options.get("timeout_seconds", 10.0)),
            max_backoff_seconds=float(options.get("max_backoff_seconds", 60.0)),
        )
