"""Handoff to human support: the per-session state machine, office hours, operator channels."""
