"""User-facing connectors shipped with redirection-bot, one package per channel."""
