"""The services directory as a person meets it on the page without JavaScript and in the
downloaded plan: numbers one can tap to call, and digits one can dial."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient
from tests.integration.webchat.conftest import choose, page_at, press, say, start, text_of

Client = TestClient[Any, Any]


async def services_for(client: Client, country_key: str) -> Any:
    """ "Talk to a person" -> "Show me helplines" -> a country, as a person would press them."""
    page = await start(client)
    page = await page_at(client, await press(client, page, "command", command="help"))
    page = await choose(client, page, text_of(client, "support.see_services"))
    return await choose(client, page, text_of(client, country_key))


async def test_the_page_without_script_shows_numbers_as_tap_to_call_links(client: Client) -> None:
    page = await services_for(client, "countries.us")
    assert '<a href="tel:911">911</a>' in page.html  # the emergency number, written out
    assert '<a href="tel:988">988</a>' in page.html  # the crisis line
    assert '<a href="tel:18887738368">1-888-773-8368</a>' in page.html  # letters as digits
    assert "988lifeline.org" in page.html  # a number inside a web address is not a link
    # Every tel: link on the page dials digits only.
    for href in re.findall(r'href="(tel:[^"]*)"', page.html):
        assert re.fullmatch(r"tel:\+?\d+", href), href


async def test_somewhere_else_gets_112_911_and_international_options(client: Client) -> None:
    page = await services_for(client, "countries.other")
    assert '<a href="tel:112">112</a>' in page.html and '<a href="tel:911">911</a>' in page.html
    assert "findahelpline.com" in page.html


async def test_the_plan_ends_with_the_emergency_number_and_crisis_lines_in_digits(
    client: Client,
) -> None:
    page = await services_for(client, "countries.us")
    plan = await (await client.get(f"/c/{page.token}/plan.txt")).text()
    assert "911" in plan and "988" in plan
    assert "1.888.PREVENT (1-888-773-8368)" in plan  # letters also as digits
    crisis = plan.split(text_of(client, "plan.crisis"))[1]
    assert "988" in crisis and "Stop It Now" not in crisis  # crisis lines only, in a crisis
    assert "<a" not in plan


async def test_the_plan_of_someone_somewhere_else_is_never_without_a_number(
    client: Client,
) -> None:
    page = await start(client)
    plan = await (await client.get(f"/c/{page.token}/plan.txt")).text()
    assert "112" in plan and "911" in plan
    assert "findahelpline.com" in plan


async def test_the_most_urgent_advice_has_its_emergency_numbers_as_tap_to_call_links(
    client: Client,
) -> None:
    """The tenth retest: "Please call 112 or 911 ... now", the answer to "Yes, I'm in danger
    now", showed its numbers as plain text on a page without JavaScript; tel: links came only
    once a country's services were listed."""
    page = await say(client, await start(client), "i want to end my life")
    assert '<a href="tel:112">112</a>' in page.html  # in the danger question already
    page = await choose(client, page, text_of(client, "safety.suicide.in_danger"))
    advice = text_of(client, "safety.suicide.emergency").split(" or the")[0]
    assert advice.endswith("112 or 911")
    assert 'call <a href="tel:112">112</a> or <a href="tel:911">911</a>' in page.html
