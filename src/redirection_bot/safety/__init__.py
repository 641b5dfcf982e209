"""Risk screening: normalisation (code) + per-locale rules (data that clinicians own).

``normalise`` turns what a person typed into folded tokens; ``phrases`` reads and matches
the clinicians' phrase syntax; ``rules`` loads ``dialogues/safety/<locale>.yaml`` with
located errors; ``identifiers`` finds e-mail addresses, phone numbers and the like;
``screen`` puts it together: ``Screener.screen(text, locale) -> Screening`` (the categories
found, and the text with identifying details hidden). Pre-emption lives in the engine;
the runtime screens every message and passes the result in the ``Text`` event.

Only the categories are imported here, so that the engine can use them without loading
the rest.
"""

from __future__ import annotations

from redirection_bot.safety.categories import RiskCategory, RiskHit

__all__ = ["RiskCategory", "RiskHit"]
