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

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from redirection_bot.safety.categories import RiskCategory, RiskHit
from redirection_bot.safety.identifiers import find_identifiers, hide, merge_spans
from redirection_bot.safety.model import ScreeningModel, features
from redirection_bot.safety.normalise import Letters, Token, tokenise
from redirection_bot.safety.phrases import Match
from redirection_bot.safety.rules import LocaleRules, answer_tag, flow_except_tag

HEDGE_REACH = 2
"""How many words may stand between a hedge and the phrase it hedges."""

CONTEXT_LEAN = 1.0
"""How much a message's own words must weigh towards a category (in the model's log-odds)
before earlier messages can lift it over the threshold."""
MODEL_MIN_WORDS = 2
"""The model reads messages of at least this many words: a number or a single word says too
little for it (the rules still read them)."""
CLAUSE_MIN_WORDS = 5
"""In a message of several clauses (punctuation ends one), each clause of at least this many
different words is also scored alone, and a category is raised where the message or one of
its clauses reaches the threshold: the model learnt from short messages, and an ordinary
clause beside the risky one ("haluun olla parempi isä. en mä jaksa enää elää") lowered the
whole message's score. Chosen on the tuning split (docs/safety.md, "Clauses scored alone"):
clauses of 3 words raised a third more neutral lines than of 5, for little more recall."""
CLAUSE_CONTEXT = 0.5
"""How much of the rest of the message a clause scored alone still weighs (0: none, 1: the
whole message): a clause keeps part of what its message says around it ("me quiero tirar por
la ventana, es broma"), so that a risky-sounding clause of an ordinary message is not read
as if it stood alone. Chosen on the tuning split (docs/safety.md)."""
CONTEXT_DECAY = 0.5
"""How much of the earlier context a message passes on (the one before weighs half)."""


@dataclass(frozen=True, slots=True)
class Screening:
    """What screening found in one message."""

    hits: tuple[RiskHit, ...]
    """In the order of ``RiskCategory``; at most one per category."""
    redacted: str
    """The message with identifying details replaced by ``identifiers.HIDDEN_MARK``."""
    hidden: int = 0
    """How many details were hidden."""
    learned: tuple[RiskCategory, ...] = ()
    """The categories raised by the model alone (uncertain), not by the rules."""
    carry: tuple[float, ...] = ()
    """What this message (and, halved, the ones before) weighs per category, for the next
    message's screening: numbers only, never words."""
    concepts: tuple[str, ...] = ()
    """The rules' word lists a word of the message belongs to (``means``, ``child``...)."""

    @property
    def categories(self) -> tuple[RiskCategory, ...]:
        return tuple(hit.category for hit in self.hits)

    def hit(self, category: RiskCategory) -> RiskHit | None:
        return next((hit for hit in self.hits if hit.category is category), None)


class Screener:
    """Screens messages with the compiled rules of each locale."""

    def __init__(
        self, rules: Mapping[str, LocaleRules] | None = None, model: ScreeningModel | None = None
    ) -> None:
        self._rules = dict(rules or {})
        self.model = model

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(self._rules)

    def rules(self, locale: str) -> LocaleRules | None:
        return self._rules.get(locale)

    def screen(
        self,
        text: str,
        locale: str | None = None,
        only_locale: bool = False,
        carried: Sequence[float] = (),
        with_model: bool = True,
        answering: str | None = None,
        in_flow: str | None = None,
    ) -> Screening:
        """Screen ``text``; with ``only_locale``, with that locale's rules alone; ``carried``
        is the ``carry`` of the person's previous message (empty for the first); without
        ``with_model``, with the rules alone (the text is an answer the program offers);
        ``answering``: the slot the message would fill, whose ``check_in_answers`` count;
        ``in_flow``: the flow the person is in, whose ``except_in_flows`` count."""
        return self._screen(
            text, locale, only_locale, carried, None, with_model, answering, in_flow
        )

    def concepts(self, text: str) -> tuple[str, ...]:
        """The semantic fields of every locale's rules that ``text`` touches."""
        found: set[str] = set()
        for rules in self._rules.values():
            found |= rules.fields.find(tokenise(text, rules.letters))
        return tuple(sorted(found))

    def explain(
        self,
        text: str,
        locale: str | None = None,
        only_locale: bool = False,
        carried: Sequence[float] = (),
        answering: str | None = None,
        in_flow: str | None = None,
    ) -> tuple[Screening, dict[RiskCategory, list[str]]]:
        """Screen ``text`` and say why each category was raised, for a clinician: the words
        a rule matched (and whether a hedge or a check phrase made it uncertain), or the
        model's score, its threshold and the words and pieces that weighed most."""
        why: dict[RiskCategory, list[str]] = defaultdict(list)
        screening = self._screen(text, locale, only_locale, carried, why, True, answering, in_flow)
        model = self.model
        if model is not None and screening.learned:
            self._explain_learned(model, text, screening, locale, only_locale, carried, why)
        return screening, {c: why[c] for c in screening.categories if c in why}

    def _explain_learned(
        self,
        model: ScreeningModel,
        text: str,
        screening: Screening,
        locale: str | None,
        only_locale: bool,
        carried: Sequence[float],
        why: dict[RiskCategory, list[str]],
    ) -> None:
        """For each category the model raised: its score (on the message, or the clause that
        scored highest) and the features that weighed most."""
        whole_found = features(text, screening.concepts)
        names = [locale] if only_locale and locale in self._rules else list(self._rules)
        readings = {rules.letters: tokenise(text, rules.letters) for rules in self._rules.values()}
        clauses = self._clauses_scored(
            model,
            readings.get(Letters.ONE) or tokenise(text, Letters.ONE),
            self._clause_concepts(readings, names),
            model.evidence(whole_found),
        )
        for category in screening.learned:
            found = whole_found
            index = model.categories.index(category)
            alone = model.probabilities(found)[index]
            joint = model.probabilities(found, carried)[index] if carried else alone
            context = f", {joint:.2f} with the earlier messages" if joint > alone else ""
            where = ""
            for clause_tokens, clause_found, scores in clauses:
                if scores[index] > max(alone, joint):
                    alone, found = scores[index], clause_found
                    words = text[clause_tokens[0].start : clause_tokens[-1].end]
                    where, context = f" on the clause {words!r}", ""
            why[category].append(
                f"model: score {alone:.2f}{where}{context} "
                f"(threshold {model.thresholds[index]:.2f})"
            )
            why[category].extend(
                f"  {contribution.describe()}" for contribution in model.explain(found, category)
            )

    def _screen(
        self,
        text: str,
        locale: str | None,
        only_locale: bool,
        carried: Sequence[float],
        why: dict[RiskCategory, list[str]] | None,
        with_model: bool = True,
        answering: str | None = None,
        in_flow: str | None = None,
    ) -> Screening:
        order = [locale] if locale in self._rules else []
        if not only_locale:
            order += [other for other in self._rules if other != locale]
        # Letters only change how tokens read, never where they are: so every locale's hedges
        # and exceptions apply to every locale's hits ("not" before a word another locale knows).
        readings: dict[Letters, Sequence[Token]] = {}
        found: dict[str, list[tuple[Match, Sequence[Token]]]] = defaultdict(list)
        read_at: Sequence[int] | None = None  # the words read, the same in every reading
        for name in order:
            rules = self._rules[name]
            if rules.letters not in readings:
                reading = tokenise(text, rules.letters)
                read_at = words_read(text, reading) if read_at is None else read_at
                readings[rules.letters] = (
                    reading if len(read_at) == len(reading) else [reading[i] for i in read_at]
                )
            tokens = readings[rules.letters]
            for tag, match in rules.index.find_tagged(tokens):
                for stands_for in rules.tags_of(tag):
                    found[stands_for].append((match, tokens))
        # The semantic fields touched, by clause: what the model reads too.
        clause_concepts = (
            self._clause_concepts(readings, order) if self.model is not None and with_model else {}
        )
        concepts: set[str] = set().union(*clause_concepts.values())
        hedging = _Hedging(
            *([match for match, _tokens in found[kind]] for kind in ("before", "after", "breaks"))
        )
        certain: dict[RiskCategory, bool] = {}
        answer_only: set[RiskCategory] = set()  # raised by ``check_in_answers`` alone
        hidden_spans = find_identifiers(text)
        if hidden_spans:
            certain[RiskCategory.IDENTIFYING_INFO] = True
            if why is not None:
                why[RiskCategory.IDENTIFYING_INFO].extend(
                    f"identifiers: {text[start:end]!r}" for start, end in hidden_spans
                )
        # A flow's exceptions cancel only the hits they hold whole: "send me the link" where
        # crisis lines were just shown asks for theirs; "send me links to <material>" does not.
        in_flows = {
            category: found[flow_except_tag(in_flow, category)] if in_flow else []
            for category in RiskCategory
        }
        for category in RiskCategory:
            excepted = [match for match, _tokens in found[f"except:{category}"]]
            holding = [match for match, _tokens in in_flows[category]]
            matches = _kept(found[f"phrases:{category}"], excepted, holding)
            in_answer = found[answer_tag(answering, category)] if answering else []
            checks = _kept(found[f"check:{category}"] + in_answer, excepted, holding)
            if not matches and not checks:
                continue
            if not matches and not _kept(found[f"check:{category}"], excepted, holding):
                answer_only.add(category)
            # A phrase inside a longer hedged one is hedged with it ("years ago i tried to
            # kill myself": "kill myself" is part of what "years ago" tells as the past).
            hedged = [match for match, tokens in matches if hedging.hedged(match, tokens)]
            sure = any(
                not any(h.start <= match.start and match.end <= h.end for h in hedged)
                for match, _tokens in matches
            )
            certain[category] = certain.get(category, False) or sure
            if why is not None:
                for kind, kept in (("phrase", matches), ("check phrase", checks)):
                    for match, tokens in kept:
                        words = text[tokens[match.start].start : tokens[match.end - 1].end]
                        hedge = kind == "phrase" and any(
                            h.start <= match.start and match.end <= h.end for h in hedged
                        )
                        why[category].append(
                            f"rules: {kind} {words!r}{' (hedged)' if hedge else ''}"
                        )
            if category is RiskCategory.IDENTIFYING_INFO:
                for match, tokens in matches + checks:
                    hidden_spans.extend(_hidden(match, tokens))
        # Where a clinician's exception accounts for most of the message ("how do i stop
        # searching for that stuff"), the model's guess at that category is not taken either.
        excepted_most = {
            category
            for category in RiskCategory
            if _covers_most(found[f"except:{category}"] + in_flows[category])
        }
        if why is not None:
            for category in excepted_most - set(certain):
                why[category].append("model: not asked, an exception covers most of the message")
        found_by_model, carry = (
            self._learned(
                text,
                sorted(concepts),
                {**dict.fromkeys(excepted_most, False), **certain},
                carried,
                readings.get(Letters.ONE),
                clause_concepts,
            )
            if with_model
            else ((), tuple(carried))
        )
        for category in found_by_model:
            certain[category] = False
        if RiskCategory.IDENTIFYING_INFO in found_by_model:
            hidden_spans.append((0, len(text)))  # no span to hide: the whole message is hidden
        hits = tuple(
            RiskHit(
                category,
                certain[category],
                category in found_by_model,
                category in answer_only and category not in found_by_model,
            )
            for category in RiskCategory
            if category in certain
        )
        spans = merge_spans(hidden_spans)
        redacted = hide(text, spans) if spans else text
        return Screening(hits, redacted, len(spans), found_by_model, carry, tuple(sorted(concepts)))

    def _clause_concepts(
        self, readings: Mapping[Letters, Sequence[Token]], names: Sequence[str]
    ) -> dict[int, set[str]]:
        """The semantic fields of each clause, in the rules of every locale ``names`` (each
        read with its letters, as the message was)."""
        found: dict[int, set[str]] = defaultdict(set)
        for name in names:
            rules = self._rules[name]
            tokens = readings.get(rules.letters)
            if tokens is not None:
                for clause, found_here in rules.fields.find_by_clause(tokens).items():
                    found[clause] |= found_here
        return found

    def _learned(
        self,
        text: str,
        concepts: Sequence[str],
        raised: Mapping[RiskCategory, bool],
        carried: Sequence[float],
        tokens: Sequence[Token] | None,
        clause_concepts: Mapping[int, set[str]],
    ) -> tuple[tuple[RiskCategory, ...], tuple[float, ...]]:
        """The categories the model raises that the rules did not, and the carry."""
        model = self.model
        if model is None:
            return (), ()
        found = features(text, concepts, tokens)
        evidence, reach = model.evidence_and_reach(found)
        if len(carried) != len(evidence):
            carried = ()
        alone = model.probabilities_of(evidence)
        joint = model.probabilities_of(evidence, carried) if carried else alone
        carry = tuple(
            round(own + CONTEXT_DECAY * before, 3)
            for own, before in zip(evidence, carried or (0.0,) * len(evidence), strict=True)
        )
        if _words(found) < MODEL_MIN_WORDS:
            return (), carry  # "9" on a scale, "ok": the rules' business, not the model's
        # A clause's features are some of the message's: where none of them could lift a
        # category still to be raised to its threshold, no clause is read.
        reachable = model.within_reach(evidence, reach, CLAUSE_CONTEXT)
        if any(
            could and category not in raised and whole < threshold
            for could, category, whole, threshold in zip(
                reachable, model.categories, alone, model.thresholds, strict=True
            )
        ):
            if tokens is None:  # no rules read it (a screener of the model alone)
                tokens = tokenise(text, Letters.ONE)
            for _tokens, _found, scores in self._clauses_scored(
                model, tokens, clause_concepts, evidence
            ):
                alone = [max(whole, part) for whole, part in zip(alone, scores, strict=True)]
        learned = tuple(
            category
            for index, category in enumerate(model.categories)
            if category not in raised
            and (
                alone[index] >= model.thresholds[index]
                or (evidence[index] >= CONTEXT_LEAN and joint[index] >= model.thresholds[index])
            )
        )
        return learned, carry

    @staticmethod
    def _clauses_scored(
        model: ScreeningModel,
        tokens: Sequence[Token],
        clause_concepts: Mapping[int, Iterable[str]],
        whole: Sequence[float],
    ) -> list[tuple[Sequence[Token], list[str], list[float]]]:
        """Each clause scored alone (``CLAUSE_MIN_WORDS``), with ``CLAUSE_CONTEXT`` of its
        message's evidence ``whole``: its words, what the model reads of it, its scores."""
        scored: list[tuple[Sequence[Token], list[str], list[float]]] = []
        for clause, clause_tokens in long_clauses(tokens).items():
            found = features("", clause_concepts.get(clause, ()), clause_tokens)
            if _words(found) >= CLAUSE_MIN_WORDS:
                scores = model.probabilities_of(in_context(model.evidence(found), whole))
                scored.append((clause_tokens, found, scores))
        return scored


def in_context(clause: Sequence[float], whole: Sequence[float]) -> list[float]:
    """A clause's evidence with ``CLAUSE_CONTEXT`` of the rest of its message's."""
    return [
        own + CLAUSE_CONTEXT * (all_of - own) for own, all_of in zip(clause, whole, strict=True)
    ]


def long_clauses(tokens: Sequence[Token]) -> dict[int, list[Token]]:
    """The clauses of ``tokens`` that may be scored alone, by number: none where the message
    is one clause, or has no clause of ``CLAUSE_MIN_WORDS`` tokens."""
    clauses: dict[int, list[Token]] = defaultdict(list)
    for token in tokens:
        clauses[token.clause].append(token)
    if len(clauses) < 2:
        return {}
    return {n: found for n, found in clauses.items() if len(found) >= CLAUSE_MIN_WORDS}


MOST_WORDS_READ = 5_000
"""The words of one message the rules read, at most. Twenty thousand characters of ordinary
writing (all a message is screened for) are about 3,500 to 4,000 words, so a pasted text is
read whole; a script's 20,000 characters of one-letter lines (10,000 words, each the start of
many phrases) cost half as much (an outside attacker's finding: 2.5 s of a core a message)."""

REPEATS_SKIPPED_FROM = 1_000
"""From this many words on, a sentence already read is not read again: "a\\n" ten thousand
times is one sentence's work; an ordinary message is read exactly as typed."""

REPEAT_WORDS = 50
"""A sentence longer than this is compared for repeats this many words at a time ("i want
to stop i want to stop ..." for 20,000 characters is a few pieces' work)."""


def words_read(text: str, tokens: Sequence[Token]) -> Sequence[int]:
    """The positions of the tokens the rules read: all of them in an ordinary message; in a
    long one, each sentence once (by its words as typed) and at most ``MOST_WORDS_READ``."""
    if len(tokens) <= REPEATS_SKIPPED_FROM:
        return range(len(tokens))
    kept: list[int] = []
    seen: set[tuple[str, ...]] = set()
    start = 0
    while start < len(tokens) and len(kept) < MOST_WORDS_READ:
        end = start
        while (
            end < len(tokens)
            and end - start < REPEAT_WORDS
            and tokens[end].sentence == tokens[start].sentence
        ):
            end += 1
        words = tuple(text[token.start : token.end].casefold() for token in tokens[start:end])
        if words not in seen:
            seen.add(words)
            kept.extend(range(start, end))
        start = end
    return kept[:MOST_WORDS_READ]


EXCEPT_COVERS = 0.5
"""The share of a message's words a category's exceptions must cover for the model's guess at
that category to be left out."""


def _covers_most(matches: Sequence[tuple[Match, Sequence[Token]]]) -> bool:
    """Whether exception matches cover at least ``EXCEPT_COVERS`` of their reading's words."""
    covered: dict[int, set[int]] = {}
    sizes: dict[int, int] = {}
    for match, tokens in matches:
        words = covered.setdefault(id(tokens), set())
        words.update(range(match.start, match.end))
        sizes[id(tokens)] = len(tokens)
    return any(len(words) >= EXCEPT_COVERS * sizes[key] for key, words in covered.items())


def _words(found: Sequence[str]) -> int:
    """How many different words (not numbers) a message's features hold."""
    return sum(1 for feature in found if feature.startswith("w:") and not feature[2:].isdigit()) - (
        "w:#" in found
    )


def _kept(
    found: list[tuple[Match, Sequence[Token]]],
    exceptions: list[Match],
    holding: Sequence[Match] = (),
) -> list[tuple[Match, Sequence[Token]]]:
    """The matches no exception overlaps and none of ``holding`` holds whole."""
    return [
        (match, tokens)
        for match, tokens in found
        if not any(e.start < match.end and match.start < e.end for e in exceptions)
        and not any(e.start <= match.start and match.end <= e.end for e in holding)
    ]


def _hidden(match: Match, tokens: Sequence[Token]) -> tuple[tuple[int, int], ...]:
    """What to hide of an identifying match: its ``{words}``, or all of it."""
    if match.hidden:
        return match.hidden
    return ((tokens[match.start].start, tokens[match.end - 1].end),)


class _Hedging:
    """Where the hedges and breaks of every locale's rules are in one message."""

    def __init__(self, before: list[Match], after: list[Match], breaks: list[Match]) -> None:
        self.before = before
        self.after = after
        self.breaks = breaks

    def hedged(self, match: Match, tokens: Sequence[Token]) -> bool:
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
