"""The web chat's options: ``connectors: webchat:`` in the operator's configuration."""

from __future__ import annotations

from dataclasses import dataclass, field

from redirection_bot.api import (
    BrandingSettings,
    LimitSettings,
    at_least,
    between,
)


@dataclass(frozen=True, slots=True)
class WebChatOptions:
    """Where the web chat listens and how it behaves; ``limits`` and ``branding`` are the
    configuration's sections of those names."""

    host: str = "127.0.0.1"
    port: int = field(default=8080, metadata=between(0, 65535))
    rest: bool = True
    """Serve the Rasa-compatible REST channel at ``POST /webhooks/rest/webhook``."""
    allowed_origins: tuple[str, ...] = ()
    """Other origins (``https://example.org``) allowed to open ``/ws`` and call the REST
    channel from a browser; the page's own origin is always allowed."""
    max_frame_bytes: int = field(default=16 * 1024, metadata=at_least(1024))
    """A WebSocket message larger than this is politely refused; four times larger closes
    the socket (the conversation stays)."""
    refresh_seconds: int = field(default=15, metadata=at_least(5))
    """How often a page without JavaScript refreshes itself while waiting for a person."""
    transcript_size: int = field(default=200, metadata=at_least(10))
    """Lines of the conversation a page shows again after a reload."""
    allowed_hosts: tuple[str, ...] = ()
    """Host names (``chat.example.org``, or with a port) the web chat answers to; a request
    for any other ``Host`` gets 421. Empty: any (the default)."""
    header_timeout_seconds: int = field(default=10, metadata=at_least(1))
    """A connection that does not complete a request's headers in this time is closed (and
    so is an idle kept-alive one)."""
    body_timeout_seconds: int = field(default=10, metadata=at_least(1))
    """A request body not fully received in this time is answered 408."""
    max_sockets: int = field(default=0, metadata=at_least(0))
    """WebSockets open at once; one more is answered 503 before it is opened (the page then
    works without it, by its forms). 0: the process's open-file limit less a reserve for
    pages, stores and logs (``SOCKET_FILE_RESERVE``), so that sockets held open and idle can
    never shut new visitors' pages out."""
    socket_start_seconds: int = field(default=10, metadata=at_least(1))
    """A WebSocket that has not started or resumed a conversation in this time is closed
    (the page's script does it at once; sockets held open and silent held every file the
    process may open)."""
    limits: LimitSettings = field(default_factory=LimitSettings)
    branding: BrandingSettings = field(default_factory=BrandingSettings)
