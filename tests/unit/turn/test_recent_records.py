"""A turn does not decode what the previous turn saved, and never answers without the store."""

from redirection_bot.engine.state import SessionState
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
