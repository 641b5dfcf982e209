"""Screening one message: the risk categories it raises, and the message with identifying
details hidden.

A message is screened with the rules of every locale of the program, its session's locale
first: a person who chose English but writes in Finnish is still heard. A category is a hit
when one of its phrases or check phrases matches and no exception overlaps the match. The hit
is *certain* unless every match is a check phrase or hedged: a hedge phrase ("not", "what
if", ...) up to ``HEDGE_REACH`` words before it, or an after-hedge ("just kidding") up to
``HEDGE_REACH`` words after it, in the same clause, with no break word between. Hedged hits
are still hits: the safety flow starts with a gentle check question instead of acting at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from redirection_bot.safety.categories import RiskCategory, RiskHit
from redirection_bot.safety.identifiers import find_identifiers, hide, merge_spans
from redirection_bot.safety.normalise import Letters, Token, tokenise
from redirection_bot.safety.phrases import Match, Phrase
from redirection_bot.safety.rules import LocaleRules

HEDGE_REACH = 2
"""How many words may stand between a hedge and the phrase it hedges."""


@dataclass(frozen=True, slots=True)
class Screening:
    """What screening found in one message."""

    hits: tuple[RiskHit, ...]
    """In the order of ``RiskCategory``; at most one per category."""
    redacted: str
    """The message with identifying details replaced by ``identifiers.HIDDEN_MARK``."""
    hidden: int = 0
    """How many details were hidden."""

    @property
    def categories(self) -> tuple[RiskCategory, ...]:
        return tuple(hit.category for hit in self.hits)

    def hit(self, category: RiskCategory) -> RiskHit | None:
        return next((hit for hit in self.hits if hit.category is category), None)


class Screener:
    """Screens messages with the compiled rules of each locale."""

    def __init__(self, rules: Mapping[str, LocaleRules] | None = None) -> None:
        self._rules = dict(rules or {})

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(self._rules)

    def rules(self, locale: str) -> LocaleRules | None:
        return self._rules.get(locale)

    def screen(self, text: str, locale: str | None = None, only_locale: bool = False) -> Screening:
        """Screen ``text``; with ``only_locale``, with that locale's rules alone."""
        order = [locale] if locale in self._rules else []
        if not only_locale:
            order += [other for other in self._rules if other != locale]
        # Letters only change how tokens read, never where they are: so every locale's hedges
        # and exceptions apply to every locale's hits ("not" before a word another locale knows).
        readings: dict[Letters, list[Token]] = {}
        rule_sets = []
        for name in order:
            rules = self._rules[name]
            if rules.letters not in readings:
                readings[rules.letters] = tokenise(text, rules.letters)
            rule_sets.append((rules, readings[rules.letters]))
        hedging = _Hedging(rule_sets)
        exceptions: dict[RiskCategory, list[Match]] = {}
        for rules, tokens in rule_sets:
            for category, category_rules in rules.categories.items():
                found = [match for _phrase, match in category_rules.exceptions.find(tokens)]
                exceptions.setdefault(category, []).extend(found)
        certain: dict[RiskCategory, bool] = {}
        hidden_spans = find_identifiers(text)
        if hidden_spans:
            certain[RiskCategory.IDENTIFYING_INFO] = True
        for rules, tokens in rule_sets:
            for category, category_rules in rules.categories.items():
                excepted = exceptions.get(category, [])
                matches = _kept(category_rules.phrases.find(tokens), excepted)
                checks = _kept(category_rules.checks.find(tokens), excepted)
                if not matches and not checks:
                    continue
                sure = any(not hedging.hedged(match) for match in matches)
                certain[category] = certain.get(category, False) or sure
                if category is RiskCategory.IDENTIFYING_INFO:
                    for match in matches + checks:
                        hidden_spans.extend(_hidden(match, tokens))
        hits = tuple(
            RiskHit(category, certain[category]) for category in RiskCategory if category in certain
        )
        spans = merge_spans(hidden_spans)
        return Screening(hits, hide(text, spans) if spans else text, len(spans))


def _kept(found: list[tuple[Phrase, Match]], exceptions: list[Match]) -> list[Match]:
    """The matches no exception overlaps."""
    return [
        match
        for _phrase, match in found
        if not any(e.start < match.end and match.start < e.end for e in exceptions)
    ]


def _hidden(match: Match, tokens: Sequence[Token]) -> tuple[tuple[int, int], ...]:
    """What to hide of an identifying match: its ``{words}``, or all of it."""
    if match.hidden:
        return match.hidden
    return ((tokens[match.start].start, tokens[match.end - 1].end),)


class _Hedging:
    """Where the hedges and breaks of every locale's rules are in one message."""

    def __init__(self, rule_sets: Sequence[tuple[LocaleRules, Sequence[Token]]]) -> None:
        self.tokens: Sequence[Token] = rule_sets[0][1] if rule_sets else ()
        self.before: list[Match] = []
        self.after: list[Match] = []
        self.breaks: list[Match] = []
        for rules, tokens in rule_sets:
            self.before += [match for _p, match in rules.hedges_before.find(tokens)]
            self.after += [match for _p, match in rules.hedges_after.find(tokens)]
            self.breaks += [match for _p, match in rules.breaks.find(tokens)]

    def hedged(self, match: Match) -> bool:
        tokens = self.tokens
        for hedge in self.before:
            if (
                hedge.end <= match.start
                and match.start - hedge.end <= HEDGE_REACH
                and tokens[hedge.end - 1].clause == tokens[match.start].clause
                and not self._break_between(hedge.end, match.start)
            ):
                return True
        for hedge in self.after:
            if (
                hedge.start >= match.end
                and hedge.start - match.end <= HEDGE_REACH
                and tokens[hedge.start].clause == tokens[match.end - 1].clause
                and not self._break_between(match.end, hedge.start)
            ):
                return True
        return False

    def _break_between(self, start: int, end: int) -> bool:
        return any(start <= b.start and b.end <= end for b in self.breaks)
