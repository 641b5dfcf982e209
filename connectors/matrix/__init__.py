"""The Matrix connector: people reach the program in direct chats, end-to-end encrypted.

``MatrixConnector`` (entry point ``matrix``) is configured under ``connectors: matrix:``; see
``docs/matrix.md``. Modules: ``settings`` (options), ``client`` (matrix-nio, wrapped once),
``updates`` (what a sync brings, typed), ``bot`` (rooms and exactly-once replies),
``ledger`` (its SQLite record), ``outbox`` (sending in order), ``content`` (message
content), ``handoff`` (what a handoff to a helpline shows between turns), ``texts`` (its own
texts), ``connector`` (the sync loop); backoff is ``Patience`` from ``redirection_bot.api``.
"""

from __future__ import annotations

from .connector import MatrixConnector

__all__ = ["MatrixConnector"]
