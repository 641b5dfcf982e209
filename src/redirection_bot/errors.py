"""The project's exception hierarchy: every error a user can meet is one of these."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redirection_bot.diagnostics import Diagnostic


class RedirectionBotError(Exception):
    """Base of every error raised on purpose by redirection-bot."""


class AuthoringError(RedirectionBotError):
    """The clinician-written program (dialogues, locales, rules) is not valid.

    Carries every diagnostic found, so that an author sees all problems at once.
    """

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("\n".join(d.format() for d in diagnostics))


class ConfigError(RedirectionBotError):
    """An operator's configuration file or environment is not valid."""


class ActionError(RedirectionBotError):
    """A custom action failed or returned something the bot must not show."""


class ConnectorError(RedirectionBotError):
    """A connector could not be found, configured or started."""


class EngineError(RedirectionBotError):
    """The engine met a state it cannot continue from (a bug, never the person's fault)."""


class ConversationTestError(RedirectionBotError):
    """A clinician's conversation test file is malformed."""
