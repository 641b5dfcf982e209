"""The records of the conversations that spoke last, by the bytes they were stored as.

A turn reads what the previous turn of the same conversation saved; decoding those bytes
again gives the same immutable record, so the record is kept beside its bytes and reused
when the store hands back exactly those bytes. Nothing is ever answered from here without
the store: a record is reused only when the store returned the same bytes, so an erased or
expired conversation is never served from memory, and an erased one is dropped at once.
"""

from __future__ import annotations

from collections import OrderedDict

from redirection_bot.handoff.record import SessionRecord

DEFAULT_SIZE = 256
"""How many conversations are remembered: about the turns in flight on a busy instance."""


class RecentRecords:
    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._size = size
        self._kept: OrderedDict[str, tuple[bytes, SessionRecord]] = OrderedDict()

    def encode(self, session_id: str, record: SessionRecord) -> bytes:
        """``record`` as stored, remembered for the conversation's next read."""
        data = record.encode()
        self._remember(session_id, data, record)
        return data

    def decode(self, session_id: str, data: bytes) -> SessionRecord:
        """The record in ``data`` (raises EngineError as ``SessionRecord.decode``)."""
        kept = self._kept.get(session_id)
        if kept is not None and kept[0] == data:
            self._kept.move_to_end(session_id)
            return kept[1]
        record = SessionRecord.decode(data)
        self._remember(session_id, data, record)
        return record

    def forget(self, session_id: str) -> None:
        self._kept.pop(session_id, None)

    def _remember(self, session_id: str, data: bytes, record: SessionRecord) -> None:
        self._kept[session_id] = (data, record)
        self._kept.move_to_end(session_id)
        if len(self._kept) > self._size:
            self._kept.popitem(last=False)
