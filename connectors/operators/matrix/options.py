"""The Matrix operator channel's options: ``handoff: services: <name>: options:``.

Secrets (the access token, the pickle key) can be given as ``<name>_file`` too, and are kept
out of ``repr``. ``operators`` is the allow-list: each entry is a Matrix user id and the
name the person is told (a first name or a role), ``"@anna:helpline.example = Anna"``.
``language`` is the language of the room's texts (``locales/operators.<locale>.yml``): one
of the program's locales, which the configuration reader gives as ``program_locales``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from redirection_bot.api import LOCALE_PATTERN, ConfigError, above_zero, did_you_mean, read_secret

PREFIX = "handoff.services.<name>.options"
MIN_KEY_LENGTH = 16
MAX_NAME_LENGTH = 40
_USER_ID = re.compile(r"@[^:\s]+:\S+\Z")
_ROOM_ID = re.compile(r"![^\s]+\Z")


@dataclass(frozen=True, slots=True)
class MatrixOperatorOptions:
    """What an operator writes for a Matrix service: the configuration reader checks the
    types and reports problems at file:line:column, then ``checked()`` the rest."""

    homeserver: str = ""
    user_id: str = ""
    """The bot's own account in the operator room (not the people's bot account)."""
    access_token: str = field(default="", repr=False)
    access_token_file: str | None = None
    device_id: str | None = None
    room: str = ""
    """The operator room's id (``!abc:helpline.example``): tickets appear there."""
    operators: tuple[str, ...] = ()
    """Who may act: ``"@anna:helpline.example = Anna"`` (the name is what the person is told);
    ``allow_list`` reads them."""
    encryption: bool = True
    state_dir: str | None = None
    """Where the bot keeps its encryption keys (needed with encryption)."""
    pickle_key: str | None = field(default=None, repr=False)
    pickle_key_file: str | None = None
    sync_timeout_seconds: float = field(default=30.0, metadata=above_zero())
    max_backoff_seconds: float = field(default=60.0, metadata=above_zero())
    undecryptable_wait_seconds: float = field(default=60.0, metadata=above_zero())
    language: str | None = None
    """The language of what the bot writes in the room (None: the program's default
    locale)."""
    program_locales: tuple[str, ...] = ()
    """The program's locales, given by the configuration reader (not written in the file)."""

    def checked(self) -> MatrixOperatorOptions:
        """The options with the secrets read (from their files where they are named) and the
        homeserver's address without a trailing ``/``; ConfigError names the first problem."""
        homeserver = _required(self.homeserver, "homeserver")
        parts = urlsplit(homeserver)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{PREFIX}.homeserver: give a URL such as https://matrix.example.org")
        user_id = _required(self.user_id, "user_id")
        if not _USER_ID.match(user_id):
            raise ConfigError(f"{PREFIX}.user_id: give a full user id such as @desk:example.org")
        token = read_secret(self.access_token, self.access_token_file, "access_token", PREFIX)
        if token is None:
            raise ConfigError(f"{PREFIX}.access_token: the bot's access token is needed")
        room = _required(self.room, "room")
        if not _ROOM_ID.match(room):
            raise ConfigError(
                f"{PREFIX}.room: give the room's id, which starts with ! (Room settings, Advanced)"
            )
        allow_list(self.operators)
        pickle_key = read_secret(self.pickle_key, self.pickle_key_file, "pickle_key", PREFIX)
        if self.encryption and (
            not self.state_dir or not pickle_key or len(pickle_key) < MIN_KEY_LENGTH
        ):
            raise ConfigError(
                f"{PREFIX}: with encryption, give state_dir and a pickle_key of at least "
                f"{MIN_KEY_LENGTH} characters (the bot's encryption keys are kept there, sealed)"
            )
        return dataclasses.replace(
            self,
            homeserver=homeserver.rstrip("/"),
            access_token=token,
            access_token_file=None,
            pickle_key=pickle_key,
            pickle_key_file=None,
            device_id=self.device_id or None,
            state_dir=self.state_dir or None,
            language=room_language(self.language, self.program_locales),
        )


def room_language(language: str | None, program_locales: tuple[str, ...]) -> str | None:
    """The ``language`` option, checked against the program's locales when they are known."""
    if language is None:
        return None
    if not LOCALE_PATTERN.match(language):
        raise ConfigError(f"{PREFIX}.language: give a language code such as en, es or fi")
    known = list(program_locales)
    if known and language not in known:
        raise ConfigError(
            f"{PREFIX}.language: the program has no language `{language}`"
            f"{did_you_mean(language, known)}; it has {', '.join(known)}"
        )
    return language


def allow_list(entries: tuple[str, ...]) -> dict[str, str]:
    """``("@anna:helpline.example = Anna", ...)`` as ``{user id: name}``."""
    found: dict[str, str] = {}
    for entry in entries:
        user_id, _, name = str(entry).partition("=")
        user_id, name = user_id.strip(), name.strip()
        if not _USER_ID.match(user_id) or not name or len(name) > MAX_NAME_LENGTH:
            raise ConfigError(
                f"{PREFIX}.operators: `{entry}` should be a user id and the name the person is "
                f'told (at most {MAX_NAME_LENGTH} characters): "@anna:example.org = Anna"'
            )
        if user_id in found:
            raise ConfigError(
                f"{PREFIX}.operators: {user_id} is listed twice; keep one entry for each operator"
            )
        found[user_id] = name
    if not found:
        raise ConfigError(f"{PREFIX}.operators: list the operators who may take conversations")
    return found


def _required(value: str, name: str) -> str:
    if not value:
        raise ConfigError(f"{PREFIX}.{name}: this setting is required")
    return value
