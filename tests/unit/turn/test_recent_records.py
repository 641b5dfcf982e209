"""A turn does not decode what the previous turn saved, and never answers without the store."""

import json

from redirection_bot.dialogue.model import Place
from redirection_bot.engine.state import SessionState, shared_frame
from redirection_bot.handoff.record import SessionRecord
from redirection_bot.turn.recent import RecentRecords


def _record(turn: int) -> SessionRecord:
    return SessionRecord(SessionState("v1", "en", turn=turn))


def test_what_was_saved_is_read_back_without_decoding_again() -> None:
    records = RecentRecords()
    saved = _record(3)
    data = records.encode("a", saved)
    assert records.decode("a", bytes(data)) is saved
    assert SessionRecord.decode(data) == saved


def test_other_bytes_from_the_store_are_decoded_not_taken_from_memory() -> None:
    records = RecentRecords()
    records.encode("a", _record(3))
    newer = _record(4).encode()  # saved by another instance
    assert records.decode("a", newer).state.turn == 4


def test_a_forgotten_conversation_is_decoded_again() -> None:
    records = RecentRecords()
    saved = _record(3)
    data = records.encode("a", saved)
    records.forget("a")
    again = records.decode("a", data)
    assert again == saved and again is not saved


def test_only_the_most_recent_conversations_are_kept() -> None:
    records = RecentRecords(size=2)
    first = _record(1)
    data = records.encode("a", first)
    records.encode("b", _record(2))
    records.encode("c", _record(3))
    assert records.decode("a", data) is not first


def test_the_key_of_the_last_message_applied_is_kept_with_the_record() -> None:
    applied = SessionRecord(SessionState("v1", "en", turn=2), applied="press-7")
    assert SessionRecord.decode(applied.encode()) == applied
    assert SessionRecord.decode(_record(2).encode()).applied is None  # records before it


def test_a_record_with_a_history_reads_back_as_it_was_written() -> None:
    """The history's frames are written once each and spliced in: the stored JSON is still
    the state's, and every part of the record comes back."""
    welcome, plan = Place("welcome", "hello"), Place("plan", "start")
    history = (shared_frame(welcome, ()), shared_frame(plan, (welcome,)))
    state = SessionState("v1", "en", turn=5, history=history, slots={"name": 'x"y\\z'})
    record = SessionRecord(state, resume="copy", conversation=(("person", "hi"),))
    assert json.loads(state.json_text()) == state.to_json()
    assert SessionRecord.decode(record.encode()) == record
    assert SessionRecord.decode(SessionRecord(state).encode()) == SessionRecord(state)


def test_conversations_that_answered_the_same_question_share_its_frame() -> None:
    here = Place("welcome", "hello")
    assert shared_frame(here, ()) is shared_frame(here, ())
    read = SessionRecord.decode(
        SessionRecord(SessionState("v1", "en", history=(shared_frame(here, ()),))).encode()
    )
    assert read.state.history[0] is shared_frame(here, ())
