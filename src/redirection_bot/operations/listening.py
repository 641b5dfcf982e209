"""Opening a listening socket for an aiohttp app, with a clear error when the address is taken.

Every listener of ``serve`` (the web chat, the admin listener, a webhook channel) opens its
address here, so that "address already in use" reads the same everywhere and says what to
change, instead of ending in a traceback.
"""

from __future__ import annotations

import os

from aiohttp import web

from redirection_bot.errors import ConnectorError


async def listen(runner: web.AppRunner, host: str, port: int, what: str, change: str) -> int:
    """Start ``runner`` (already set up) on ``host:port``; the port it listens on (the one
    given, or the free one picked for port 0). Raises ConnectorError naming ``what`` listens
    and ``change``, the setting that picks another address, when it cannot listen."""
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as error:
        await runner.cleanup()
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise ConnectorError(
            f"{what} cannot listen on {host}:{port}: {reason.lower()}. Another program, perhaps "
            f"another redirection-bot, may be using it: choose another with {change}."
        ) from error
    return bound_port(runner, port)


def bound_port(runner: web.AppRunner, configured: int) -> int:
    """The port ``runner`` listens on (``configured`` if it cannot tell)."""
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return configured
