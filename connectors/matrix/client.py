"""matrix-nio, wrapped once: the rest of the connector never touches nio or raw events.

``MatrixClient`` logs in, keeps the encryption machinery going between syncs, and turns a
sync response into a ``SyncBatch`` of plain, typed items (``updates.py``). Every request
raises one of three errors instead of returning nio's error objects: ``Unreachable`` (try
again later, with backoff), ``RateLimited`` (try again after the server's ``retry_after_ms``)
and ``Refused`` (the homeserver said no; trying again will not help).

nio retries by itself forever on timeouts and rate limits; that is switched off here
(``max_timeouts=0``, ``max_limit_exceeded=0``) so that the connector decides, logs what
happened without identifiers, and stops promptly when asked. nio's own log lines can carry
user ids, so its loggers are silenced (see ``silence_nio_logs``).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    BadEvent,
    ErrorResponse,
    InviteMemberEvent,
    LoginResponse,
    MegolmEvent,
    MessageDirection,
    ReactionEvent,
    RoomEncryptedMedia,
    RoomMemberEvent,
    RoomMessageEmote,
    RoomMessageMedia,
    RoomMessageNotice,
    RoomMessagesResponse,
    RoomMessageText,
    RoomMessageUnknown,
    RoomSendResponse,
    StickerEvent,
    SyncResponse,
    UnknownBadEvent,
    UploadResponse,
    WhoamiResponse,
)
from nio.exceptions import EncryptionError, LocalProtocolError, OlmUnverifiedDeviceError

from redirection_bot.api import ConnectorError

from .updates import (
    Invite,
    Item,
    OwnJoin,
    PersonOther,
    PersonText,
    Reaction,
    RoomBatch,
    RoomText,
    SyncBatch,
    Undecryptable,
    reply_stripped,
)

TIMELINE_LIMIT = 50
BACKFILL_PAGE = 100
BACKFILL_MAX_EVENTS = 1000
_SYNC_FILTER: dict[str, Any] = {
    "presence": {"types": []},
    "account_data": {"types": []},
    "room": {
        "timeline": {"limit": TIMELINE_LIMIT},
        "state": {"lazy_load_members": False},
        "ephemeral": {"types": []},
        "account_data": {"types": []},
    },
}
_TRANSIENT_ERRCODES = frozenset({"M_UNKNOWN", "M_BAD_STATUS"})
_TRANSIENT = (aiohttp.ClientError, asyncio.TimeoutError, TimeoutError, ConnectionError, ValueError)


class Unreachable(ConnectorError):
    """The homeserver could not be reached or answered with a server error."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the homeserver is unreachable: {reason}")
        self.reason = reason
        """A short word (an error type or code), safe to log."""


class RateLimited(ConnectorError):
    """The homeserver asked to wait (``M_LIMIT_EXCEEDED``)."""

    def __init__(self, retry_after_seconds: float) -> None:
        super().__init__(f"rate limited for {retry_after_seconds:.1f} s")
        self.retry_after_seconds = retry_after_seconds


class Refused(ConnectorError):
    """The homeserver refused the request; trying again will not help."""

    def __init__(self, errcode: str) -> None:
        super().__init__(f"the homeserver refused: {errcode}")
        self.errcode = errcode


@dataclass(frozen=True, slots=True)
class Login:
    """A logged-in device: what must be kept to be the same device after a restart."""

    device_id: str
    access_token: str


def silence_nio_logs() -> None:
    """nio logs user ids, room ids and device ids; none of it may reach our logs."""
    for name in ("nio", "peewee"):
        quiet = logging.getLogger(name)
        quiet.propagate = False
        quiet.handlers = [logging.NullHandler()]


Classifier = Callable[[Any, str, str], Item | None]


class MatrixClient:
    """One bot account on one homeserver, with its encryption store on disk. ``classifier``
    says what timeline events mean to the bot: ``classify`` (people in direct chats, the
    default) or ``classify_room_event`` (several people in a room: an operator room)."""

    def __init__(
        self,
        homeserver: str,
        user_id: str,
        store_dir: str | None,
        pickle_key: str | None,
        encryption: bool,
        classifier: Classifier | None = None,
    ) -> None:
        silence_nio_logs()
        config = AsyncClientConfig(
            max_limit_exceeded=0,
            max_timeouts=0,
            encryption_enabled=encryption,
            store_sync_tokens=False,
            pickle_key=pickle_key or "",
            request_timeout=30,
        )
        self.encryption = encryption
        self._classify: Classifier = classifier or classify
        self._nio = AsyncClient(
            homeserver, user_id, store_path=store_dir if encryption else "", config=config
        )
        self.user_id = user_id

    async def close(self) -> None:
        await self._nio.close()

    # --- logging in -----------------------------------------------------------------------------

    async def log_in_with_token(self, access_token: str, device_id: str | None) -> Login:
        """Use an access token; the device id comes from the homeserver if not given."""
        self._nio.access_token = access_token
        if device_id is None:
            answer = await self._call(self._nio.whoami())
            if not isinstance(answer, WhoamiResponse) or not answer.device_id:
                raise Refused("M_UNKNOWN_TOKEN")
            if answer.user_id != self.user_id:
                raise ConnectorError("the access token belongs to another user than user_id")
            device_id = str(answer.device_id)
        self._restore(Login(device_id, access_token))
        return Login(device_id, access_token)

    async def log_in_with_password(
        self, password: str, device_name: str, device_id: str | None
    ) -> Login:
        self._nio.device_id = device_id or ""
        answer = await self._call(self._nio.login(password, device_name=device_name))
        if not isinstance(answer, LoginResponse):
            raise Refused("M_FORBIDDEN")
        login = Login(str(answer.device_id), str(answer.access_token))
        self._restore(login)
        return login

    def _restore(self, login: Login) -> None:
        self._nio.restore_login(self.user_id, login.device_id, login.access_token)

    # --- syncing --------------------------------------------------------------------------------

    async def sync(self, since: str | None, timeout_seconds: float, first: bool) -> SyncBatch:
        """Wait for what happened since ``since`` (the first sync of a process: full state)."""
        answer = await self._call(
            self._nio.sync(
                timeout=int(timeout_seconds * 1000),
                sync_filter=_SYNC_FILTER,
                since=since,
                full_state=first and since is not None,
            )
        )
        if not isinstance(answer, SyncResponse):
            raise Unreachable("unexpected_answer")
        await self._keep_encryption_going()
        return self._batch(answer)

    async def _keep_encryption_going(self) -> None:
        """What nio's sync_forever does between syncs: keys up, devices known, sessions made."""
        if not self.encryption or self._nio.olm is None:
            return
        if self._nio.should_upload_keys:
            await self._call(self._nio.keys_upload())
        if self._nio.should_query_keys:
            await self._call(self._nio.keys_query())
        if self._nio.should_claim_keys:
            await self._call(self._nio.keys_claim(self._nio.get_users_for_key_claiming()))
        await self._call(self._nio.send_to_device_messages())

    def _batch(self, answer: SyncResponse) -> SyncBatch:
        invites = tuple(
            Invite(room_id, _invited_as_direct(info.invite_state, self.user_id))
            for room_id, info in answer.rooms.invite.items()
        )
        rooms = tuple(
            RoomBatch(
                room_id,
                self.members(room_id),
                self.is_encrypted(room_id),
                tuple(
                    item
                    for event in info.timeline.events
                    if (item := self._classify(event, self.user_id, room_id)) is not None
                ),
                bool(info.timeline.limited),
                info.timeline.prev_batch,
            )
            for room_id, info in answer.rooms.join.items()
        )
        return SyncBatch(str(answer.next_batch), invites, rooms, tuple(answer.rooms.leave))

    async def backfill(
        self, room_id: str, prev_batch: str, reached: Callable[[Item], Awaitable[bool]]
    ) -> list[Item]:
        """Older timeline items, oldest first, back to the first one ``reached`` says is known."""
        found: list[Item] = []
        token: str | None = prev_batch
        seen = 0
        while token is not None and seen < BACKFILL_MAX_EVENTS:
            try:
                answer = await self._call(
                    self._nio.room_messages(
                        room_id, start=token, direction=MessageDirection.back, limit=BACKFILL_PAGE
                    )
                )
            except Refused:
                break  # history the bot may not see: what it has is all there is
            if not isinstance(answer, RoomMessagesResponse) or not answer.chunk:
                break
            for event in answer.chunk:
                seen += 1
                item = self._classify(event, self.user_id, room_id)
                if item is None:
                    continue
                if await reached(item):
                    return found[::-1]
                found.append(item)
            token = answer.end
        return found[::-1]

    # --- rooms ----------------------------------------------------------------------------------

    def members(self, room_id: str) -> int:
        """Joined and invited members, the bot included (0 for an unknown room)."""
        room = self._nio.rooms.get(room_id)
        return int(room.member_count) if room is not None else 0

    def is_encrypted(self, room_id: str) -> bool:
        room = self._nio.rooms.get(room_id)
        return bool(room is not None and room.encrypted)

    async def join(self, room_id: str) -> None:
        await self._call(self._nio.join(room_id))

    async def leave(self, room_id: str) -> None:
        """Leave (or refuse an invite) and forget the room, so it drops off the bot's list."""
        await self._call(self._nio.room_leave(room_id))
        # A refused invite cannot be forgotten (and nothing is kept of it).
        with contextlib.suppress(Refused):
            await self._call(self._nio.room_forget(room_id))

    # --- sending --------------------------------------------------------------------------------

    async def send(self, room_id: str, content: dict[str, Any], txn: str) -> str:
        """Send a message with a transaction id; a repeat returns the first send's event id."""
        try:
            answer = await self._call(
                self._nio.room_send(
                    room_id, "m.room.message", content, tx_id=txn, ignore_unverified_devices=True
                )
            )
        except LocalProtocolError as error:
            # nio knows no such room: the bot is no longer in it.
            raise Refused("M_UNKNOWN_ROOM") from error
        except (OlmUnverifiedDeviceError, EncryptionError) as error:
            raise Unreachable(type(error).__name__) from error
        if not isinstance(answer, RoomSendResponse):
            raise Unreachable("unexpected_answer")
        return str(answer.event_id)

    async def upload_text(
        self, room_id: str, filename: str, text: str
    ) -> tuple[str | None, dict[str, Any] | None, int]:
        """Upload a text file (encrypted in an encrypted room): (url, file info, size)."""
        data = text.encode("utf-8")
        encrypt = self.is_encrypted(room_id)
        answer, keys = await self._call_pair(
            self._nio.upload(
                lambda _got_429, _got_timeouts: io.BytesIO(data),
                content_type="text/plain; charset=utf-8",
                filename=filename,
                encrypt=encrypt,
                filesize=len(data),
            )
        )
        if not isinstance(answer, UploadResponse):
            raise Unreachable("unexpected_answer")
        if encrypt and keys is not None:
            return None, {**keys, "url": answer.content_uri}, len(data)
        return str(answer.content_uri), None, len(data)

    # --- encrypted messages that arrived before their keys ----------------------------------------

    def decrypt(self, room_id: str, source: dict[str, Any]) -> Item | None:
        """The message if its key has arrived since (``Undecryptable`` while it has not;
        None for something decrypted that needs no answer)."""
        event = MegolmEvent.from_dict(source)
        if not isinstance(event, MegolmEvent):
            return None
        if self._nio.olm is None:
            return Undecryptable(event.event_id, source)
        event.room_id = room_id
        try:
            decrypted = self._nio.decrypt_event(event)
        except EncryptionError:
            return Undecryptable(event.event_id, source)
        return self._classify(decrypted, self.user_id, room_id)

    async def request_key(self, room_id: str, source: dict[str, Any]) -> None:
        """Ask the sender's devices for the missing key (once per session)."""
        event = MegolmEvent.from_dict(source)
        if not isinstance(event, MegolmEvent) or self._nio.olm is None:
            return
        event.room_id = room_id
        with contextlib.suppress(LocalProtocolError, Refused):  # already requested
            await self._call(self._nio.request_room_key(event))

    # --- one request ----------------------------------------------------------------------------

    async def _call(self, request: Awaitable[Any]) -> Any:
        try:
            answer = await request
        except _TRANSIENT as error:
            raise Unreachable(type(error).__name__) from error
        _raise_for(answer)
        return answer

    async def _call_pair(self, request: Awaitable[tuple[Any, Any]]) -> tuple[Any, Any]:
        try:
            answer, extra = await request
        except _TRANSIENT as error:
            raise Unreachable(type(error).__name__) from error
        _raise_for(answer)
        return answer, extra


def _raise_for(answer: Any) -> None:
    if not isinstance(answer, ErrorResponse):
        return
    code = str(answer.status_code or "M_UNKNOWN")
    status = getattr(getattr(answer, "transport_response", None), "status", None)
    if code == "M_LIMIT_EXCEEDED" or status == 429:
        raise RateLimited((answer.retry_after_ms or 1000) / 1000)
    if (isinstance(status, int) and status >= 500) or code in _TRANSIENT_ERRCODES:
        raise Unreachable(code)
    raise Refused(code)


def _invited_as_direct(invite_state: list[Any], own_user_id: str) -> bool:
    for event in invite_state:
        if isinstance(event, InviteMemberEvent) and event.state_key == own_user_id:
            return bool(isinstance(event.content, dict) and event.content.get("is_direct"))
    return False


def classify(event: Any, own_user_id: str, room_id: str) -> Item | None:
    """What a timeline event means to the bot (None: nothing to answer)."""
    if isinstance(event, UnknownBadEvent):
        return None  # not even an event id and a sender: nothing to answer
    if isinstance(event, BadEvent):
        # A message the bot cannot read (malformed, or media in a form nio does not know):
        # the person is told so rather than left waiting.
        mine = event.sender == own_user_id
        return PersonOther(event.event_id) if event.type == "m.room.message" and not mine else None
    if isinstance(event, RoomMemberEvent):
        mine = event.state_key == own_user_id and event.membership == "join"
        return OwnJoin(event.event_id) if mine and event.prev_membership != "join" else None
    sender = getattr(event, "sender", None)
    if sender == own_user_id or not isinstance(getattr(event, "event_id", None), str):
        return None
    if isinstance(event, MegolmEvent):
        source = dict(event.source)
        source.setdefault("room_id", room_id)
        return Undecryptable(event.event_id, source)
    if isinstance(event, RoomMessageNotice):
        return None  # notices are what bots send; answering them makes loops
    content = event.source.get("content") if isinstance(event.source, dict) else None
    if not isinstance(content, dict) or _is_edit(content):
        return None
    if isinstance(event, RoomMessageText | RoomMessageEmote):
        return PersonText(event.event_id, reply_stripped(event.body, content))
    if isinstance(event, RoomMessageMedia | RoomEncryptedMedia | StickerEvent | RoomMessageUnknown):
        return PersonOther(event.event_id)
    return None


def classify_room_event(event: Any, own_user_id: str, room_id: str) -> Item | None:
    """What a timeline event of a room with several people means: a text with its sender
    and thread, a reaction, or an encrypted message still to be read (None: nothing)."""
    sender = getattr(event, "sender", None)
    event_id = getattr(event, "event_id", None)
    if sender == own_user_id or not isinstance(sender, str) or not isinstance(event_id, str):
        return None
    if isinstance(event, MegolmEvent):
        source = dict(event.source)
        source.setdefault("room_id", room_id)
        return Undecryptable(event_id, source)
    if isinstance(event, ReactionEvent):
        return Reaction(event_id, sender, event.reacts_to, event.key)
    if not isinstance(event, RoomMessageText) or isinstance(event, RoomMessageNotice):
        return None
    content = event.source.get("content") if isinstance(event.source, dict) else None
    if not isinstance(content, dict) or _is_edit(content):
        return None
    return RoomText(event_id, sender, reply_stripped(event.body, content), _thread_root(content))


def _thread_root(content: dict[str, Any]) -> str | None:
    relation = content.get("m.relates_to")
    if not isinstance(relation, dict):
        return None
    if relation.get("rel_type") == "m.thread" and isinstance(relation.get("event_id"), str):
        return str(relation["event_id"])
    reply = relation.get("m.in_reply_to")
    if isinstance(reply, dict) and isinstance(reply.get("event_id"), str):
        return str(reply["event_id"])
    return None


def _is_edit(content: dict[str, Any]) -> bool:
    relation = content.get("m.relates_to")
    return isinstance(relation, dict) and relation.get("rel_type") == "m.replace"
