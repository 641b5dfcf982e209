"""The country a crisis message names, as the crisis path keeps it (the dialogue and the
notices to a person talking with an operator)."""

from __future__ import annotations

import pytest

from redirection_bot.engine.country_named import country_named
from redirection_bot.language.textnorm import fold
from redirection_bot.program.load import LoadedProgram


@pytest.mark.parametrize(
    ("locale", "typed", "country"),
    [
        # The fifty-third retest: "ireland." written to the operator with tablets lined up
        # named no country (the notice gave 112 or 911, not Ireland's 112 and 999).
        ("en", "ireland. sorry. ive the tablets lined up on the table", "ie"),
        ("en", "im from northern ireland and i cant do this anymore", "gb"),
        ("en", "uk. my hands r shaking", "gb"),
        ("es", "estoy en irlanda y ya no aguanto", "ie"),
        ("fi", "oon pohjois-irlannissa enkä jaksa", "gb"),
        ("fi", "asun irlannissa", "ie"),
        ("en", "im not in ireland, im in spain", "es"),
        ("en", "from mexico but living in spain", None),
    ],
)
def test_a_place_inside_another_s_longer_name_is_that_one_s(
    shipped: LoadedProgram, locale: str, typed: str, country: str | None
) -> None:
    assert country_named(shipped.program, locale, fold(typed)) == country
