"""The studio over HTTP (aiohttp's test server on loopback): the graph, a node's texts in
every locale, the player on the real runtime, live revalidation, and what it refuses."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from redirection_bot.cli import main
from redirection_bot.program.load import ProgramSources
from redirection_bot.studio.app import StudioSettings, create_app
from redirection_bot.turn.actions import registered_action_names
from tests.bilingual import write_bilingual

TESTS = """\
tests:
  - name: feeling good
    steps:
      - choose: good
      - end: true
"""


@pytest.fixture
def program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ProgramSources:
    monkeypatch.chdir(tmp_path)
    sources = write_bilingual(tmp_path)
    (tmp_path / "tests.yaml").write_text(TESTS, encoding="utf-8")
    return sources


@pytest.fixture
async def studio(program: ProgramSources, tmp_path: Path) -> AsyncIterator[TestClient]:
    settings = StudioSettings(program, tests=tmp_path / "tests.yaml")
    app = create_app(settings, registered_action_names())
    async with TestClient(TestServer(app)) as client:
        yield client


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


async def page(client: TestClient, url: str) -> str:
    response = await client.get(url)
    assert response.status == 200, await response.text()
    return await response.text()


async def play(client: TestClient, player: str, action: str, **form: str) -> str:
    response = await client.post(f"/api/player/{player}/{action}", data=form)
    assert response.status == 200
    return await response.text()


async def new_player(client: TestClient, locale: str = "en") -> tuple[str, str]:
    response = await client.post("/api/player", data={"locale": locale})
    assert response.status == 200
    html = await response.text()
    found = re.search(r'data-player="([^"]+)"', html)
    assert found
    return found.group(1), html


async def test_the_page_draws_a_flow_with_a_box_per_node_and_its_ways_on(
    studio: TestClient,
) -> None:
    html = await page(studio, "/")
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="flow-graph"' in html
    assert 'id="node-main.ask"' in html and 'id="node-main.bye"' in html
    assert 'data-source="ask" data-target="bye"' in html
    assert 'href="/?flow=helpdesk&amp;locale=en"' in html
    helpdesk = await page(studio, "/?flow=helpdesk")
    assert 'id="node-helpdesk.offer"' in helpdesk and "A person will come." in helpdesk


async def test_a_node_shows_its_texts_in_every_locale_marked(
    studio: TestClient, program: ProgramSources, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["i18n", "mark-done", "--locale", "es", "--all"]) == 0
    assert main(["i18n", "add-locale", "pt"]) == 0
    edit(program.locales / "main.en.yml", "How are you?", "How are you today?")

    html = await page(studio, "/?flow=main&node=ask")

    row = html[html.index('<tr data-key="main.question">') :]
    row = row[: row.index("</tr>")]
    assert re.findall(r'data-locale="(\w+)"', row) == ["en", "es", "pt"]
    assert '<td class="source" data-locale="en" lang="en">How are you today?</td>' in row
    assert 'class="status-needs-update" data-locale="es"' in row
    assert 'translated from: <q lang="en">How are you?</q>' in row
    assert 'class="status-missing" data-locale="pt"' in row
    assert 'class="status-done" data-locale="es"' in html  # the other texts of the node
    assert "translation(s) missing or needing an update" in html  # the badge on the graph


async def test_the_player_plays_showing_text_keys_nodes_and_slots(studio: TestClient) -> None:
    player, html = await new_player(studio)
    assert 'data-at="main.ask"' in html
    assert '<code class="key">main.question</code><span class="text">How are you?</span>' in html
    assert '<button name="choice" value="good" title="good">Good</button>' in html

    html = await play(studio, player, "choose", choice="good")

    assert '<li class="line trace">' in html and "main.bye" in html
    assert "Bye, you said Good." in html
    assert '<tr class="set" data-slot="mood"><th scope="row">mood</th><td>good</td>' in html
    assert "the conversation ended" in html


async def test_the_player_jumps_to_any_node_keeping_what_it_remembers(studio: TestClient) -> None:
    player, _html = await new_player(studio)
    await play(studio, player, "say", text="bad")
    html = await play(studio, player, "jump", place="main.ask")
    assert "jumped to main.ask" in html and 'data-at="main.ask"' in html
    assert "<td>bad</td>" in html

    html = await play(studio, player, "jump", place="main.nowhere")
    assert "there is no node `main.nowhere`" in html


async def test_the_player_starts_again_in_another_language(studio: TestClient) -> None:
    player, _html = await new_player(studio)
    html = await play(studio, player, "restart", locale="es")
    assert "started again in `es`" in html and "¿Cómo estás?" in html
    assert 'data-locale="es"' in html


async def test_typed_words_are_escaped_in_the_transcript(studio: TestClient) -> None:
    player, _html = await new_player(studio)
    html = await play(studio, player, "say", text="<b>hello</b>")
    assert "<b>hello</b>" not in html and "&lt;b&gt;hello&lt;/b&gt;" in html


async def test_an_error_on_disk_appears_located_and_goes_when_fixed(
    studio: TestClient, program: ProgramSources
) -> None:
    flow = program.dialogues / "flows" / "main.yaml"
    edit(flow, "    say: main.bye", "    sya: main.bye")

    status = await (await studio.get("/api/status")).json()

    assert status["errors"] >= 1
    assert "dialogues/flows/main.yaml:9:5</code> error: `sya` is not a field" in status["problems"]
    html = await page(studio, "/")
    assert "The graph and the player show the last valid version." in html
    assert 'id="node-main.ask"' in html

    edit(flow, "    sya: main.bye", "    say: main.bye")
    status = await (await studio.get("/api/status")).json()
    assert (status["errors"], status["problems"]) == (0, "")


async def test_the_player_keeps_its_place_when_a_text_changes(
    studio: TestClient, program: ProgramSources
) -> None:
    player, _html = await new_player(studio)
    edit(program.locales / "main.en.yml", "How are you?", "How do you feel?")

    html = await page(studio, f"/api/player/{player}")

    assert "the program changed; still at main.ask" in html
    assert "How do you feel?" in html and 'data-at="main.ask"' in html


async def test_the_player_starts_again_when_its_node_is_gone(
    studio: TestClient, program: ProgramSources
) -> None:
    player, _html = await new_player(studio)
    await play(studio, player, "jump", place="main.bye")
    flow = program.dialogues / "flows" / "main.yaml"
    edit(flow, "    next: bye\n  bye:", "    next: goodbye\n  goodbye:")

    html = await page(studio, f"/api/player/{player}")

    assert "main.bye is gone: started again" in html and 'data-at="main.ask"' in html


async def test_the_translations_page_filters_by_status(
    studio: TestClient, program: ProgramSources
) -> None:
    assert main(["i18n", "mark-done", "--locale", "es", "main"]) == 0
    edit(program.locales / "main.en.yml", "Good", "Fine")

    html = await page(studio, "/translations?status=needs+update")

    assert "1 text(s) with a translation that needs an update" in html
    assert '<tr data-key="main.mood_good">' in html and 'data-key="main.bye"' not in html


async def test_the_coverage_page_runs_the_conversation_tests(studio: TestClient) -> None:
    html = await page(studio, "/coverage")
    assert "1 of 1 conversation tests pass" in html
    assert '<a href="/?flow=main">main</a>' in html
    assert "<code>ask:bad (" in html and "main.yaml:6)</code>" in html
    assert '<strong id="coverage-total">' in html


async def test_every_response_forbids_outside_resources(studio: TestClient) -> None:
    for url in ("/", "/static/studio.js", "/api/status"):
        response = await studio.get(url)
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy
        assert response.headers["Referrer-Policy"] == "no-referrer"
    html = await page(studio, "/")
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html


async def test_a_request_for_another_host_is_refused(program: ProgramSources) -> None:
    settings = StudioSettings(program, allowed_hosts=frozenset({"127.0.0.1:1"}))
    async with TestClient(TestServer(create_app(settings))) as client:
        refused = await client.get("/")
        assert refused.status == 421
        allowed = await client.get("/", headers={"Host": "127.0.0.1:1"})
        assert allowed.status == 200


async def test_a_program_that_never_was_valid_says_so(tmp_path: Path) -> None:
    sources = write_bilingual(tmp_path)
    (sources.dialogues / "program.yaml").write_text("program: [\n", encoding="utf-8")
    async with TestClient(TestServer(create_app(StudioSettings(sources)))) as client:
        html = await page(client, "/")
        assert "There is no valid program yet." in html and 'class="errors"' in html
        response = await client.post("/api/player", data={"locale": "en"})
        assert response.status == 409


def test_a_port_in_use_is_said_plainly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sources = write_bilingual(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        arguments = ["--dialogues", str(sources.dialogues), "--locales", str(sources.locales)]
        status = main(["studio", *arguments, "--port", str(port)])
    said = capsys.readouterr().err
    assert status == 1
    assert f"the studio cannot listen on 127.0.0.1:{port}: address already in use" in said
    assert "studio: http" not in said and "Traceback" not in said
