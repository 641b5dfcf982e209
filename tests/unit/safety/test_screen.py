"""Screening one message: categories, conservative handling of negations and hypotheticals,
and identifying details hidden before anything is stored."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from redirection_bot.diagnostics import Diagnostics
from redirection_bot.safety.categories import RiskCategory, RiskHit
from redirection_bot.safety.identifiers import HIDDEN_MARK, find_identifiers, hide
from redirection_bot.safety.rules import load_rules_folder
from redirection_bot.safety.screen import Screener
from tests.helpers import REPOSITORY

SUICIDE = RiskCategory.SUICIDE
HUMAN = RiskCategory.HUMAN
IDENTIFYING = RiskCategory.IDENTIFYING_INFO


@pytest.fixture(scope="module")
def shipped() -> Screener:
    diagnostics = Diagnostics()
    rules = load_rules_folder(
        REPOSITORY / "dialogues" / "safety", ["en", "es", "fi"], [], diagnostics
    )
    assert not diagnostics.has_errors()
    return Screener(rules)


def small(tmp_path: Path, en: str, fi: str | None = None) -> Screener:
    folder = tmp_path / "safety"
    folder.mkdir()
    (folder / "en.yaml").write_text(textwrap.dedent(en), encoding="utf-8")
    if fi is not None:
        (folder / "fi.yaml").write_text(textwrap.dedent(fi), encoding="utf-8")
    diagnostics = Diagnostics()
    rules = load_rules_folder(folder, ["en", "fi"], [], diagnostics)
    assert not diagnostics.has_errors(), diagnostics.items
    return Screener(rules)


RULES = """\
locale: en
hedges:
  before: [not, never, "what if"]
  after: ["just kidding"]
  breaks: [but]
categories:
  suicide:
    phrases: ["want to die", "kill myself"]
    check: ["disappear forever"]
    except: ["dying to (see|know)", "want to die (of|from) (shame|embarrassment)"]
  human:
    phrases: ["talk to a person"]
"""


@pytest.mark.parametrize(
    ("text", "certain"),
    [
        ("i want to die", True),
        ("i dont want to die", True),  # "dont" is no hedge in these small rules
        ("i would never kill myself", False),
        ("i'm not sure, i want to die", True),  # a comma ends the reach of "not"
        ("not ok but i want to die", True),  # so does a break word
        ("not one two three want to die", True),  # and distance: two words at most between
        ("what if i want to die", False),
        ("i want to die just kidding", False),
        ("i want to disappear forever", False),  # a check phrase is always "check first"
        ("not kill myself. i want to die", True),  # one plain mention makes it certain
    ],
)
def test_negations_and_hypotheticals_make_a_hit_uncertain_never_absent(
    tmp_path: Path, text: str, certain: bool
) -> None:
    screening = small(tmp_path, RULES).screen(text, "en")
    assert screening.hits == (RiskHit(SUICIDE, certain),)


def test_an_exception_cancels_only_the_idiom_it_overlaps(tmp_path: Path) -> None:
    screener = small(tmp_path, RULES)
    assert screener.screen("i want to die of shame lol", "en").hits == ()
    assert screener.screen("dying to see you. i want to die", "en").categories == (SUICIDE,)


def test_categories_come_in_a_fixed_order(tmp_path: Path) -> None:
    screening = small(tmp_path, RULES).screen("talk to a person, i want to die", "en")
    assert screening.categories == (SUICIDE, HUMAN)


def test_every_locales_rules_screen_every_message_and_hedge_each_other(tmp_path: Path) -> None:
    fi = """\
    locale: fi
    repeated_letters: two
    hedges:
      before: [en]
    categories:
      suicide:
        phrases: ["haluan kuolla"]
    """
    screener = small(tmp_path, RULES, fi)
    assert screener.screen("haluan kuolla", "en").hits == (RiskHit(SUICIDE),)
    assert screener.screen("haluan kuolla", "en", only_locale=True).hits == ()
    assert screener.screen("not haluan kuolla", "en").hits == (RiskHit(SUICIDE, False),)


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("mail me at jo.smith+x@mail.co.uk now", ["jo.smith+x@mail.co.uk"]),
        ("call 07700 900123 or +44 7700 900456", ["07700 900123", "+44 7700 900456"]),
        ("(555) 123-4567", ["(555) 123-4567"]),
        (
            "see www.example.com/me and facebook.com/peter.j",
            ["www.example.com/me", "facebook.com/peter.j"],
        ),
        (
            "i'm @lost_soul88 and u/throwaway_1 and shadow#4821",
            ["@lost_soul88", "u/throwaway_1", "shadow#4821"],
        ),
        ("ip 192.168.1.24", ["192.168.1.24"]),
        ("hetu 131052-308T", ["131052-308T"]),
        ("dni 12345678Z curp GOML850101HDFRRS09", ["12345678Z", "GOML850101HDFRRS09"]),
        ("postcode SW1A 1AA", ["SW1A 1AA"]),
        ("clean since 12.05.2024, im 15, 2 weeks, 1000 days", []),
    ],
)
def test_identifying_details_with_a_shape_of_their_own_are_found(
    text: str, hidden: list[str]
) -> None:
    assert [text[start:end] for start, end in find_identifiers(text)] == hidden


def test_hiding_replaces_each_detail_with_one_mark() -> None:
    text = "a 07700 900123 b x@y.org"
    assert hide(text, find_identifiers(text)) == f"a {HIDDEN_MARK} b {HIDDEN_MARK}"


@pytest.mark.parametrize(
    ("locale", "text", "redacted"),
    [
        ("en", "My name is John Smith, I need help", "My name is […], I need help"),
        ("en", "i live at 12 Baker Street in town", "i live at […]"),
        ("en", "my snap is dark_knight99 ok", "my snap is […]"),
        ("es", "me llamo Carlos Ramírez, ayuda", "me llamo […], ayuda"),
        ("fi", "nimeni on Matti Virtanen. apua", "nimeni on […]. apua"),
        ("fi", "asun Hämeenkatu 5 B 12", "asun […] 12"),
    ],
)
def test_identifying_phrases_hide_the_detail_they_mark(
    shipped: Screener, locale: str, text: str, redacted: str
) -> None:
    screening = shipped.screen(text, locale)
    assert IDENTIFYING in screening.categories
    assert screening.redacted == redacted
    assert screening.hidden >= 1


def test_text_without_details_is_passed_on_unchanged(shipped: Screener) -> None:
    text = "I want to be a better dad, and I'm 34"
    screening = shipped.screen(text, "en")
    assert screening.hits == () and screening.redacted == text and screening.hidden == 0


@pytest.mark.parametrize(
    ("locale", "text", "category", "certain"),
    [
        ("en", "i want to kms tonight", RiskCategory.SUICIDE, True),
        ("en", "I'm not suicidal, just tired", RiskCategory.SUICIDE, False),
        ("en", "im alone with my niece", RiskCategory.CHILD_AT_RISK, False),
        ("en", "got any links?", RiskCategory.ILLEGAL_REQUEST, True),
        ("en", "are you a bot", RiskCategory.HUMAN, False),
        ("es", "no aguanto, quiero morirme", RiskCategory.SUICIDE, True),
        ("es", "soy menor de edad", RiskCategory.MINOR, True),
        # An outside tester in crisis: a plan made, not a question to check.
        (
            "es",
            "ya tengo todo preparado para acabar con esto esta noche",
            RiskCategory.SUICIDE,
            True,
        ),
        ("fi", "haluun puhua jonkun kanssa", RiskCategory.HUMAN, True),
        ("fi", "olen ihan romuna", RiskCategory.DISTRESS, True),
        ("en", "k.i.l.l m.y.s.e.l.f", RiskCategory.SUICIDE, True),
        ("es", "quiero m o r i r", RiskCategory.SUICIDE, True),
        ("fi", "haluan k-u-o-l-l-a", RiskCategory.SUICIDE, True),
        ("en", "#IWantToKillMyself", RiskCategory.SUICIDE, True),
        ("en", "i want to ⓚⓘⓛⓛ myself", RiskCategory.SUICIDE, True),
        # ... while the risk beside such an idiom is still read:
        ("en", "i cut myself again last night", RiskCategory.SUICIDE, True),
        ("es", "quiero quemarme", RiskCategory.SUICIDE, True),
        ("es", "me corte otra vez anoche", RiskCategory.SUICIDE, True),
        ("fi", "haluun tappaa itteni", RiskCategory.SUICIDE, True),
    ],
)
def test_the_shipped_rules_read_people_as_they_type(
    shipped: Screener, locale: str, text: str, category: RiskCategory, certain: bool
) -> None:
    assert shipped.screen(text, locale).hit(category) == RiskHit(category, certain)


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("en", "i looked at that stuff again last night and i want to stop"),
        ("en", "my son is 15 and plays football"),
        ("en", "i would never hurt a child"),
        ("es", "anoche lo volvi a ver y me siento fatal"),
        ("fi", "tapaan ystäviä illalla"),
        ("fi", "poikani on 15"),
        ("fi", "tää treeni tappaa mut"),  # an outside tester's finding: a full crisis flow
        ("es", "tengo todo listo para terminar el proyecto"),
        # Everyday idioms the rules took for self-harm or a crisis (the tuning split's neutral lines):
        ("en", "my battery is about to die so quick reply"),
        ("en", "cut myself shaving this morning"),
        ("en", "i've been cutting down on drinking"),
        ("es", "me corte el pelo hoy y quede mejor"),
        ("es", "trato de no quedarme despierto hasta tarde"),  # read as "quemarme", one typo away
        ("es", "el examen de hoy me mato jaja"),
        ("fi", "pomo tappaa mut jos myöhästyn taas"),
        ("fi", "hirttäydyin ihan kiinni siihen yhteen ajatukseen"),
        # Tired of the secret, not of life (the forty-third retest: a suicide check each).
        ("en", "im 45, married 20 yrs, and im sick of living a double life"),
        ("en", "id rather die than ever hurt a kid, thats why im here"),
        ("es", "tengo 38 años y ya estoy harto de vivir así, con esta doble vida"),
    ],
)
def test_everyday_talk_about_the_program_raises_nothing(
    shipped: Screener, locale: str, text: str
) -> None:
    assert shipped.screen(text, locale).hits == ()


@pytest.mark.parametrize(
    ("locale", "typed"),
    [("en", "my 6yo daughter"), ("es", "mi hija de 6"), ("fi", "mun 6v tyttö")],
)
def test_a_child_of_ones_own_is_asked_about_only_where_it_is_typed_as_a_trigger(
    shipped: Screener, locale: str, typed: str
) -> None:
    """``check_in_answers``: the same words raise the check question as an answer to "what
    else triggers you?" (the ninth retest: "mi hija de 6" was kept as a trigger), and nothing
    as an answer elsewhere ("why do you want to change?") or in everyday talk."""
    at_trigger = shipped.screen(typed, locale, answering="own_triggers").hits
    assert at_trigger == (RiskHit(RiskCategory.CHILD_AT_RISK, False, False, from_answer=True),)
    assert not shipped.screen(typed, locale, answering="reasons", with_model=False).hits


@pytest.mark.parametrize(
    ("locale", "asking", "requesting"),
    [
        ("en", "can u send me the link to that", "send me the link to cp"),
        ("es", "me puedes pasar el link de eso", "pasame links de cp"),
        ("fi", "laita se linkki", "laita linkkejä cp"),
    ],
)
def test_asking_for_the_link_where_crisis_lines_were_shown_is_not_a_request(
    shipped: Screener, locale: str, asking: str, requesting: str
) -> None:
    """``except_in_flows``: typed in the suicide flow, after its crisis lines, "send me the
    link to that" asks for theirs; elsewhere it is a request. An exception of a flow cancels
    only what it holds whole: a request naming material is still one there."""
    request = RiskCategory.ILLEGAL_REQUEST
    # one list, repeated by alias for every flow that shows help, compiled once
    for flow in ("safety_suicide", "safety_services", "further_help"):
        assert shipped.screen(asking, locale, in_flow=flow).hit(request) is None
    assert shipped.screen(asking, locale).hit(request) is not None
    assert shipped.screen(asking, locale, in_flow="triggers").hit(request) is not None
    there = shipped.screen(requesting, locale, in_flow="safety_suicide").hit(request)
    assert there is not None and there.certain


def test_a_list_repeated_by_alias_is_compiled_once(shipped: Screener) -> None:
    """Eight flows share one list of exceptions (`*where_help_is_shown`): the index holds it
    once and its matches stand for every flow (bench/screen.py: a typical message's screening
    grew by half while each alias compiled its own copy)."""
    rules = shipped.rules("en")
    assert rules is not None
    flows = rules.categories[RiskCategory.ILLEGAL_REQUEST].in_flows
    assert len(flows) >= 8
    assert len({id(phrases) for phrases in flows.values()}) == 1
    assert any(len(tags) >= 8 for tags in rules.tag_aliases.values())
