"""``redirection-bot actions``: the custom actions behind rasa-sdk's own action server.

An existing Rasa assistant can point its ``action_endpoint`` here and call the same
actions the bot runs in-process. The server binds to 127.0.0.1 by default and sends no
CORS headers, since browsers have no business calling it.
"""

from __future__ import annotations

from typing import Any

from redirection_bot.operations.logs import log_event
from redirection_bot.program.load import LoadedProgram
from redirection_bot.turn.actions import build_executor


def create_action_app(loaded: LoadedProgram) -> Any:
    """rasa-sdk's Sanic application with every installed action registered."""
    from rasa_sdk.endpoint import create_app  # noqa: PLC0415 - rasa-sdk is imported lazily

    return create_app(build_executor(loaded), cors_origins=[])


def serve_actions(loaded: LoadedProgram, host: str, port: int) -> None:
    """Serve until interrupted."""
    app = create_action_app(loaded)
    log_event("action server starting", host=host, port=port)
    app.run(host=host, port=port, single_process=True, access_log=False, motd=False)
