"""The door from a partner platform in a real Chromium, JavaScript off and on: a person follows
``/?from=<partner>`` from a warning, reads the short deterrence-and-help flow, goes on into the
welcome, and the operator reads the funnel (small counts suppressed) at the admin listener."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPOSITORY, bot_command, free_port, wait_until
from tests.integration.webchat.process import fetch, server_environment, status_of

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000
CONFIG = """\
partners:
  suppress_below: 2
  platforms:
    - {id: example_site, locale: en}
"""


@dataclass(frozen=True)
class Served:
    url: str
    admin: str
    log: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``redirection-bot -v serve`` with one partner declared (logging on, to read the log)."""
    folder = tmp_path_factory.mktemp("door")
    port, admin = free_port(), free_port()
    config = folder / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    log = folder / "serve.log"
    with log.open("w") as stream:
        process = subprocess.Popen(
            [*bot_command(), "-v", "serve", "--config", str(config), "--port", str(port)],
            cwd=REPOSITORY,
            env={**server_environment(), "REDIRECTION_BOT_ADMIN__PORT": str(admin)},
            stdout=subprocess.DEVNULL,
            stderr=stream,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: status_of(url + "/") == 200, timeout=30, what="the web chat answers")
        yield Served(url, f"http://127.0.0.1:{admin}", log)
    finally:
        process.terminate()
        process.wait(timeout=10)


async def follow_the_link(browser: Any, served: Served, javascript: bool, partner: str) -> Any:
    context = await browser.new_context(java_script_enabled=javascript)
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{served.url}/?from={partner}")
    return page


async def lines(page: Any) -> list[str]:
    return [" ".join(t.split()) for t in await page.locator("#transcript li").all_inner_texts()]


async def go_through_the_door(page: Any, javascript: bool) -> None:
    await page.get_by_role("button", name="Start the conversation").click()
    await page.wait_for_url(re.compile(r"/c/[A-Za-z0-9_-]+"))
    assert "example_site" not in page.url
    if javascript:
        await page.wait_for_selector("body.live")
    said = await lines(page)
    assert any("warning on another website" in line for line in said)
    assert any("is a crime" in line for line in said)
    assert not any("Reaching out about this takes courage" in line for line in said)
    await page.get_by_role("button", name="Okay, go on").click()
    await page.get_by_role("button", name="Start the self-help program").wait_for()
    await page.get_by_role("button", name="Start the self-help program").click()
    for _ in range(TIMEOUT_MS // 50):  # the welcome follows (live: without a reload)
        if any("Reaching out about this takes courage" in line for line in await lines(page)):
            break
        await page.wait_for_timeout(50)
    else:
        raise TimeoutError("the welcome after the door")


async def test_the_door_with_javascript_off_then_on(browser: Any, served: Served) -> None:
    off = await follow_the_link(browser, served, javascript=False, partner="example_site")
    assert off.url.endswith("/?from=example_site")  # without script, the address stays
    await go_through_the_door(off, javascript=False)
    await off.context.close()

    on = await follow_the_link(browser, served, javascript=True, partner="example_site")
    assert on.url == served.url + "/"  # the script takes the partner out of the address bar
    await go_through_the_door(on, javascript=True)
    await on.context.close()

    status, funnel = fetch(served.admin + "/partners.csv")
    assert status == 200
    rows = [line.split(",", 1)[1] for line in funnel.splitlines()[1:]]
    assert rows == ["example_site,shown,2", "example_site,started,2"]
    assert "example_site" not in served.log.read_text(encoding="utf-8")


async def test_an_unknown_partner_gets_the_normal_welcome(browser: Any, served: Served) -> None:
    page = await follow_the_link(browser, served, javascript=False, partner="made_up_site")
    assert "made_up_site" not in await page.content()
    await page.get_by_role("button", name="Start the conversation").click()
    await page.wait_for_url(re.compile(r"/c/[A-Za-z0-9_-]+"))
    assert any("Reaching out about this takes courage" in line for line in await lines(page))
    await page.context.close()
    assert "made_up_site" not in served.log.read_text(encoding="utf-8")
    assert "made_up_site" not in fetch(served.admin + "/partners.csv")[1]
