"""The web chat: works with JavaScript off (Tor Browser "Safest"), private by construction.

Plain HTML forms first (``pages``), the same page made live over a WebSocket by a
same-origin script (``ws``, ``static/chat.js``), and a Rasa-compatible REST channel
(``rest``). ``chat`` is the one mechanism behind all three: turns within the limits, the
transcript a page shows, erasing. ``security`` sets the headers and keeps addresses out of
logs. Options: ``options.WebChatOptions`` (``connectors: webchat:`` in the configuration).
"""

from __future__ import annotations

from typing import ClassVar

from redirection_bot.api import ConnectorContext, http_address, listen, log_event

from .app import CHAT, create_app
from .guard import runner as app_runner
from .options import WebChatOptions

__all__ = ["CHAT", "WebChatConnector", "WebChatOptions", "create_app"]


class WebChatConnector:
    """Serves the web chat until the context's stop signal is set."""

    name: ClassVar[str] = "webchat"
    options_schema: ClassVar[type[WebChatOptions]] = WebChatOptions

    def __init__(self, context: ConnectorContext[WebChatOptions]) -> None:
        self._context = context
        self.options = context.options

    async def run(self) -> int:
        app = create_app(self._context.runtime, self.options)
        runner = app_runner(app, self.options)
        await runner.setup()
        port = await listen(
            runner,
            self.options.host,
            self.options.port,
            "the web chat",
            "--port, or `port` under connectors.webchat in the config",
        )
        log_event("web chat listening", connector="webchat", port=port)
        if self._context.listening is not None:
            self._context.listening("web chat", http_address(self.options.host, port))
        try:
            await self._context.stop.wait()
        finally:
            await runner.cleanup()
        return 0
