"""Texts through python-i18n: per-call locale, no silent fallback, catalogs kept apart."""

from __future__ import annotations

import pytest

from redirection_bot.diagnostics import Span
from redirection_bot.language.i18n import (
    Catalog,
    Entry,
    FallbackPolicy,
    MissingTranslation,
    placeholders,
)

HERE = Span("x.yml", 1, 1)


def catalog(policy: FallbackPolicy = FallbackPolicy.NEVER, **texts: dict[str, str]) -> Catalog:
    entries = {
        locale: {key: Entry(key, locale, text, HERE) for key, text in by_key.items()}
        for locale, by_key in texts.items()
    }
    return Catalog(entries, "en", policy)


def test_each_call_names_its_locale() -> None:
    both = catalog(en={"a.hi": "Hello %{name}"}, fi={"a.hi": "Hei %{name}"})
    assert both.render("a.hi", "fi", {"name": "Aino"}) == "Hei Aino"
    assert both.render("a.hi", "en", {"name": "Ann"}) == "Hello Ann"


def test_missing_text_is_an_error_by_default() -> None:
    only_english = catalog(en={"a.hi": "Hello"})
    with pytest.raises(MissingTranslation):
        only_english.render("a.hi", "fi")


def test_fallback_to_the_default_locale_only_when_chosen() -> None:
    only_english = catalog(FallbackPolicy.DEFAULT_LOCALE, en={"a.hi": "Hello"})
    assert only_english.render("a.hi", "fi") == "Hello"


def test_two_catalogs_in_one_process_do_not_mix() -> None:
    first = catalog(en={"a.hi": "First"})
    second = catalog(en={"a.hi": "Second"})
    assert (first.render("a.hi", "en"), second.render("a.hi", "en")) == ("First", "Second")
    second.close()
    assert first.render("a.hi", "en") == "First"


def test_invariant_texts_exist_in_every_locale() -> None:
    both = catalog(en={"a.hi": "Hello"}, fi={"a.hi": "Hei"})
    both.add_invariant("services.x.name", "Samaritans", HERE)
    assert both.render("services.x.name", "fi") == "Samaritans"


def test_double_percent_is_a_percent_sign() -> None:
    assert catalog(en={"a.p": "100%% sure"}).render("a.p", "en") == "100% sure"


@pytest.mark.parametrize(
    ("text", "names", "problems"),
    [
        ("Hi %{name}, %{age}", {"name", "age"}, 0),
        ("100%% sure", set(), 0),
        ("100% sure", set(), 1),
        ("50%off", set(), 1),
    ],
)
def test_placeholders(text: str, names: set[str], problems: int) -> None:
    found, found_problems = placeholders(text)
    assert set(found) == names
    assert len(found_problems) == problems
