"""Handoff to human support: the per-session state machine, the session record, the desk,
operator channels (office hours are in ``redirection_bot.operations.hours``, which config reads too)."""
