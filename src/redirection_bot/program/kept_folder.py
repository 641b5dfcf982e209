"""The folder where ``serve`` keeps what it made at a start, for the next one: the loaded
program (``program/kept.py``) and the code its dataclasses compiled (``program/kept_code.py``).

A kept file runs code when read (a pickle, compiled code), so it is read only from a folder and
a file that this user owns and nobody else may write, on a path whose every folder and link (as
written and where it really leads) belongs to this user or to root and is writable by nobody
else unless sticky (as ssh's StrictModes treats its keys); anything else is ignored (logged).
Whoever can write there as this user can change the package itself. Each file starts with a
line saying what it holds and what it was made for, and a second with the digest of the rest,
both compared before anything in it is read: a file made for something else, or damaged
(cut short, a bit flipped), is never run. Failing is harmless: a file that cannot be read or
written is logged, and the start makes what it would have read (and keeps it again).

This module imports nothing of the bot's but its logs: ``kept_code`` uses it before the bot's
modules are imported.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol, TypeVar

from redirection_bot.operations.logs import log_event

CACHE_ENV = "REDIRECTION_BOT_PROGRAM_CACHE"
OFF = "off"
WRITING = ".writing-"
"""The name a file has while it is written (then it is renamed)."""

MAX_BYTES = 256 * 1024 * 1024
"""A kept file larger than this is not read (the shipped program's copy is about 4 MB): a
file filled by mistake costs no more than a start without it."""
DIGEST_LINE = 64

_T = TypeVar("_T")


class Say(Protocol):
    """How ``read_kept`` tells why a file was ignored (``log_event``'s signature)."""

    def __call__(self, name: str, level: int = logging.INFO, **fields: object) -> None: ...


def cache_folder(environment: Mapping[str, str]) -> Path | None:
    """Where ``serve`` keeps what it made (None: nothing kept): ``$REDIRECTION_BOT_PROGRAM_CACHE``
    (``off`` turns keeping off), by default ``$XDG_CACHE_HOME/redirection-bot`` or
    ``~/.cache/redirection-bot``."""
    chosen = environment.get(CACHE_ENV, "").strip()
    if chosen.lower() == OFF:
        return None
    if chosen:
        return Path(chosen).expanduser()
    base = environment.get("XDG_CACHE_HOME") or (
        str(Path(environment["HOME"]) / ".cache") if environment.get("HOME") else ""
    )
    return Path(base) / "redirection-bot" if base else None


def read_kept(
    folder: Path,
    path: Path,
    header: bytes,
    read: Callable[[bytes], _T],
    what: str,
    say: Say = log_event,
) -> _T | None:
    """What ``read`` makes of what the file at ``path`` keeps; None when there is no such
    file, or it is not this user's alone, or it is not a plain file, or it was made for
    something else (its first line is not ``header``), or what it keeps is not what was
    written (its digest, the second line, differs: a damaged file is never run), or it cannot
    be read. Each is said (``say``, by default logged) as ``<what> ignored``."""
    if not os.path.lexists(path):
        return None  # a first start, or something changed
    try:
        if not safe_path(folder):
            say(f"{what} ignored", level=logging.WARNING, reason="permissions")
            return None
        found = os.lstat(path)
        if not stat.S_ISREG(found.st_mode):
            say(f"{what} ignored", level=logging.WARNING, reason="not_a_file")
            return None
        if not _own(found):
            say(f"{what} ignored", level=logging.WARNING, reason="permissions")
            return None
        if found.st_size > MAX_BYTES:
            say(f"{what} ignored", level=logging.WARNING, reason="too_large")
            return None
        with path.open("rb") as source:
            # Compared before anything is read that could run: a file made for something
            # else, put in this one's place, is never opened further.
            if source.read(len(header)) != header:
                say(f"{what} ignored", reason="another_program")
                return None
            digest = source.readline(DIGEST_LINE + 1).rstrip(b"\n")
            kept = source.read(MAX_BYTES + 1)
        if digest != _digest(kept):
            say(f"{what} ignored", level=logging.WARNING, reason="damaged")
            return None
        return read(kept)
    except FileNotFoundError:
        return None
    except Exception as error:  # whatever is wrong with it, the start makes it instead
        say(f"{what} ignored", reason=type(error).__name__)
        return None


def write_kept(folder: Path, path: Path, header: bytes, kept: bytes, what: str) -> bool:
    """Keep ``kept`` as ``path`` in ``folder`` (made 0700 if needed), after ``header`` and its
    digest: written whole under another name, then renamed. False (logged as ``<what> not
    kept``) when the folder is not safe or writing fails."""
    try:
        if not safe_path(folder, must_exist=False):
            log_event(f"{what} not kept", level=logging.WARNING, reason="permissions")
            return False
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not safe_path(folder):
            log_event(f"{what} not kept", level=logging.WARNING, reason="permissions")
            return False
        with tempfile.NamedTemporaryFile(dir=folder, prefix=WRITING, delete=False) as out:
            try:
                out.write(header + _digest(kept) + b"\n")
                out.write(kept)
            except BaseException:
                os.unlink(out.name)
                raise
        os.replace(out.name, path)
    except Exception as error:  # not keeping it only costs the next start time
        log_event(f"{what} not kept", level=logging.WARNING, reason=type(error).__name__)
        return False
    return True


def _digest(kept: bytes) -> bytes:
    """SHA-256 of what a file keeps, in hex (about 1 ms a megabyte here): damage, a bit
    flipped on the disk or a file cut short, is found before anything in it runs."""
    return hashlib.sha256(kept).hexdigest().encode()


def safe_path(folder: Path, must_exist: bool = True) -> bool:
    """``folder`` is this user's, and nobody else can change what its path leads to: every
    folder and link on the way, as written and as it really leads, belongs to this user or to
    root, and a folder others may write is sticky (as /tmp), so that they cannot replace what
    is in it. Without ``must_exist``: the part of the path that exists so far."""
    absolute = folder.absolute()
    for path in (absolute, Path(os.path.realpath(absolute))):
        for step in (*reversed(path.parents), path):
            try:
                found = os.lstat(step)
            except FileNotFoundError:
                if must_exist:
                    return False
                break  # the rest is made by this user, 0700
            if found.st_uid not in (0, os.getuid()):
                return False
            shared = found.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
            if stat.S_ISDIR(found.st_mode) and shared and not found.st_mode & stat.S_ISVTX:
                return False
    return not must_exist or _own(os.stat(absolute))


def _own(found: os.stat_result) -> bool:
    """Owned by this user, and writable by nobody else."""
    return found.st_uid == os.getuid() and not found.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
