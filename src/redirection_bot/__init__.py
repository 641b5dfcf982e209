"""redirection-bot: a rule-based, clinician-authored self-help chat program."""

from __future__ import annotations

__version__ = "0.1.0"
