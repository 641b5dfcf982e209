"""The studio in a real Chromium, as a clinician uses it: `redirection-bot studio` started as a
process on a temporary copy of a program, the graph, a node's texts side by side, playing a
flow, and an error made on disk that appears on the page and goes when it is fixed.

With ``STUDIO_SCREENSHOTS=DIR`` (and ``STUDIO_SCREENSHOTS_PROGRAM`` naming a folder with
``dialogues/`` and ``locales/``), ``test_docs_screenshots`` writes the docs' pictures.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.bilingual import write_bilingual
from tests.helpers import bot_command, free_port, wait_until

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000


def start_studio(root: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [*bot_command(), "studio", "--port", str(port), "--tests", "tests"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            return False

    try:
        wait_until(answers, timeout=30, what="the studio answers")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def studio_url(tmp_path: Path) -> Iterator[str]:
    write_bilingual(tmp_path)
    yield from start_studio(tmp_path)


async def open_studio(browser: Any, url: str) -> Any:
    page = await browser.new_page(viewport={"width": 1500, "height": 950})
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(url)
    await page.wait_for_selector("#player[data-at]")
    return page


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


async def test_the_graph_shows_every_node_and_a_click_shows_its_texts_side_by_side(
    browser: Any, studio_url: str
) -> None:
    from playwright.async_api import expect

    page = await open_studio(browser, studio_url)

    nodes = page.locator("#flow-graph .node")
    await expect(nodes).to_have_count(2)
    await expect(page.locator("#flow-graph .exit")).to_have_count(0)
    await expect(page.locator('#flow-graph [data-source="ask"][data-target="bye"]')).to_have_count(
        1
    )

    await page.locator('a.node-link[data-node="main.ask"]').click()

    details = page.locator('#node-details[data-node="main.ask"]')
    await expect(details).to_be_visible()
    await expect(details.locator("thead th")).to_have_text(["text", "en", "es"])
    row = details.locator('tr[data-key="main.question"]')
    await expect(row.locator('td[data-locale="en"]')).to_have_text("How are you?")
    await expect(row.locator('td[data-locale="es"]')).to_contain_text("¿Cómo estás?")
    await expect(row.locator('td[data-locale="es"] .status')).to_have_text("untracked")
    assert page.url.endswith("/?flow=main&node=ask&locale=en")


async def test_playing_a_flow_shows_node_ids_and_slots(browser: Any, studio_url: str) -> None:
    from playwright.async_api import expect

    page = await open_studio(browser, studio_url)
    player = page.locator("#player")
    await expect(player).to_have_attribute("data-at", "main.ask")
    await expect(player.locator(".line.bot .key").first).to_have_text("main.question")
    await expect(page.locator("#flow-graph .node.current")).to_have_attribute("id", "node-main.ask")

    await player.get_by_role("button", name="Good").click()

    await expect(player).to_have_attribute("data-at", "main.bye")
    await expect(player.locator(".transcript")).to_contain_text("Bye, you said Good.")
    await expect(player.locator('tr[data-slot="mood"] td').first).to_have_text("good")
    await expect(page.locator("#flow-graph .node.current")).to_have_attribute("id", "node-main.bye")

    await player.locator("select[name=locale]").select_option("es")
    await player.get_by_role("button", name="Start again").click()
    await expect(player.locator(".transcript")).to_contain_text("¿Cómo estás?")
    await player.locator("input[name=text]").fill("mal")
    await player.locator("input[name=text]").press("Enter")
    await expect(player.locator(".transcript")).to_contain_text("Adiós, dijiste Mal.")


async def test_an_error_made_on_disk_appears_and_goes_when_fixed(
    browser: Any, studio_url: str, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page = await open_studio(browser, studio_url)
    flow = tmp_path / "dialogues" / "flows" / "main.yaml"
    problems = page.locator("#problems .errors")
    await expect(problems).to_have_count(0)

    edit(flow, "    say: main.bye", "    sya: main.bye")

    await expect(problems).to_contain_text(
        "dialogues/flows/main.yaml:9:5 error: `sya` is not a field"
    )
    await expect(page.locator("#status")).to_contain_text("error")
    await expect(page.locator("#flow-graph .node")).to_have_count(2)  # the last valid version

    edit(flow, "    sya: main.bye", "    say: main.bye")

    await expect(problems).to_have_count(0)
    await expect(page.locator("#status")).to_have_text("valid")


async def test_a_changed_text_shows_in_the_player_at_the_same_place(
    browser: Any, studio_url: str, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page = await open_studio(browser, studio_url)
    edit(tmp_path / "locales" / "main.en.yml", "How are you?", "How do you feel today?")

    player = page.locator("#player")
    await expect(player.locator(".transcript")).to_contain_text(
        "the program changed; still at main.ask"
    )
    await expect(player.locator(".line.bot").last).to_contain_text("How do you feel today?")
    await expect(page.locator("#flow-graph")).to_contain_text("How do you feel today?")


@pytest.fixture
def shipped_studio_url(tmp_path: Path) -> Iterator[str]:
    root = Path(__file__).parents[2]
    for folder in ("dialogues", "locales"):
        shutil.copytree(root / folder, tmp_path / folder)
    yield from start_studio(tmp_path)


async def test_a_long_flow_zooms_fits_its_width_and_shows_its_else_labels(
    browser: Any, shipped_studio_url: str
) -> None:
    from playwright.async_api import expect

    page = await open_studio(browser, f"{shipped_studio_url}/?flow=thinking")
    svg = page.locator("#flow-graph")
    zoom = page.locator("#graph .graph-zoom")
    await expect(zoom).to_be_visible()

    async def widths() -> tuple[float, float]:
        shown = await svg.evaluate("s => s.getBoundingClientRect().width")
        room = await page.locator("#graph .graph-scroll").evaluate("s => s.clientWidth")
        return float(shown), float(room)

    await zoom.get_by_role("button", name="zoom in").click()
    await zoom.get_by_role("button", name="zoom in").click()
    shown, room = await widths()
    assert shown > room  # zoomed in past the width: the author scrolls
    await zoom.get_by_role("button", name="fit width").click()
    shown, room = await widths()
    assert room - 4 <= shown <= room
    await expect(zoom.locator(".zoom-level")).not_to_have_text("100%")
    await zoom.get_by_role("button", name="actual size").click()
    natural = float(await svg.get_attribute("width") or 0)
    assert abs((await widths())[0] - natural) < 1
    await expect(zoom.locator(".zoom-level")).to_have_text("100%")

    # The "else" that skips a box is labelled, and the label is what one sees at its place.
    label = page.locator('#flow-graph .edge-label[data-edge="check_only_images check_already_out"]')
    await expect(label.locator("text")).to_have_text("else")
    await label.scroll_into_view_if_needed()
    on_top = await label.evaluate(
        """g => { const r = g.getBoundingClientRect();
                  const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
                  return g.contains(hit); }"""
    )
    assert on_top

    # Moving to another flow keeps the zoom the author chose.
    await zoom.get_by_role("button", name="zoom out").click()
    await expect(zoom.locator(".zoom-level")).to_have_text("80%")
    await page.locator('#flows a.flow-link[data-flow="coping"]').click()
    await expect(page.locator("#graph")).to_have_attribute("data-flow", "coping")
    await expect(page.locator("#graph .graph-zoom .zoom-level")).to_have_text("80%")


@pytest.mark.on_request
@pytest.mark.skipif(
    not os.environ.get("STUDIO_SCREENSHOTS"), reason="only to make the docs' pictures"
)
async def test_docs_screenshots(browser: Any, tmp_path: Path) -> None:
    from playwright.async_api import expect

    source = Path(os.environ.get("STUDIO_SCREENSHOTS_PROGRAM", Path(__file__).parents[2]))
    for folder in ("dialogues", "locales"):
        shutil.copytree(source / folder, tmp_path / folder)
    shutil.copytree(source / "tests" / "conversations", tmp_path / "tests")
    out = Path(os.environ["STUDIO_SCREENSHOTS"])
    out.mkdir(parents=True, exist_ok=True)
    english = tmp_path / "locales" / "welcome.en.yml"
    for url in start_studio(tmp_path):
        for locale in ("es", "fi"):
            subprocess.run(
                [*bot_command(), "i18n", "mark-done", "--locale", locale, "--all"],
                cwd=tmp_path,
                check=True,
            )
        text = english.read_text(encoding="utf-8")
        english.write_text(
            text.replace("Which of these", "Which one of these", 1), encoding="utf-8"
        )
        page = await open_studio(browser, f"{url}/?flow=welcome&node=stage")
        await expect(page.locator("#node-details .status-needs-update").first).to_be_visible()
        await page.screenshot(path=str(out / "studio-graph.png"))
        await page.locator("#node-details details").first.evaluate("d => d.open = true")
        await page.locator("#node-details").evaluate("d => { d.style.maxHeight = 'none'; }")
        await page.set_viewport_size({"width": 1500, "height": 1600})
        await page.locator("#node-details").screenshot(path=str(out / "studio-texts.png"))
        await page.set_viewport_size({"width": 1500, "height": 950})
        translations = await browser.new_page(viewport={"width": 1500, "height": 700})
        await translations.goto(f"{url}/translations?status=needs+update")
        await translations.locator("td details").first.evaluate("d => d.open = true")
        await translations.screenshot(path=str(out / "studio-translations.png"))
        player = page.locator("#player")
        for _ in range(2):
            await player.get_by_role("button", name="Okay, go on").last.click()
        await player.get_by_role("button", name="I want to stop").click()
        await player.get_by_role("button", name="No thanks").click()
        await expect(player).to_have_attribute("data-at", "motivation.reasons")
        await page.locator("aside.side").evaluate("side => side.scrollTo(0, side.scrollHeight)")
        await page.screenshot(path=str(out / "studio-player.png"))
        flow = tmp_path / "dialogues" / "flows" / "motivation.yaml"
        flow.write_text(
            flow.read_text(encoding="utf-8").replace(
                "next: importance_reflect", "next: importance_reflekt", 1
            ),
            encoding="utf-8",
        )
        await expect(page.locator("#problems .errors")).to_be_visible()
        await page.screenshot(path=str(out / "studio-error.png"))
