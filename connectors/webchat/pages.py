"""The chat as plain HTML forms: it works with JavaScript off (Tor Browser's "Safest"
level) and in text browsers.

Every form posts to ``/c/<token>`` (or ``/leave``, ``/erase`` under it) with the session's
anti-forgery token, and is answered with a redirect back to the page (post/redirect/get),
anchored at the latest turn. No cookie is set: the token travels in the address. Pages are
rendered by Jinja with autoescaping, so whatever a person typed is always shown as text.
"""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jinja2
import markupsafe
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDict

from redirection_bot.api import (
    CommandName,
    FunnelStage,
    TextLink,
    cache_folder,
    log_event,
    session_tag,
)

from .assets import Assets
from .chat import LOST, Lost, WebChat, event_for
from .kept_templates import KeptTemplates
from .security import framed_here_headers
from .sessions import TranscriptEntry, WebSession
from .texts import direction

FORM_FIELDS = ("choice", "language", "command", "text")
PARTNER_FIELD = "from"
BOOKING_CANCELLED = "booking"
"""``/?erased=booking``: the conversation was erased and a booking it held was cancelled."""
"""The partner platform in the door's address (``/?from=<partner>``) and the start form."""
PLAN_FILE_NAME = "plan.txt"


LINK_SCHEMES = ("tel:", "sms:")
WORD_CHARACTER = "0-9A-Za-z\u00c0-\u024f_@"
"""A number touching one of these is part of a word, a web or an e-mail address
("988lifeline.org", "linea106@..."): not a link (chat.js uses the same class)."""


def linked(text: str, links: tuple[TextLink, ...]) -> markupsafe.Markup:
    """The text, escaped, with each of its links' parts (phone numbers) as a link: the same
    as chat.js does for a live page; and each of its line breaks as ``<br>``, so that they
    show without the style sheet too (a text browser such as w3m)."""
    return markupsafe.Markup("<br>").join(_linked_line(line, links) for line in text.split("\n"))


def _linked_line(text: str, links: tuple[TextLink, ...]) -> markupsafe.Markup:
    usable = sorted(
        (link for link in links if link.text and link.href.startswith(LINK_SCHEMES)),
        key=lambda link: -len(link.text),
    )
    if not usable:
        return markupsafe.escape(text)
    alternatives = "|".join(re.escape(link.text) for link in usable)
    pattern = re.compile(f"(?<![{WORD_CHARACTER}])(?:{alternatives})(?![{WORD_CHARACTER}])")
    href = {link.text: link.href for link in reversed(usable)}
    parts: list[str] = []
    at = 0
    for found in pattern.finditer(text):
        parts.append(markupsafe.escape(text[at : found.start()]))
        parts.append(
            f'<a href="{markupsafe.escape(href[found.group()])}">{markupsafe.escape(found.group())}</a>'
        )
        at = found.end()
    parts.append(markupsafe.escape(text[at:]))
    return markupsafe.Markup("".join(parts))


def template_environment(kept: Path | None = None) -> jinja2.Environment:
    """The page templates; compiled ones kept in ``kept`` between starts, if given."""
    folder = Path(__file__).with_name("templates")
    templates = {
        item.name: item.read_text(encoding="utf-8")
        for item in folder.iterdir()
        if item.name.endswith(".html")
    }
    environment = jinja2.Environment(
        loader=jinja2.DictLoader(templates),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=KeptTemplates(kept) if kept is not None else None,
    )
    environment.filters["linked"] = linked
    return environment


class Pages:
    """Handlers for the HTML pages."""

    def __init__(self, chat: WebChat, assets: Assets) -> None:
        self.chat = chat
        self.assets = assets
        self.templates = template_environment(cache_folder(os.environ))
        self.exit_url = chat.options.branding.exit_url

    # --- rendering -----------------------------------------------------------------------------

    def render(self, name: str, locale: str, status: int = 200, **context: Any) -> web.Response:
        texts = self.chat.texts.page(locale)
        values: dict[str, Any] = {
            "t": texts,
            "locale": locale,
            "dir": direction(locale),
            "exit_url": self.exit_url,
            "asset": self.assets.url,
            "refresh": None,
            "languages": self.chat.texts.languages(),
        }
        body = self.templates.get_template(name).render({**values, **context})
        return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")

    def notice_page(self, request: web.Request, message: str, status: int) -> web.Response:
        """A short page for an expired address, an error or a full house."""
        locale = self.chat.texts.from_accept_language(request.headers.get("Accept-Language"))
        neutral = message == "gone"
        return self.render("notice.html", locale, status, message=message, neutral=neutral)

    # --- pages ---------------------------------------------------------------------------------

    async def landing(self, request: web.Request) -> web.Response:
        """The first page; ``?from=<partner>`` (a partner platform's link) is counted as
        shown and carried in the start form. A ``from`` that names no declared partner is
        ignored, as if absent: never shown back, logged or kept."""
        wanted = request.query.get("lang")
        texts = self.chat.texts
        partner = self.chat.runtime.partners.known(request.query.get(PARTNER_FIELD))
        if partner is not None:
            await self.chat.runtime.funnel.count(partner, FunnelStage.SHOWN)
        locale = (
            texts.known(wanted)
            if wanted in texts.locales()
            else texts.known(partner.locale)
            if partner is not None and partner.locale is not None
            else texts.from_accept_language(request.headers.get("Accept-Language"))
        )
        return self.render(
            "landing.html",
            locale,
            erased="erased" in request.query,
            cancelled=request.query.get("erased") == BOOKING_CANCELLED,
            busy=False,
            partner=partner.id if partner is not None else None,
        )

    async def start(self, request: web.Request) -> web.Response:
        form = await _form(request)
        locale = form.get("locale") if form is not None else None
        partner = form.get(PARTNER_FIELD) if form is not None else None
        session, _outcome = await self.chat.start(
            locale if isinstance(locale, str) else None, partner
        )
        raise web.HTTPSeeOther(_chat_url(session))

    async def show(self, request: web.Request) -> web.Response:
        session = await self._drawn_again(request, recheck=True)
        if session is None:
            return self.notice_page(request, "gone", 404)
        return self.chat_page(session)

    async def _drawn_again(self, request: web.Request, recheck: bool = False) -> WebSession | None:
        """The page's conversation; if the store lost it, the new one that took its place
        (``Chat.find``) is where the person goes, told so there, and the press on the old page
        is not applied to it. ``recheck``: only as the store holds it now (a page shown again,
        which no turn checks: erased at another instance, it is gone here too)."""
        token = request.match_info["token"]
        session = await self.chat.find(token, tell_lost=True, recheck=recheck)
        if session is not None and session.token != token:
            raise web.HTTPSeeOther(_chat_url(session))
        return session

    def chat_page(self, session: WebSession) -> web.Response:
        lines = session.lines()
        who = {
            kind: self.chat.texts.text(kind, session.locale)
            for kind in ("bot", "you", "notice", "operator")
        }
        base = f"/c/{session.token}"
        frame = f"{base}/waiting?since={len(lines)}" if session.waiting_for_person else None
        page = self.render(
            "chat.html",
            session.locale,
            session=session,
            base=base,
            lines=lines,
            drawn=session.draw(),
            first_new=min(session.first_new, max(0, len(lines) - 1)),
            who=who,
            # As much as is screened: a longer paste cut by the browser would go unread and
            # untold; this much is read for risk, and the person told it is too long.
            max_length=self.chat.page_characters,
            waiting_frame=frame,
        )
        self.chat.shown_once(session)  # drawn with the resume words once: never again
        return page

    async def waiting(self, request: web.Request) -> web.Response:
        """``/c/<token>/waiting?since=<n>``: while a person is awaited or has the conversation,
        a page without JavaScript holds this in a frame, which refreshes itself and shows
        what came after the page's first ``n`` lines (an operator's words), so that the page
        itself, and what the person is typing in it, is never reloaded under them (the
        nineteenth retest: the whole page refreshed every 15 s and emptied the text box).
        Once the wait is over, or something came, a link shows the whole page again. It
        changes nothing: no turn, no words shown once."""
        session = await self.chat.find(request.match_info["token"])
        if session is None:
            return self.notice_page(request, "gone", 404)
        since = _count(request.query.get("since"))
        lines = [entry for entry in session.lines()[since:] if not entry.once]
        who = {
            kind: self.chat.texts.text(kind, session.locale)
            for kind in ("bot", "you", "notice", "operator")
        }
        who["card"] = who["bot"]
        waiting = session.waiting_for_person
        response = self.render(
            "waiting.html",
            session.locale,
            base=f"/c/{session.token}",
            blocks=_newest_first(lines),
            who=who,
            refresh=self.chat.options.refresh_seconds if waiting else None,
        )
        response.headers.update(framed_here_headers(self.exit_url))
        return response

    async def post(self, request: web.Request) -> web.Response:
        held = self.chat.book.web(request.match_info["token"])
        if held is not None:
            await self._leave_if_typed(request, held)
        # As the store holds it now: a press on a page this instance drew, whose conversation
        # moved on at another since (the same page's first press reached the other, behind a
        # balancer), is a double press (the forty-first attack: it answered the next question).
        session = await self._drawn_again(request, recheck=True)
        if session is None:
            return self.notice_page(request, "gone", 404)
        form = await _form(request)
        if form is None:
            self.chat.notice(session, "unreadable")
            raise web.HTTPSeeOther(_chat_url(session))
        if not _csrf_ok(session, form):
            log_event("form refused", session=session_tag(session.session_id), reason="csrf")
            self.chat.notice(session, "stale_form")
            raise web.HTTPSeeOther(_chat_url(session))
        if session.drawn_before(form.get("drawn")):
            # A double press, a resubmit or a second tab: the answer was meant for a question
            # already answered, never for the one asked now (the fifteenth attack: a second
            # "Okay, go on" skipped "Anonymity has limits"; a checklist item taken off again).
            self.chat.notice(session, "stale_form")
            raise web.HTTPSeeOther(_chat_url(session))
        event = None
        for name in FORM_FIELDS:
            if name in form:
                value = form[name]
                if name == "text" and isinstance(value, str) and not value.strip():
                    raise web.HTTPSeeOther(_chat_url(session))
                event = event_for(name, value)
                break
        if event is None:
            self.chat.notice(session, "unreadable")
            raise web.HTTPSeeOther(_chat_url(session))
        outcome = await self.chat.turn(session, event, drawn=form.get("drawn"))
        if outcome.erased:
            raise web.HTTPSeeOther(self.exit_url)
        raise web.HTTPSeeOther(_chat_url(outcome.moved or session))

    async def _leave_if_typed(self, request: web.Request, session: WebSession) -> None:
        """ "leave now" or "erase everything" typed on a page this instance holds: left at once,
        as its button leaves, before anything asks the store (the fifty-seventh attack: with
        Redis paused or down, typed on the page without JavaScript, it answered the error page
        after 5 s and the conversation stayed). One word ("quit") is left to the turn, which
        in a crisis says how to leave rather than leaving."""
        form = await _form(request)
        text = form.get("text") if form is not None else None
        if form is None or not isinstance(text, str) or not _csrf_ok(session, form):
            return
        typed = text.strip()
        if " " not in typed and not typed.startswith("/"):
            return
        event = event_for("text", typed)
        leaving = self.chat.runtime.leaving(event, session.locale) if event is not None else None
        if leaving is CommandName.ERASE:
            await self.chat.erase(session)
        elif leaving is CommandName.STOP:
            await self.chat.leave(session)
        else:
            return
        raise web.HTTPSeeOther(self.exit_url)

    async def leave(self, request: web.Request) -> web.Response:
        """Erase the conversation (not a copy kept under resume words) and go to the neutral
        page. The anti-forgery token is not required here: failing to erase is the worse harm,
        and the address itself holds an unguessable token."""
        session = await self.chat.find(request.match_info["token"])
        if session is not None:
            await self.chat.leave(session)  # the person leaves even if the store fails
        raise web.HTTPSeeOther(self.exit_url)

    async def erase(self, request: web.Request) -> web.Response:
        session = await self.chat.find(request.match_info["token"])
        locale = self.chat.texts.default_locale()
        erased = "1"
        if session is not None:
            locale = session.locale
            if await self.chat.erase(session):
                erased = BOOKING_CANCELLED
        raise web.HTTPSeeOther(f"/?lang={locale}&erased={erased}")

    async def plan(self, request: web.Request) -> web.StreamResponse:
        session = await self.chat.find(request.match_info["token"])
        if session is None:
            return self.notice_page(request, "gone", 404)
        # The link downloads (``download``): whatever this answers is saved as the file, so
        # a plan that is not there, or not given now, is said in the file, never by a
        # redirect to a page that would be saved in its place (the thirty-second retest: over
        # the rate limit, "plan.txt" was the chat page, its transcript and address in it). A
        # lost conversation is told again, on the page, at its next press.
        status = 200
        if not self.chat.within_limit(session):
            text: str | Lost | None = self.chat.texts.text("rate_limited", session.locale)
            status = 429
        else:
            text = await self.chat.plan_or_lost(session)
        if text is LOST:
            text = self.chat.texts.text("lost", session.locale)
        elif text is None:
            text = self.chat.texts.text("no_plan", session.locale)
        assert isinstance(text, str)
        response = web.Response(
            text=text, status=status, content_type="text/plain", charset="utf-8"
        )
        response.headers["Content-Disposition"] = f'attachment; filename="{PLAN_FILE_NAME}"'
        return response

    async def blank(self, _request: web.Request) -> web.Response:
        body = self.templates.get_template("blank.html").render()
        return web.Response(text=body, content_type="text/html", charset="utf-8")

    async def no_icon(self, _request: web.Request) -> web.Response:
        """``/favicon.ico``, which browsers ask for on the exit page (it names no icon, so
        that its tab looks like any new tab): nothing, rather than an error."""
        return web.Response(status=204, headers={"Cache-Control": "max-age=86400"})


def _count(value: str | None) -> int:
    """A count of lines from the address (anything else: 0, every line)."""
    if value is None or not (value.isascii() and value.isdigit()) or len(value) > 9:
        return 0
    return int(value)


def _chat_url(session: WebSession) -> str:
    return f"/c/{session.token}#now"


def _csrf_ok(session: WebSession, form: Mapping[str, object]) -> bool:
    sent = form.get("csrf")
    return isinstance(sent, str) and hmac.compare_digest(sent.encode(), session.csrf.encode())


MOST_FORM_FIELDS = 32
"""The most fields a posted form may have (the chat's forms have a few)."""


async def _form(request: web.Request) -> Mapping[str, object] | None:
    """The posted form, or None if it cannot be read (not UTF-8, also where percent-escaped,
    too large, not a form, a multipart body whose parts aiohttp cannot parse). A form's
    escapes are decoded strictly: aiohttp's own reading turns bytes that are not UTF-8 into
    replacement characters, taken as the person's words (the twelfth attack)."""
    try:
        if request.content_type == "application/x-www-form-urlencoded":
            body = (await request.read()).decode("utf-8")
            return MultiDict(
                parse_qsl(
                    body,
                    keep_blank_values=True,
                    encoding="utf-8",
                    errors="strict",
                    max_num_fields=MOST_FORM_FIELDS,
                )
            )
        return await request.post()
    except (UnicodeDecodeError, ValueError, HttpProcessingError, web.HTTPRequestEntityTooLarge):
        return None


_ONE_REPLY = frozenset({"bot", "card", "notice"})


def _newest_first(lines: list[TranscriptEntry]) -> list[list[TranscriptEntry]]:
    """``lines`` in blocks, the newest block first, each block in its own order: a reply of
    the program (its lines in a row) reads top to bottom, its heading before its list (the
    twenty-sixth retest: "These services can help:" under the services); each of the
    operator's and the person's lines is a block of its own."""
    blocks: list[list[TranscriptEntry]] = []
    for entry in lines:
        if blocks and entry.kind in _ONE_REPLY and blocks[-1][-1].kind in _ONE_REPLY:
            blocks[-1].append(entry)
        else:
            blocks.append([entry])
    return blocks[::-1]
