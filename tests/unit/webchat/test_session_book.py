"""The web chat's page cache remembers conversations that made room (connectors/webchat/
sessions.py): for their time to live, within a bound, and without their ids."""

from __future__ import annotations

from redirection_bot.api import Waiting
from redirection_bot_connectors.webchat.sessions import EVICTED_REMEMBERED, SessionBook


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def book(clock: Clock, max_sessions: int = 1) -> SessionBook:
    return SessionBook(max_sessions, ttl_seconds=60, per_minute=30, transcript_size=10, clock=clock)


def held(pages: SessionBook, locale: str = "fi") -> str:
    """A conversation the store holds (it has had a turn): its runtime id."""
    session = pages.open_web(locale)
    session.waiting = Waiting.ANSWER
    return session.session_id


def test_a_conversation_that_made_room_is_remembered_once_with_its_language() -> None:
    clock = Clock()
    pages = book(clock)
    first = held(pages, "es")
    held(pages)  # makes room
    assert pages.evicted(first).locale == "es"
    assert pages.evicted(first) is None  # asked once


def test_it_is_forgotten_after_its_time_to_live_and_never_kept_by_id() -> None:
    clock = Clock()
    pages = book(clock)
    first = held(pages)
    held(pages)
    assert all(first.encode() not in mark for mark in pages._evicted)
    clock.now += 61
    pages.idle()
    assert pages.evicted(first) is None


def test_one_never_answered_is_not_remembered() -> None:
    pages = book(Clock())
    first = pages.open_web("en").session_id  # no turn reached the store
    held(pages)
    assert pages.evicted(first) is None


def test_what_is_remembered_is_bounded() -> None:
    clock = Clock()
    pages = book(clock, max_sessions=2)
    ids = [held(pages) for _ in range(40)]
    assert len(pages._evicted) == EVICTED_REMEMBERED * 2
    assert pages.evicted(ids[0]) is None  # the oldest forgotten first
    assert pages.evicted(ids[-3]).locale == "fi"


def test_a_page_only_opened_is_dropped_when_the_store_drops_it() -> None:
    """The store keeps a conversation the person has only opened for the shorter time
    (``untouched_ttl_seconds``): its page goes at the same moment, so that a press on it finds
    the ended-conversation page, not a conversation "that could not be kept"."""
    clock = Clock()
    pages = SessionBook(
        4, ttl_seconds=600, per_minute=30, transcript_size=10, clock=clock, untouched_ttl_seconds=60
    )
    opened = pages.open_web("en")
    used = pages.open_web("en")
    used.untouched = False  # the person picked or typed something
    clock.now += 61
    assert pages.web(opened.token) is None
    assert pages.web(used.token) is used
    clock.now += 600
    assert pages.web(used.token) is None
