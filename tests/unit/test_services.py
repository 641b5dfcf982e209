"""The services directory: every listed country has an emergency number, a crisis line and
a youth service, in every locale; kinds stay apart; numbers can be dialled as shown."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from redirection_bot.authoring.testing import TODAY
from redirection_bot.engine import new_state
from redirection_bot.program.load import LoadedProgram
from redirection_bot.program.render import Renderer
from redirection_bot.services import INTERNATIONAL, Contact
from redirection_bot.turn.actions import ActionCall, RasaActionRunner
from tests.conftest import WriteProgram

Problems = Any
LOCALES = ("en", "es", "fi")


def listed_countries(shipped: LoadedProgram) -> list[str]:
    """The countries a person can choose (the `country` slot), "Somewhere else" aside."""
    return [v.upper() for v in shipped.program.slots["country"].values if v != "other"]


def test_every_listed_country_has_an_emergency_number_a_crisis_line_and_a_youth_service(
    shipped: LoadedProgram,
) -> None:
    assert len(listed_countries(shipped)) >= 9
    assert shipped.services.gaps(listed_countries(shipped)) == []


def test_a_country_without_them_is_reported(shipped: LoadedProgram) -> None:
    assert shipped.services.gaps(["BR"]) == [
        "BR has no emergency number",
        "BR has no crisis line",
        "BR has no youth service",
    ]


@pytest.mark.parametrize("locale", LOCALES)
def test_in_every_locale_each_country_finds_crisis_lines_and_youth_services(
    shipped: LoadedProgram, locale: str
) -> None:
    for country in [*listed_countries(shipped), None]:
        crisis = shipped.services.crisis_lines(locale, country)
        youth = shipped.services.youth_services(locale, country)
        assert crisis and youth, (locale, country)
        for service in crisis + youth:
            assert shipped.catalog.has(service.description_key, locale), service.id


def test_every_service_and_emergency_number_names_its_source_and_date_checked(
    shipped: LoadedProgram,
) -> None:
    entries = [*shipped.services.services, *shipped.services.emergency]
    for entry in entries:
        assert entry.source.startswith(("https://", "http://")), entry
        assert entry.checked <= TODAY, entry


@pytest.mark.parametrize("locale", LOCALES)
def test_crisis_lines_never_include_a_service_about_sexual_interest_in_children(
    shipped: LoadedProgram, locale: str
) -> None:
    for country in [*listed_countries(shipped), None]:
        found = shipped.services.crisis_lines(locale, country)
        assert all("own_behaviour" not in s.topics for s in found), (locale, country)
        assert "troubled_desire" not in {s.id for s in found}


def test_somewhere_else_gets_international_crisis_lines_and_no_country_number(
    shipped: LoadedProgram,
) -> None:
    found = shipped.services.crisis_lines("fi", None)
    assert found and all(INTERNATIONAL in s.countries for s in found)
    assert shipped.services.emergency_numbers(None) is None
    # The international directories never push a country's own crisis line aside.
    assert [s.id for s in shipped.services.crisis_lines("en", "GB")] == ["samaritans"]


def test_letters_in_a_number_are_also_shown_as_digits() -> None:
    prevent = Contact("phone", "1.888.PREVENT")
    assert prevent.shown == "1.888.PREVENT (1-888-773-8368)"
    assert {link.href for link in prevent.links()} == {"tel:18887738368"}
    assert Contact("phone", "+358 9 2525 0111").links()[0].href == "tel:+358925250111"
    assert Contact("web", "findahelpline.com").links() == ()


async def run_services(
    shipped: LoadedProgram, locale: str, **slots: Any
) -> list[tuple[str, tuple[str, ...]]]:
    state = replace(new_state(shipped.program), slots=slots, locale=locale)
    result = await RasaActionRunner(shipped).run(ActionCall("action_services", state, "abc"))
    shown = Renderer(shipped.catalog).outputs(list(result.messages), locale)
    return [(m.text, tuple(link.href for link in m.links)) for m in shown]  # type: ignore[union-attr]


@pytest.mark.parametrize("locale", LOCALES)
async def test_youth_services_are_found_for_every_country_in_every_locale(
    shipped: LoadedProgram, locale: str
) -> None:
    """What "Show me services for young people" (safety_minor) lists."""
    for country in [*listed_countries(shipped), "OTHER"]:
        shown = await run_services(
            shipped, locale, country=country.lower(), service_topics=["youth"]
        )
        texts = [text for text, _links in shown]
        # "Somewhere else" is told its country is not listed, then the directories
        key = "services.intro_unlisted" if country == "OTHER" else "services.intro"
        intro = shipped.catalog.render(key, locale)
        assert intro in texts, (locale, country)
        assert len(texts) > texts.index(intro) + 1, (locale, country)


NO_CHILD_PROTECTION_YET: set[str] = {"NZ", "DE"}
"""Listed countries with no sourced service for someone who knows a child is being harmed
(dialogues/services.yaml says why): a bystander there gets the emergency number and the
international directories. Adding one means taking its country off this list."""


async def test_someone_who_knows_a_child_is_harmed_finds_a_service_where_one_is_sourced(
    shipped: LoadedProgram,
) -> None:
    """What the bystander path of `safety_child_at_risk` lists (`child_protection`)."""
    for country in listed_countries(shipped):
        found = shipped.services.find("en", country, ["child_protection"])
        own = [s for s in found if "child_protection" in s.topics and country in s.countries]
        assert bool(own) is (country not in NO_CHILD_PROTECTION_YET), country


async def test_the_emergency_number_comes_first_written_out_and_tap_to_call(
    shipped: LoadedProgram,
) -> None:
    shown = await run_services(shipped, "es", country="co", service_topics=["suicide", "crisis"])
    assert "123" in shown[0][0] and shown[0][1] == ("tel:123",)
    elsewhere = await run_services(shipped, "en", country="other")
    assert "112 or 911" in elsewhere[0][0]
    assert elsewhere[0][1] == ("tel:112", "tel:911")


def test_a_service_both_about_own_behaviour_and_a_crisis_line_is_refused(
    write: WriteProgram, problems: Problems
) -> None:
    services = """\
services:
  - id: mixed
    name: "Mixed"
    countries: [GB]
    languages: [en]
    topics: [own_behaviour, suicide]
    contacts:
      - phone: "123"
    source: "https://example.org/mixed"
    checked: 2026-01-01
"""
    locales = {"services.en.yml": 'en:\n  mixed:\n    description: "Listens."\n'}
    found = problems(write(extra_files={"dialogues/services.yaml": services}, locales=locales))
    assert any("never also a crisis line" in line for line in found), found


def test_an_emergency_number_without_a_source_is_an_error(
    write: WriteProgram, problems: Problems
) -> None:
    services = """\
emergency:
  - countries: [GB]
    numbers: ["999"]
    checked: 2026-01-01
services: []
"""
    found = problems(write(extra_files={"dialogues/services.yaml": services}))
    assert any("source" in line and "error" in line for line in found), found
