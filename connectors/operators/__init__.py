"""Operator channels: how a helpline's people receive handoffs (``redirection_bot.handoff``).

``matrix``: tickets in a Matrix room, conversations in threads. ``webhook``: signed HTTP for
existing helpline platforms. Each is registered in the ``redirection_bot.operator_channels``
entry-point group and configured under ``handoff: services: <name>: options:``.
"""
