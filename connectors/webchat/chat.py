"""One mechanism for every surface of the web chat (forms, WebSocket, REST): start a
conversation, find it again, take a turn within the limits, erase it, and tell the live
pages that follow it.
"""

from __future__ import annotations

import asyncio
import enum
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from redirection_bot.api import (
    COMMAND_CHOICE_PREFIX,
    ChoicePicked,
    CommandGiven,
    CommandName,
    Event,
    HandoffKeys,
    HandoffView,
    Keyring,
    Reply,
    ResumeKeys,
    Runtime,
    SessionBusy,
    SessionLost,
    Shown,
    ShownChoice,
    ShownEnd,
    ShownHandoff,
    ShownMessage,
    ShownOperator,
    Start,
    StoreUnavailable,
    Tallies,
    Tally,
    Text,
    VersionConflict,
    Waiting,
    cache_folder,
    log_event,
    session_tag,
)

from .endings import Endings, EndingsJournal, StillRunning, outcome_unwanted, quickly
from .frames import Frame, card_frame, choice_list, message_frame
from .options import WebChatOptions
from .plan_card import PlanCard, group_plan
from .sessions import (
    REST_PREFIX,
    TOKEN_KEYS,
    TOKEN_PATTERN,
    WEB_PREFIX,
    Listener,
    SessionBook,
    TokenIssuer,
    TranscriptEntry,
    WebSession,
    tag_question,
)
from .texts import PageTexts, direction

ELLIPSIS = "…"
FOLLOW_RETRY_SECONDS = 2.0
OPENING_SECONDS = 1.0
"""How long after its token was issued a conversation is taken to have been opened (kept) by
its first turn. The store records when it lost what it held at its first turn after the loss,
which may be that very opening; a conversation opened in the second before a loss, and looked
for at an instance that never had it, is taken as new (not told)."""


STORE_FAULTS = (StoreUnavailable, SessionBusy, VersionConflict)
"""The store failed, or another turn holds the conversation: nothing was changed."""


class Lost(enum.Enum):
    """The store no longer holds a conversation this instance had."""

    LOST = "lost"


LOST = Lost.LOST


@dataclass(frozen=True, slots=True)
class TurnOutcome:
    """What one turn added: transcript lines, what the runtime rendered, and how it ended."""

    entries: tuple[TranscriptEntry, ...]
    shown: tuple[Shown, ...] = ()
    limited: bool = False
    erased: bool = False
    locale_changed: bool = False
    moved: WebSession | None = None
    """The conversation goes on under this page: the store had lost it and a new one took
    its place (``start_over``), or the first answer went to its copy (``forked``)."""
    forked: bool = False
    """``moved`` is the copy that took the first answer (``WebChat._forked``): the same
    conversation, told to a live page as a new address, not as one lost."""


class WebChat:
    """The web chat's conversations over one runtime."""

    def __init__(
        self,
        runtime: Runtime,
        options: WebChatOptions,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.runtime = runtime
        self.options = options
        self.texts = PageTexts(runtime)
        self._clock = clock
        self._refusals = Tally("messages refused", clock=clock, reason="rate", connector="webchat")
        self.refused = Tallies(clock=clock, connector="webchat")
        """Requests and sockets refused (``refused.add("request refused", "host")``): one line
        a minute for each, with its count."""
        self.endings = Endings(
            runtime.settings.session_ttl_seconds, clock, journal=_journal(runtime, options)
        )
        """Endings ("leave now", "erase") that met a store that failed, finished as soon as
        it answers; meanwhile this instance answers for their conversations as ended."""
        self.endings.name("erase", runtime.erase)
        self.endings.name("leave", runtime.leave)
        self.book = SessionBook(
            options.limits.max_sessions,
            runtime.settings.session_ttl_seconds,
            options.limits.messages_per_minute,
            options.transcript_size,
            clock,
            TokenIssuer(runtime.channel_keys(TOKEN_KEYS)),
            runtime.settings.untouched_ttl_seconds,
        )

    @property
    def max_text_length(self) -> int:
        return self.runtime.settings.max_text_length

    @property
    def page_characters(self) -> int:
        """How many characters the chat page's text box takes: all that is screened."""
        return self.runtime.settings.screened_length

    # --- finding and starting ------------------------------------------------------------------

    async def start(
        self, locale: str | None, partner: object = None
    ) -> tuple[WebSession, TurnOutcome]:
        """A new web conversation (never refused: ``SessionBook`` makes room); ``partner``:
        the ``from`` of a partner platform's link, as sent (the runtime checks it)."""
        session = self.book.open_web(self.texts.known(self.door_locale(locale, partner)))
        reply = await self.runtime.handle(session.session_id, door_start(session.locale, partner))
        return session, self._apply(session, reply, [])

    def door_locale(self, locale: str | None, partner: object) -> str | None:
        """The language asked for, else the partner's (if ``partner`` is one), else None."""
        known = self.runtime.partners.known(partner)
        return locale or (known.locale if known is not None else None)

    async def find(
        self, token: str, tell_lost: bool = False, recheck: bool = False
    ) -> WebSession | None:
        """The conversation with this token; rebuilt from the store if this process has no
        page for it (after a restart), None if it does not exist. One the store has lost since
        it was kept (``missing``) is told at its next turn, or with ``tell_lost`` (a page drawn
        again) at once: the new conversation that takes its place is returned, under its own
        token, with the notice first. ``recheck``: a page this process holds is drawn only if a
        store shared with other instances still holds it (erased at another, or lost)."""
        session = self.book.web(token)
        if session is not None and session.kept_at is None and tell_lost:
            return await self._told_lost(session)  # known lost: told now
        if session is not None and recheck and self.runtime.shares_store:
            return await self._rechecked(session, tell_lost)
        if session is not None or not TOKEN_PATTERN.match(token):
            return session
        if self.book.is_gone(WEB_PREFIX + token):
            return None  # erased here: never opened again from what the store may still hold
        state = await self.runtime.state(WEB_PREFIX + token)
        if state is None or state.waiting is Waiting.NOT_STARTED:
            lost = await self.missing(token, None)
            if lost is None:
                return None
            return await self._told_lost(lost) if tell_lost else lost
        return await self._redrawn(self.book.reopen_web(token, state.locale))

    async def _rechecked(self, session: WebSession, tell_lost: bool) -> WebSession | None:
        """``session`` if the store still holds it; None if it was erased elsewhere or ran out
        its time; if the store lost it, told as ``find`` tells, its lines dropped at once."""
        state = await self.runtime.state(session.session_id)
        if state is not None and (state.turn == session.turn or session.handoff):
            return session
        if state is not None:
            return await self._redrawn(session)
        if not await self._lost_since(session.kept_at):
            self.book.gone(session)
            return None
        if tell_lost:
            return await self._told_lost(session)
        session.kept_at = None
        if session.transcript is not None:
            session.transcript.clear()
        return session

    async def _redrawn(self, session: WebSession) -> WebSession | None:
        """``session`` drawn as the store holds it, from the current question: one this
        instance never drew (after a restart, or drawn by another instance), or one that moved
        on at another instance since this one drew it (a person's requests spread by a
        balancer, or a failover and back: the thirty-seventh attack, a reload here showed this
        instance's old question and buttons). None when it was erased meanwhile (at another
        instance, or racing an erase here): gone, never started again under its old token."""
        try:
            reply = await self.runtime.handle(
                session.session_id, CommandGiven(CommandName.REPEAT), known=True, redraw=True
            )
        except SessionLost:
            self.book.gone(session)
            return None
        if session.transcript is not None:
            session.transcript.clear()
        self._apply(session, reply, [])
        return session

    async def _told_lost(self, session: WebSession) -> WebSession | None:
        """A conversation the store lost, told now: the one that takes its place, the notice
        first (``start_over``)."""
        return (await self.start_over(session, None)).moved

    def alive(self, session: WebSession) -> bool:
        """Whether the conversation is still kept (not erased, not expired)."""
        if session.token:
            return self.book.web(session.token) is session
        return True

    async def rest_session(
        self, sender: str, locale: str | None, opening: bool, held: bool = False
    ) -> tuple[WebSession, bool] | None:
        """The REST sender's conversation and whether it is new; None when it does not exist
        and the message would not store anything (``opening`` False), so that nothing is
        kept for it. ``held``: the message shows the conversation existed (a button's
        payload, which only an answer gives)."""
        session = self.book.rest(sender)
        if session is not None:
            return session, False
        fresh = await self.runtime.state(REST_PREFIX + sender) is None
        if fresh:
            lost = await self.missing(sender, locale, rest=True, held=held)
            if lost is not None:
                return lost, False
            if not opening:
                return None
        return self.book.open_rest(sender, self.texts.known(locale)), fresh

    async def missing(
        self, token: str, locale: str | None, rest: bool = False, held: bool = False
    ) -> WebSession | None:
        """A conversation the store does not hold, and this process holds no page for: if the
        store has lost it, a page record for it marked so, whose next turn tells the person
        (``turn``, ``start_over``); None if it is new, or was erased or ran out its time.

        The store lost it when it was kept before the store last lost what it held
        (``Runtime.kept_since``): kept when it made room here, or opened when its token was
        issued (``TokenIssuer.issued_at``: every token this server issues says when). A REST client's own
        sender says nothing of when; ``held`` (it pressed a button) tells it existed."""
        evicted = self.book.evicted((REST_PREFIX if rest else WEB_PREFIX) + token)
        issued = self.book.tokens.issued_at(token)
        # Opened by the turn that follows the token's issue, at the latest OPENING_SECONDS on.
        opened = None if issued is None else issued + OPENING_SECONDS
        kept_at = evicted.kept_at if evicted is not None else opened
        if evicted is None and kept_at is None and not held:
            return None
        if not await self._lost_since(kept_at):
            return None
        language = evicted.locale if evicted is not None else self.texts.known(locale)
        book = self.book
        lost = book.open_rest(token, language) if rest else book.reopen_web(token, language)
        lost.waiting, lost.kept_at = Waiting.ANSWER, None
        return lost

    async def _lost_since(self, kept_at: float | None) -> bool:
        """Whether the store has lost what it held since ``kept_at`` (None: not known when),
        rather than the conversation having been erased, or having run out its time."""
        if kept_at is not None and kept_at >= time.time():
            return False  # kept until now (a token just issued): no need to ask the store
        since = await self.runtime.kept_since()
        return since is not None and (kept_at is None or kept_at < since)

    # --- turns ---------------------------------------------------------------------------------

    def within_limit(self, session: WebSession) -> bool:
        now = self._clock()
        session.last_seen = now
        if session.bucket.take(self.options.limits.messages_per_minute, now):
            return True
        self._refusals.add()
        return False

    async def _read_all_the_same(self, session: WebSession, event: Event) -> bool:
        """A message over the rate limit is taken all the same when screening raises a risk
        in it: a person in crisis typing fast is heard (the limit keeps a conversation from
        flooding the program, not a disclosure from the safety flow); and so is "leave now"
        or "erase", pressed or typed: the way out always works. Only so many a minute are
        screened (``OVER_LIMIT_READS_PER_MINUTE``): the rest are refused unread."""
        if self.runtime.leaving(event, session.locale) is not None:
            return True
        if not isinstance(event, Text) or not session.may_read_over_limit(self._clock()):
            return False
        return await self.runtime.raises_risk(event.text, session.locale)

    async def turn(
        self,
        session: WebSession,
        event: Event,
        origin: Listener | None = None,
        key: str | None = None,
        drawn: object = None,
    ) -> TurnOutcome:
        """Take one turn, within the rate limit; live pages other than ``origin`` are told.
        ``key``: the message's own key (REST resends), kept with the turn (``Runtime.handle``).
        The first press on a page only opened goes to a copy under a new address
        (``_forked``), where the page follows it (``TurnOutcome.moved``); ``drawn``: the mark
        of the page the press came from, so that the same page pressed again goes to the same
        copy, told it was out of date, never to a second copy."""
        earlier = self.book.web(session.fork_of(drawn) or "") if session.untouched else None
        if earlier is not None:
            entry = self.notice(earlier, "stale_form")
            return TurnOutcome((entry,), moved=earlier, forked=True)
        forked = await self._forked(session, event, drawn)
        if forked is not None:
            taken = await self._turn(forked, event, None, key)
            return replace(taken, moved=forked, forked=True)
        return await self._turn(session, event, origin, key)

    async def _turn(
        self, session: WebSession, event: Event, origin: Listener | None, key: str | None
    ) -> TurnOutcome:
        if not self.within_limit(session) and not await self._read_all_the_same(session, event):
            return TurnOutcome((self.notice(session, "rate_limited"),), limited=True)
        said = self.said(session, event)
        turn = self.runtime.handle(
            session.session_id, event, known=session.waiting is not None, key=key
        )
        leaving_now = self.runtime.leaving(event, session.locale)
        try:
            if leaving_now is None:
                reply = await turn
            else:
                # "leave now" typed: never more than a second's wait for a store that hangs
                # (the fifty-sixth attack: 5 s without JavaScript); the turn goes on here.
                try:
                    reply = await quickly(turn)
                except StillRunning as running:
                    running.attempt.add_done_callback(outcome_unwanted)
                    return await self._left(session, leaving_now, origin, store_hangs=True)
        except SessionLost:
            # "leave now" where the store lost the conversation: the person leaves, never
            # greeted by a new one (the forty-first attack: a REST "/stop" after a Redis
            # restart got "could not be kept" and a new conversation's opening, no end).
            leaving = self.runtime.leaving(event, session.locale)
            if leaving is not None:
                return await self._left(session, leaving, origin)
            return await self.start_over(session, origin, await self._lost_since(session.kept_at))
        except STORE_FAULTS:
            leaving = self.runtime.leaving(event, session.locale)
            if leaving is None:
                raise
            # "leave now" typed while the store fails: the person leaves all the same.
            return await self._left(session, leaving, origin)
        session.kept_at = time.time()
        if reply.said is not None:
            said = self.echo(reply.said) if isinstance(event, Text) else reply.said
        outcome = self._apply(session, reply, [TranscriptEntry("you", said)] if said else [])
        await self.publish(session, outcome, origin)
        return outcome

    async def _left(
        self,
        session: WebSession,
        leaving: CommandName,
        origin: Listener | None,
        store_hangs: bool = False,
    ) -> TurnOutcome:
        """The conversation ended as "leave now" or "erase" (``leaving``) asked, without its
        store: erased here (and wherever the store still can). Live pages other than
        ``origin`` are told; ``origin`` has the outcome (one "end" frame, the fifty-third
        attack found two). ``store_hangs``: the store did not answer the turn, so the ending
        is left to ``Endings`` at once rather than waited for a second more."""
        ending = self.runtime.erase if leaving is CommandName.ERASE else self.runtime.leave
        await self._end(session, ending, try_now=not store_hangs)
        await self._tell(session, [{"type": "end", "erase": True}], origin)
        return TurnOutcome((), (ShownEnd(erase=True),), erased=True)

    async def _forked(
        self, session: WebSession, event: Event, drawn: object = None
    ) -> WebSession | None:
        """A page's conversation only opened, answered for the first time: a copy under a new
        address takes the answer, and the address the page was opened at stays only opened,
        for whoever else holds it (the fifteenth attack: whoever started a conversation and
        gave its address out read along with the person who used it). Each who answers there
        has their own conversation, and nobody reads another's. Not the way out ("leave
        now", "erase"), nor a REST client's conversation (its id is its own)."""
        if not session.untouched or not session.token or session.handoff:
            return None
        if self.runtime.leaving(event, session.locale) is not None:
            return None
        fresh = self.book.open_web(session.locale)
        session.forked(drawn, fresh.token)  # before waiting: a press racing it finds it
        if not await self.runtime.fork(session.session_id, fresh.session_id):
            self.book.remove(fresh)
            return None
        fresh.opened_as(session)
        return fresh

    async def start_over(
        self, session: WebSession, origin: Listener | None, lost: bool = True
    ) -> TurnOutcome:
        """The store no longer holds a conversation this page had: start a new one, under a
        new token (a REST client's conversation stays under its sender), saying first that
        the old one could not be kept if the store ``lost`` it (Redis restarted without
        persistence), not if it was erased elsewhere (at another instance, in another tab) or
        ran out its time; other pages following the old one move too."""
        told = [TranscriptEntry("notice", self.lost_notice(session))] if lost else []
        if not lost:
            self.book.gone(session)
        if session.token:
            fresh = self.book.open_web(session.locale)
            await self._tell(session, [{"type": "session", "session": fresh.token}], origin)
        else:
            fresh = self.book.open_rest(session.session_id[len(REST_PREFIX) :], session.locale)
        reply = await self.runtime.handle(fresh.session_id, Start(fresh.locale))
        return replace(self._apply(fresh, reply, told), moved=fresh)

    def notice(self, session: WebSession, key: str) -> TranscriptEntry:
        """A notice from the page itself (a limit, a stale form), kept in the transcript."""
        entry = TranscriptEntry("notice", self.texts.text(key, session.locale))
        session.add([entry])
        return entry

    def echo(self, typed: str) -> str:
        """What the person typed, as the program read it, for their side of the transcript."""
        limit = self.max_text_length
        return typed if len(typed) <= limit else typed[:limit] + ELLIPSIS

    def said(self, session: WebSession, event: Event) -> str | None:
        """What the person's side of the transcript shows for a command (typed text and a
        picked choice are shown as the runtime read them: ``Reply.said``)."""
        if isinstance(event, CommandGiven):
            if event.command is CommandName.LANGUAGE and event.argument:
                names = {language.locale: language.name for language in self.texts.languages()}
                if event.argument in names:
                    return str(names[event.argument])
            if self.texts.enabled(event.command):
                return self.texts.command_label(event.command, session.locale)
        return None

    def _apply(
        self, session: WebSession, reply: Reply, entries: list[TranscriptEntry]
    ) -> TurnOutcome:
        lines = list(entries)
        last: ShownMessage | None = None
        for item in group_plan(reply.shown):
            if isinstance(item, PlanCard):
                lines.append(TranscriptEntry("card", item.text, card=item))
            elif isinstance(item, ShownMessage):
                # Authored texts repeat across conversations: keep one copy of each; the resume
                # words are the conversation's own, and shown once (``shown_once``).
                once = item.key == ResumeKeys.PHRASE
                text = item.text if once else sys.intern(item.text)
                lines.append(TranscriptEntry("bot", text, links=item.links, once=once))
                last = item
        locale_changed = reply.locale != session.locale
        session.locale = reply.locale
        session.last_seen = self._clock()  # after the save: the page expires after the store's copy
        if reply.state is None:
            self.book.gone(session)
            return TurnOutcome(tuple(lines), reply.shown, erased=True)
        session.waiting = reply.state.waiting
        session.untouched = reply.state.untouched
        session.turn = reply.state.turn
        at = reply.state.at
        session.question_tag = tag_question(at.flow, at.node) if at is not None else ""
        if last is not None:
            session.choices, session.expects_text = last.choices, last.expects_text
        if session.waiting is Waiting.ENDED and not session.choices:
            session.choices = self._restart_choice(session.locale)
        session.add(lines)
        if reply.handoff is not None:
            self._follow(session, reply.handoff)
        return TurnOutcome(tuple(lines), reply.shown, locale_changed=locale_changed)

    def _restart_choice(self, locale: str) -> tuple[ShownChoice, ...]:
        if not self.texts.enabled(CommandName.RESTART):
            return ()
        label = self.texts.command_label(CommandName.RESTART, locale)
        return (ShownChoice(COMMAND_CHOICE_PREFIX + CommandName.RESTART.value, label),)

    # --- the rest of a conversation's life ------------------------------------------------------

    async def erase(self, session: WebSession) -> bool:
        """Erase at once ("erase my conversation"), the copy kept under resume words too;
        every live page leaves too. Whether a booking was cancelled with the copy."""
        cancelled = await self._end(session, self.runtime.erase)
        end = {"type": "end", "erase": True, **({"cancelled": True} if cancelled else {})}
        await self._tell(session, [end], None)
        return cancelled

    async def leave(self, session: WebSession) -> None:
        """Leave at once ("leave now"): the conversation goes, a copy kept under resume words
        stays (only the words open it); every live page leaves too."""
        await self._end(session, self.runtime.leave)
        await self._tell(session, [{"type": "end", "erase": True}], None)

    async def _end(
        self,
        session: WebSession,
        ending: Callable[[str], Awaitable[bool | None]],
        try_now: bool = True,
    ) -> bool:
        """Leave or erase: the page is gone from this process at once, and so is the person
        (a quick exit never waits). When the store fails, it is asked again as soon as it
        answers (``Endings``), until the conversation would have expired anyway: a page gone
        here could not ask again, and the copy kept under resume words would stay for its words
        to open."""
        self.book.gone(session)
        first = self.book.web(session.opened_from) if session.opened_from else None
        if first is not None and first.untouched:
            self.book.gone(first)  # the address first drawn, in the history (``Runtime._end``)
        if not try_now:
            self.endings.later(session.session_id, ending)
            return False
        return await self.end_now_or_later(session.session_id, ending)

    async def end_now_or_later(
        self, session_id: str, ending: Callable[[str], Awaitable[bool | None]]
    ) -> bool:
        """``ending(session_id)`` now, or, while the store fails, as soon as it answers again
        (``Endings``); what it returned, False when it is left for later."""
        try:
            return bool(await quickly(ending(session_id)))
        except StillRunning as running:
            # A store that hangs: the person is answered now, the attempt goes on here.
            self.endings.still_trying(session_id, ending, running.attempt)
            return False
        except STORE_FAULTS:
            self.endings.later(session_id, ending)
            return False

    async def plan(
        self, session: WebSession, origin: Listener | None = None
    ) -> str | TurnOutcome | None:
        """The person's plan as text, or None when there is none yet. When the store has lost
        the conversation (it was held, the store no longer has it), the new conversation that
        takes its place, the notice first, as a turn would give it (``start_over``): never
        "no plan yet" for a plan that was lost. A REST client's conversation is not started
        again by asking for the plan (``plan_or_lost``)."""
        text = await self.plan_or_lost(session)
        return await self.start_over(session, origin) if text is LOST else text

    async def plan_or_lost(self, session: WebSession) -> str | Lost | None:
        """The plan as text; ``LOST`` when the store has lost the conversation; None when there
        is no plan yet."""
        text = await self.runtime.plan_text(session.session_id)
        held = text is None and session.waiting is not None
        if held and await self.runtime.state(session.session_id) is None:
            if await self._lost_since(session.kept_at):
                return LOST
            self.book.gone(session)  # erased elsewhere, or ran out its time: nothing to tell
        return text

    def lost_notice(self, session: WebSession) -> str:
        """Say that the store lost the conversation, and let it go: the sender's next message
        opens a new one (asking for the plan keeps nothing)."""
        log_event("session lost", session=session_tag(session.session_id), connector="webchat")
        self.book.gone(session)  # told once: its old address is gone, not lost again
        return self.texts.text("lost", session.locale)

    async def expire_idle(self) -> int:
        """Erase conversations left alone longer than the store's time to live (a copy kept
        under resume words stays: coming back later is what it is for)."""
        gone = self.book.idle()
        for session in gone:
            await self.runtime.leave(session.session_id)
            await self._tell(session, [{"type": "gone"}], None)
        return len(gone)

    async def deliver(self, session: WebSession, shown: list[Shown], ends: bool = False) -> None:
        """Show messages that did not come from a turn (a person from the helpline, a notice
        while waiting, the program taking over again): they join the transcript, and live
        pages show them at once; the REST channel gives them with its next answer. Their last
        question's choices become the page's (``ends``: the handoff is over, so the program's
        question, whatever it offers, is the one to answer)."""
        lines = [
            TranscriptEntry("operator", item.text, self.operator_label(item, session.locale))
            if isinstance(item, ShownOperator)
            else TranscriptEntry("bot", item.text, links=item.links)
            for item in shown
            if isinstance(item, ShownMessage | ShownOperator)
        ]
        if not session.token:  # the REST channel
            session.pending = with_newer_notices(session.pending or [], shown)
        last = next((i for i in reversed(shown) if isinstance(i, ShownMessage)), None)
        if last is not None and (last.choices or last.expects_text or ends):
            session.choices, session.expects_text = last.choices, last.expects_text
        session.add(lines)
        await self.publish(session, TurnOutcome(tuple(lines), tuple(shown)), None)

    def _follow(self, session: WebSession, view: HandoffView) -> None:
        """Listen to the handoff's feed while it is on (one listener per conversation)."""
        session.handoff = view.active
        if not view.active or view.feed is None:
            if not view.active and session.follower is not None:
                session.stop_following()
            return
        if view.feed != session.feed:
            session.stop_following()
            session.feed, session.cursor = view.feed, "0"
        if session.follower is None or session.follower.done():
            session.follower = asyncio.create_task(self._follow_feed(session, view.feed))

    async def _follow_feed(self, session: WebSession, feed: str) -> None:
        while self.alive(session) and session.handoff:
            try:
                async for message_id, push in self.runtime.pushes(feed, session.cursor):
                    session.cursor = message_id
                    if not push.active:
                        session.handoff = False
                        session.handoff_over()
                    await self.deliver(session, list(push.shown), ends=not push.active)
                    if not push.active:
                        return
            except StoreUnavailable:
                # Redis restarting: what was pushed meanwhile is kept there, and read after.
                log_event("handoff feed unavailable", connector="webchat")
                await asyncio.sleep(FOLLOW_RETRY_SECONDS)

    def take_pending(self, session: WebSession) -> list[Shown]:
        """What the REST channel has not shown yet (pushes since its last answer)."""
        pending, session.pending = session.pending or [], None
        return pending

    # --- live pages ----------------------------------------------------------------------------

    async def publish(
        self, session: WebSession, outcome: TurnOutcome, origin: Listener | None
    ) -> None:
        """The turn, to the live pages other than ``origin``: never the resume words, which
        only the page that asked for them is shown (the fifteenth attack: a page following a
        conversation it had given out the address of read them)."""
        if not any(listener is not origin for listener in session.listeners or ()):
            return
        frames = self.frames(session, outcome, echo=True, others=True)
        await self._tell(session, frames, origin)

    def shown_once(self, session: WebSession) -> None:
        """The page that asked has the resume words now: no later page is drawn with them."""
        if session.once_held:
            session.shown_once(self._words_shown_once(session))

    def _words_shown_once(self, session: WebSession) -> str:
        return self.texts.text("words_shown_once", session.locale)

    async def _tell(
        self, session: WebSession, frames: list[Frame], origin: Listener | None
    ) -> None:
        for listener in list(session.listeners or ()):
            if listener is not origin:
                await listener.deliver(frames)

    def frames(
        self, session: WebSession, outcome: TurnOutcome, echo: bool, others: bool = False
    ) -> list[Frame]:
        """A turn as WebSocket frames (docs/protocol.md); for ``others`` (live pages that did
        not ask), without the resume words."""
        frames: list[Frame] = []
        if outcome.locale_changed:
            frames.append(self.interface_frame(session.locale))
        for entry in outcome.entries:
            if entry.kind == "you" and echo:
                frames.append({"type": "you", "text": entry.text})
            elif entry.kind == "notice":
                frames.append({"type": "notice", "text": entry.text})
        for item in group_plan(outcome.shown):
            if isinstance(item, PlanCard):
                frames.append(card_frame(item))
            elif isinstance(item, ShownMessage):
                if others and item.key == ResumeKeys.PHRASE:
                    frames.append({"type": "notice", "text": self._words_shown_once(session)})
                else:
                    frames.append(message_frame(item))
            elif isinstance(item, ShownOperator):
                who = self.operator_label(item, session.locale)
                frames.append({"type": "operator", "text": item.text, "who": who})
            elif isinstance(item, ShownHandoff):
                frames.append({"type": "handoff", "reason": item.reason, "urgency": item.urgency})
            elif isinstance(item, ShownEnd):
                frames.append({"type": "end", "erase": item.erase})
        if not outcome.erased:
            frames.append(self.state_frame(session))
        return frames

    def state_frame(self, session: WebSession) -> Frame:
        """Where the conversation waits, for a live page; ``drawn``: the mark of the question
        the choices are drawn for, which the page sends back with a press (as a form does:
        ``WebSession.drawn_before``)."""
        return {
            "type": "state",
            "choices": choice_list(session.choices),
            "expects_text": session.expects_text,
            "waiting": session.waiting.value if session.waiting is not None else None,
            "entries": len(session.transcript or ()),
            "drawn": session.draw(),
        }

    def operator_label(self, item: ShownOperator, locale: str) -> str:
        """ "Anna (support team)": the operator as the person was told when they joined."""
        return self.runtime.loaded.catalog.render(
            HandoffKeys.FROM_OPERATOR, locale, {"operator": item.name}
        )

    def interface_frame(self, locale: str) -> Frame:
        return {
            "type": "interface",
            "locale": locale,
            "dir": direction(locale),
            "texts": self.texts.page(locale),
        }


def door_start(locale: str, partner: object) -> Start:
    """The first event of a conversation: through a partner's door when ``partner`` is a
    string (the runtime keeps it only if it names a declared partner)."""
    return Start(locale, partner if isinstance(partner, str) and partner else None)


def event_for(kind: str, value: object, argument: object = None) -> Event | None:
    """An engine event from a surface's request (``text``, ``choice``, ``command``,
    ``language``), or None if it is not one."""
    if not isinstance(value, str):
        return None
    if kind == "text":
        return Text(value)
    if kind == "choice":
        return ChoicePicked(value)
    if kind == "language":
        return CommandGiven(CommandName.LANGUAGE, value)
    if kind == "command":
        try:
            command = CommandName(value)
        except ValueError:
            return None
        if argument is not None and not isinstance(argument, str):
            return None
        return CommandGiven(command, argument)
    return None


WAITING_NOTICES = (HandoffKeys.QUEUE_POSITION, HandoffKeys.STILL_WAITING)
"""Notices while a person waits that say where the request stands now: a newer one replaces
the older, never yet given (with its country's variant, ``_here``)."""


def with_newer_notices(pending: list[Shown], shown: list[Shown]) -> list[Shown]:
    """What the REST channel has to give next: ``pending``, then ``shown``, where a waiting
    notice in ``shown`` takes the place of those still pending (the thirty-ninth retest: an
    answer that began with seven queued notices, "You are number 1 in line" five times)."""
    if any(_waiting_notice(item) for item in shown):
        pending = [item for item in pending if not _waiting_notice(item)]
    return [*pending, *shown]


def _waiting_notice(item: Shown) -> bool:
    return isinstance(item, ShownMessage) and item.key.startswith(WAITING_NOTICES)


ENDINGS_KEYS = "webchat-endings"


def _journal(runtime: Runtime, options: WebChatOptions) -> EndingsJournal | None:
    """Where the endings that wait are kept across a restart: beside what ``serve`` keeps, for
    a store that outlives the process (sealed: its keys); none for the memory store."""
    keys = runtime.channel_keys(ENDINGS_KEYS)
    folder = cache_folder(os.environ)
    if not keys or folder is None:
        return None
    return EndingsJournal(folder, f"{options.host}-{options.port}", Keyring(list(keys)))
