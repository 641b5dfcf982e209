"""Privacy and security by construction: headers, no cookies, nothing from other sites, what
a person types always shown as text, and logs that hold no address, user agent or words."""

from __future__ import annotations

import asyncio
import logging
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from tests.helpers import sender_id
from tests.integration.webchat.conftest import Serve, page_at, press, say, start, text_of

from redirection_bot.operations.config import BrandingSettings

Client = TestClient[Any, Any]

# From the OWASP XSS filter evasion cheat sheet, and a few more a person might paste.
SENDER = sender_id("sender-xyz")
XSS_VECTORS = [
    "<script>alert('XSS')</script>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    '<IMG """><SCRIPT>alert("XSS")</SCRIPT>">',
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    '<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>',
    '<img src=x onerror="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099">',
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    '<SCRIPT/XSS SRC="http://xss.rocks/xss.js"></SCRIPT>',
    '<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert("XSS")>',
    '<<SCRIPT>alert("XSS");//\\<</SCRIPT>',
    "<SCRIPT SRC=http://xss.rocks/xss.js?< B >",
    '</TITLE><SCRIPT>alert("XSS");</SCRIPT>',
    '<INPUT TYPE="IMAGE" SRC="javascript:alert(\'XSS\');">',
    "<svg/onload=alert('XSS')>",
    "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>",
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(\'XSS\');">',
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    '"><script>alert(document.cookie)</script>',
    "'; alert(1); var a='",
    "{{7*7}} ${7*7} %{title}",
    "\u202egnp.exe \u2066hidden\u2069 \x1b[31mred",
]
EXPECTED_TAGS = {
    "html", "head", "meta", "title", "link", "script", "body", "header", "p", "form", "input",
    "button", "main", "h1", "h2", "div", "ol", "li", "span", "fieldset", "legend", "label",
    "nav", "ul", "a", "footer", "noscript",
}  # fmt: skip


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def markup(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Markup()
    parser.feed(html)
    return parser.elements


def assert_only_our_markup(html: str) -> None:
    elements = markup(html)
    assert {tag for tag, _ in elements} <= EXPECTED_TAGS
    scripts = [attrs.get("src") or "" for tag, attrs in elements if tag == "script"]
    assert len(scripts) == 1 and scripts[0].startswith("/static/chat.js?v=")
    for tag, attrs in elements:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert "javascript:" not in (value or "").lower(), (tag, name, value)
        if tag == "meta" and attrs.get("http-equiv"):
            assert attrs.get("content") in ("15",), attrs


async def test_whatever_a_person_types_is_shown_as_text(client: Client) -> None:
    page = await start(client)
    for vector in XSS_VECTORS:
        page = await say(client, page, vector)
        assert_only_our_markup(page.html)
    you = [line for kind, line in page.lines if kind == "you"]
    assert f"{text_of(client, 'webchat.you')} <script>alert('XSS')</script>" in you
    assert "&lt;script&gt;alert(&#39;XSS&#39;)&lt;/script&gt;" in page.html
    assert not re.search(r"[\u202e\u2066\u2069\x1b]", page.html)


def assert_protective_headers(headers: Any) -> None:
    policy = {
        directive.split()[0]: directive.split(None, 1)[1]
        for directive in headers["Content-Security-Policy"].split("; ")
    }
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no 'unsafe-inline', no other site
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["base-uri"] == "'none'"
    assert "unsafe" not in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    server = headers.get("Server", "")
    assert not re.search(r"\d|aiohttp|python", server, re.IGNORECASE), server
    assert "Set-Cookie" not in headers


async def test_every_response_carries_the_protective_headers(client: Client) -> None:
    page = await start(client)
    responses = [
        await client.get("/"),
        await client.get(f"/c/{page.token}"),
        await client.get(f"/c/{page.token}/plan.txt"),
        await client.get("/static/chat.js"),
        await client.get("/blank"),
        await client.get("/nowhere"),
        await client.post("/webhooks/rest/webhook", data=b"nonsense"),
        await client.post("/", data=b""),  # method not allowed
    ]
    for response in responses:
        assert_protective_headers(response.headers)
        if not response.url.path.startswith("/static/"):
            assert response.headers["Cache-Control"] == "no-store", response.url
    ws = await client.ws_connect("/ws")
    assert_protective_headers(ws._response.headers)  # the upgrade answer too
    await ws.close()


async def test_leaving_to_another_site_is_allowed_by_the_policy(serve: Serve) -> None:
    client = await serve(branding=BrandingSettings(exit_url="https://www.example.org/weather"))
    response = await client.get("/")
    assert "form-action 'self' https://www.example.org;" in (
        response.headers["Content-Security-Policy"] + ";"
    )
    page = await start(client)
    left = await client.post(f"/c/{page.token}/leave", allow_redirects=False)
    assert left.status == 303 and left.headers["Location"] == "https://www.example.org/weather"


async def test_nothing_is_fetched_from_another_site(client: Client) -> None:
    page = await start(client)
    texts = [page.html, await (await client.get("/")).text()]
    for name in ("chat.css", "chat.js", "icon.svg"):
        texts.append(await (await client.get(f"/static/{name}")).text())
    for text in texts:
        links = re.findall(r"""(?:src|href|action)\s*=\s*["']?([^"' >]+)""", text)
        # A script setting a link from a variable (anchor.href = found.href) fetches nothing by
        # itself; what it sets comes from the server's messages (tel: links only).
        links = [link for link in links if not re.fullmatch(r"[A-Za-z_$][\w$.]*;?\s*", link)]
        # tel: dials a number (the welcome's "call 112 or 911"): nothing is fetched.
        assert all(link.startswith(("/", "#")) or re.fullmatch(r"tel:\d+", link) for link in links)
        assert "url(" not in text and "@import" not in text
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text)


async def test_the_first_page_with_all_its_assets_is_under_50_kb(client: Client) -> None:
    for html in [await (await client.get("/")).text(), (await start(client)).html]:
        total = len(html.encode())
        for tag, attrs in markup(html):
            url = (
                attrs.get("src")
                if tag == "script"
                else attrs.get("href")
                if tag == "link"
                else None
            )
            if url:
                total += len(await (await client.get(url)).read())
        assert total < 50 * 1024, total


async def test_a_whole_conversation_leaves_no_address_agent_or_words_in_the_logs(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    agent = "Mozilla/5.0 (SecretAgentForLogTest 7.7)"
    words = "my neighbour Kalle Virtanen"
    client.session.headers["User-Agent"] = agent
    page = await start(client)
    page = await say(client, page, words)
    page = await page_at(client, await press(client, page, "languages-form", language="fi"))
    await client.get(f"/c/{page.token}/plan.txt")
    ws = await client.ws_connect("/ws")
    await ws.send_json({"type": "resume", "session": page.token})
    await ws.receive(timeout=10)
    await ws.send_json({"type": "text", "text": words})
    await ws.receive(timeout=10)
    await ws.send_bytes(b"\xff binary")
    await ws.receive(timeout=10)
    await ws.close()
    await client.post("/webhooks/rest/webhook", json={"sender": SENDER, "message": words})
    await client.get("/c/" + "B" * 32)
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(b"GARBAGE / HTTP/9.9\r\nUser-Agent: " + agent.encode() + b"\r\n\r\n")
    await writer.drain()
    await reader.read()
    writer.close()
    await press(client, page, "leave-form")
    logged = caplog.text
    assert "turn handled" in logged  # events are logged...
    for secret in (words, "Kalle", agent, "SecretAgent", page.token, SENDER, "127.0.0.1"):
        assert secret not in logged, secret  # ...but never what identifies or what was said
    assert not re.search(r"\b\d{1,3}(\.\d{1,3}){3}\b", logged)
