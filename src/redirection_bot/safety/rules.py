"""Loading the screening rules: ``dialogues/safety/<locale>.yaml``, one file per locale.

The rules are data that clinicians own. Every mistake is reported at ``file:line:column``
(a phrase's syntax error at the very character), and loading carries on so that an author
sees every problem at once. The format is described in docs/authoring.md::

    locale: en
    repeated_letters: one          # "one": "kill" = "kil" = "killll"; "two" (Finnish): only
                                   # runs of three or more are shortened (tapaa is not tappaa)
    words:                         # word lists, used in phrases as {name}
      child: [child, children, kid, kids, "little one"]
    hedges:                        # negation and hypotheticals: a hit becomes "check first"
      before: [not, never, "what if"]
      after: ["just kidding"]
      breaks: [but]                # words that end the reach of a hedge, like a full stop
    categories:
      suicide:
        phrases: ["kill myself", "(end|take) my [own] life"]
        check: ["disappear for ever"]   # may mean this, or not: ask first
        except: ["dying to (see|know)"] # idioms: cancel a hit they contain
    fields:                        # semantic fields the second layer reads (never phrases):
      hopeless: ["no point", "give up", "no future"]   # same names in every locale
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from redirection_bot.diagnostics import Diagnostics, Span
from redirection_bot.language.i18n import display_path
from redirection_bot.language.suggest import did_you_mean
from redirection_bot.language.yaml_schema import ID_PATTERN, SchemaReader
from redirection_bot.language.yaml_source import YMapping, YNode, YScalar, read_yaml_file
from redirection_bot.safety.categories import RiskCategory, category_named, not_a_category
from redirection_bot.safety.fields import FieldIndex
from redirection_bot.safety.normalise import Letters
from redirection_bot.safety.phrases import (
    Alt,
    Details,
    Phrase,
    PhraseSet,
    PhraseSyntaxError,
    Seq,
    SharedParts,
    forget_words_read,
    parse_phrase,
    resolve,
)

RULES_FIELDS = ("locale", "repeated_letters", "words", "hedges", "categories", "fields")
HEDGE_FIELDS = ("before", "after", "breaks")
CATEGORY_FIELDS = ("phrases", "check", "except", "check_in_answers", "except_in_flows")
BUILT_IN_DETECTION = frozenset({RiskCategory.IDENTIFYING_INFO})
"""Categories that code also detects (e-mail addresses, phone numbers, ...): phrases optional."""


def answer_tag(slot: str, category: RiskCategory) -> str:
    """The index tag of a category's check phrases for answers filling ``slot``."""
    return f"answer:{slot}:{category}"


def flow_except_tag(flow: str, category: RiskCategory) -> str:
    """The index tag of a category's exceptions for messages typed while in ``flow``."""
    return f"except-in:{flow}:{category}"


@dataclass(frozen=True, slots=True)
class CategoryRules:
    """One category's compiled phrases: hits, "check first" hits, and exceptions. Screening
    looks them up in the locale's one ``index``; these lists say what each category holds."""

    phrases: tuple[Phrase, ...]
    checks: tuple[Phrase, ...]
    exceptions: tuple[Phrase, ...]
    in_answers: Mapping[str, tuple[Phrase, ...]] = field(default_factory=dict)
    """Check phrases that count only in an answer to a question filling this slot ("my
    daughter" typed as a trigger, not in everyday talk)."""
    in_flows: Mapping[str, tuple[Phrase, ...]] = field(default_factory=dict)
    """Exceptions that count only while the person is in this flow ("send me the link"
    typed where the program has just shown crisis lines asks for theirs)."""


@dataclass(frozen=True, slots=True)
class LocaleRules:
    """A locale's compiled rules."""

    locale: str
    categories: Mapping[RiskCategory, CategoryRules]
    hedges_before: tuple[Phrase, ...]
    hedges_after: tuple[Phrase, ...]
    breaks: tuple[Phrase, ...]
    span: Span
    letters: Letters = Letters.ONE
    index: PhraseSet = field(default_factory=PhraseSet)
    """Every phrase above in one index, tagged ``before``, ``after``, ``breaks`` or
    ``<phrases|check|except>:<category>``: screening looks a message up once."""
    fields: FieldIndex = field(default_factory=FieldIndex)
    """The word lists and the ``fields:``, for the second layer's features."""
    answer_slots: Mapping[str, Span] = field(default_factory=dict)
    """The slots ``check_in_answers`` names, each where first named (the program checks them)."""
    except_flows: Mapping[str, Span] = field(default_factory=dict)
    """The flows ``except_in_flows`` names, each where first named (the program checks them)."""
    tag_aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """For a list of phrases repeated by alias under several slots or flows, compiled once:
    the index tag it was compiled under and every tag its matches stand for."""

    def tags_of(self, found: str) -> tuple[str, ...]:
        """The tags a match found under index tag ``found`` stands for."""
        return self.tag_aliases.get(found) or (found,)

    def phrase_count(self) -> int:
        return sum(
            len(c.phrases)
            + len(c.checks)
            + sum(map(len, {id(found): found for found in c.in_answers.values()}.values()))
            for c in self.categories.values()
        )


@dataclass(frozen=True, slots=True)
class _Written:
    """A phrase as read, with where it is written."""

    phrase: Phrase
    scalar: YScalar


def load_rules_folder(
    folder: Path,
    locales: Iterable[str],
    required: Collection[RiskCategory],
    diagnostics: Diagnostics,
    display_root: Path | None = None,
) -> dict[str, LocaleRules]:
    """Read the rules of every locale; ``required`` categories need phrases in each."""
    wanted = list(locales)
    found: dict[str, LocaleRules] = {}
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")) if folder.is_dir() else []
    for path in files:
        shown = display_path(path, display_root)
        locale = path.name.split(".", 1)[0]
        if locale not in wanted:
            diagnostics.warning(
                Span(shown, 1, 1),
                f"screening rules for `{locale}`, which is not one of the program's locales",
            )
            continue
        rules = read_rules(path, shown, locale, required, diagnostics)
        if rules is not None:
            found[locale] = rules
    forget_words_read()
    if required:
        for locale in wanted:
            if locale not in found and not any(p.name.startswith(f"{locale}.") for p in files):
                diagnostics.error(
                    Span(display_path(folder / f"{locale}.yaml", display_root), 1, 1),
                    f"there are no screening rules for `{locale}`: messages in it would not be "
                    "screened for risk; write this file",
                )
    return found


def read_rules(
    path: Path,
    shown: str,
    locale: str,
    required: Collection[RiskCategory],
    diagnostics: Diagnostics,
) -> LocaleRules | None:
    """Read one locale's rules file; problems become diagnostics."""
    return _RulesReader(diagnostics).read(
        read_yaml_file(path, shown, diagnostics), shown, locale, required
    )


class _RulesReader(SchemaReader):
    def read(
        self,
        root: YNode | None,
        path: str,
        locale: str,
        required: Collection[RiskCategory],
    ) -> LocaleRules | None:
        top = self.mapping(root, "a screening rules file")
        if top is None:
            if root is None:
                self.error(Span(path, 1, 1), "this screening rules file is empty")
            return None
        self.fields(top, RULES_FIELDS, "a screening rules file", required=("locale", "categories"))
        written_locale = self.scalar(top.get("locale"), "the locale")
        if written_locale is not None and written_locale.text != locale:
            self.error(
                written_locale.value_span,
                f"this file is named for `{locale}` but says `locale: {written_locale.text}`",
            )
        letters = self._letters(top.get("repeated_letters"))
        lists, list_spans = self._word_lists(top.get("words"), letters)
        used_lists: set[str] = set()
        hedges = self.mapping(top.get("hedges"), "`hedges`")
        if hedges is not None:
            self.fields(hedges, HEDGE_FIELDS, "`hedges`")

        index = PhraseSet()
        shared = SharedParts()

        def compiled(
            node: YNode | None, what: str, category: RiskCategory | None, tag: str
        ) -> tuple[Phrase, ...]:
            phrases: list[Phrase] = []
            seen: dict[str, Span] = {}
            for written in self._phrases(node, what, letters):
                if not self._references_ok(written, lists, category, used_lists):
                    continue
                earlier = seen.get(written.phrase.source)
                if earlier is not None:
                    self.warning(
                        written.scalar.span,
                        f"this phrase is written twice here (first at line {earlier.line})",
                    )
                    continue
                seen[written.phrase.source] = written.scalar.span
                resolved = resolve(written.phrase, lists, shared)
                phrases.append(resolved)
                index.add(resolved, tag)
            return tuple(phrases)

        shared_lists: dict[tuple[int, RiskCategory, str], str] = {}
        tag_aliases: dict[str, tuple[str, ...]] = {}

        def scoped(
            fields: YMapping,
            category: RiskCategory,
            name: str,
            kind: str,
            tag: Callable[[str, RiskCategory], str],
            named: dict[str, Span],
        ) -> dict[str, tuple[Phrase, ...]]:
            """A category's phrases by slot or by flow (``check_in_answers``,
            ``except_in_flows``), each key noted where first named (the program checks them)."""
            found: dict[str, tuple[Phrase, ...]] = {}
            for key, phrases in self.mapping(fields.get(name), f"`{name}`") or ():
                named.setdefault(key.text, key.span)
                # A list repeated by alias (`*name`) is compiled once: its matches stand for
                # every key that repeats it (eight flows share one list of exceptions).
                first = shared_lists.get((id(phrases), category, name))
                if first is not None:
                    found[key.text] = found[first]
                    tag_aliases[tag(first, category)] += (tag(key.text, category),)
                    continue
                shared_lists[(id(phrases), category, name)] = key.text
                found[key.text] = compiled(phrases, kind, category, tag(key.text, category))
                tag_aliases[tag(key.text, category)] = (tag(key.text, category),)
            return found

        def hedge(name: str) -> tuple[Phrase, ...]:
            return compiled(hedges.get(name) if hedges else None, f"a `{name}` hedge", None, name)

        categories: dict[RiskCategory, CategoryRules] = {}
        answer_slots: dict[str, Span] = {}
        except_flows: dict[str, Span] = {}
        section = self.mapping(top.get("categories"), "`categories`")
        for key, value in section or ():
            category = category_named(key.text)
            if category is None:
                self.error(key.span, not_a_category(key.text))
                continue
            fields = self.mapping(value, f"the category `{category}`")
            if fields is None:
                continue
            self.fields(fields, CATEGORY_FIELDS, f"the category `{category}`")
            in_answers = scoped(
                fields, category, "check_in_answers", "a check phrase", answer_tag, answer_slots
            )
            in_flows = scoped(
                fields, category, "except_in_flows", "an exception", flow_except_tag, except_flows
            )
            categories[category] = CategoryRules(
                compiled(fields.get("phrases"), "a phrase", category, f"phrases:{category}"),
                compiled(fields.get("check"), "a check phrase", category, f"check:{category}"),
                compiled(fields.get("except"), "an exception", category, f"except:{category}"),
                in_answers,
                in_flows,
            )
        if section is not None:
            for category in required:
                rules = categories.get(category)
                if category not in BUILT_IN_DETECTION and (
                    rules is None or not (len(rules.phrases) or len(rules.checks))
                ):
                    self.error(
                        section.span,
                        f"`{category}` has no phrases: messages in `{locale}` would never be "
                        "screened for it",
                    )
        for name, span in list_spans.items():
            if name not in used_lists:
                self.warning(span, f"the word list `{name}` is never used")
        if section is None:
            return None
        # The word lists and the fields are semantic fields (means, a child, material, being
        # a burden...): the second screening layer reads "a word of `means`" as a feature.
        semantic, _spans = self._word_lists(top.get("fields"), letters)
        field_index = FieldIndex.of(lists | semantic)
        before, after, breaks = hedge("before"), hedge("after"), hedge("breaks")
        index.finish()
        return LocaleRules(
            locale,
            categories,
            before,
            after,
            breaks,
            top.span,
            letters,
            index,
            field_index,
            answer_slots,
            except_flows,
            {found: tags for found, tags in tag_aliases.items() if len(tags) > 1},
        )

    def _letters(self, node: YNode | None) -> Letters:
        found = self.scalar(node, "`repeated_letters`") if node is not None else None
        if found is None:
            return Letters.ONE
        try:
            return Letters(found.text)
        except ValueError:
            self.error(
                found.value_span,
                "`repeated_letters` is `one` (every run of a letter reads as one) or `two` "
                "(only runs of three or more are shortened, to two)",
            )
            return Letters.ONE

    def _word_lists(
        self, node: YNode | None, letters: Letters
    ) -> tuple[dict[str, list[Phrase]], dict[str, Span]]:
        lists: dict[str, list[Phrase]] = {}
        spans: dict[str, Span] = {}
        mapping = self.mapping(node, "`words`")
        for key, value in mapping or ():
            name = self.identifier(key, "a word list name", ID_PATTERN)
            if name is None:
                continue
            if name in ("number", "words"):
                self.error(key.span, f"`{name}` is built in (`{{{name}}}`); choose another name")
                continue
            entries: list[Phrase] = []
            for written in self._phrases(value, f"an entry of `{name}`", letters):
                if written.phrase.references():
                    self.error(
                        written.scalar.value_span,
                        "a word list cannot use another list; write its words here",
                    )
                    continue
                entries.append(written.phrase)
            lists[name] = entries
            spans[name] = key.span
        return lists, spans

    def _phrases(self, node: YNode | None, what: str, letters: Letters) -> list[_Written]:
        if node is None:
            return []
        if self.sequence(node, f"{what}s") is None:
            return []
        found: list[_Written] = []
        for item in self.one_or_many(node, what):
            try:
                phrase = parse_phrase(item.text, letters)
            except PhraseSyntaxError as error:
                self.error(item.value_span.shifted(error.offset), f"{what}: {error.message}")
                continue
            found.append(_Written(phrase, item))
        return found

    def _references_ok(
        self,
        written: _Written,
        lists: Mapping[str, list[Phrase]],
        category: RiskCategory | None,
        used: set[str],
    ) -> bool:
        ok = True
        for reference in written.phrase.references():
            if reference.name not in lists:
                self.error(
                    written.scalar.value_span.shifted(reference.offset),
                    f"there is no word list `{reference.name}` under `words`"
                    f"{did_you_mean(reference.name, lists)}",
                )
                ok = False
            used.add(reference.name)
        parts = (written.phrase.body, *written.phrase.also)
        if category is not RiskCategory.IDENTIFYING_INFO and any(map(_has_details, parts)):
            self.error(
                written.scalar.value_span,
                "`{words}` marks a personal detail to hide; it belongs in `identifying_info` only",
            )
            ok = False
        return ok


def _has_details(seq: Seq) -> bool:
    return any(
        isinstance(item, Details)
        or (isinstance(item, Alt) and any(_has_details(option) for option in item.options))
        for item in seq.items
    )
