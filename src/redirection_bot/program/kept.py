"""The loaded program kept between starts of ``serve``, so that a restart serves sooner.

Loading reads every YAML file, compiles the screening rules and validates everything: about half
a second, and several megabytes of memory that the parse leaves fragmented. ``serve`` keeps what
it loaded, as a pickle, in a folder of this user's (``$REDIRECTION_BOT_PROGRAM_CACHE``, by
default ``$XDG_CACHE_HOME/redirection-bot`` or ``~/.cache/redirection-bot``; ``off`` turns it
off), and the next start with the same program reads that instead (about a tenth of a second).
Only ``serve`` uses it: ``validate``, ``test`` and the authoring tools always read the files.

- **What it holds:** the program only (what clinicians wrote, compiled, and its warnings),
  nothing of any conversation or configuration.
- **When it is used:** only when everything that went into it is the same: a hash of the
  content of every file of the program (dialogues, locales, screening rules; links to folders
  followed, as the loader does) and of this package, of the Python and package versions, the
  registered actions and the day (the services directory's checks depend on the date) names
  the copy and is its first line, read before anything is unpickled. Any change, even one
  that keeps a file's size and time, loads and validates the files again (an invalid program
  never starts) and replaces the copy; files that changed while they were read are loaded
  but not kept.
- **Why it cannot be a way in:** a pickle runs code when read, so a kept copy is read only
  from a folder and a file that this user owns and nobody else may write, on a path whose
  every folder and link (as written and where it really leads) belongs to this user or to
  root and is writable by nobody else unless sticky (as ssh's StrictModes treats its keys);
  anything else is ignored (logged) and the program is loaded from its files. Whoever can
  write there as this user can change the package itself.
- **Failing is harmless:** a copy that cannot be read or written is logged and the program is
  loaded from its files.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import logging
import os
import pickle
import stat
import sys
import tempfile
import time
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import IO, Any

import redirection_bot
from redirection_bot.operations.logs import log_event
from redirection_bot.program.load import LoadedProgram, ProgramSources, load_program

CACHE_ENV = "REDIRECTION_BOT_PROGRAM_CACHE"
OFF = "off"
PREFIX = "program-"
SUFFIX = ".pickle"
HEADER = "redirection-bot program copy, format 2, "
"""The first line of a copy: this, then the program's hash; the pickle follows."""
WRITING = ".writing-"
ABANDONED_SECONDS = 600.0
"""A copy still being written after this long was left by a start that was killed."""
KEEP_COPIES = 4
"""Copies kept at most (the newest): a few programs served by one user, or an edit undone."""


class _ProgramPickler(pickle.Pickler):
    """Writes the program's dataclasses (tens of thousands: words of phrases, texts, spans)
    as their constructor and its arguments, so reading them back is one call each. By
    default a frozen dataclass is read back field by field through ``dataclasses.fields``,
    which made reading the copy take twice as long (110 ms instead of 47 ms)."""

    def reducer_override(self, obj: Any) -> Any:
        kind: type = type(obj)
        names = _constructor_fields(kind) if dataclasses.is_dataclass(kind) else None
        if names is None:  # not a dataclass instance (a class's type is never one), or not so
            return NotImplemented
        return kind, tuple(getattr(obj, name) for name in names)


@functools.cache
def _constructor_fields(cls: type) -> tuple[str, ...] | None:
    """The fields that ``cls(*values)`` takes in order, or None when a copy made so could
    differ from the original (a custom ``__init__``, ``__post_init__`` or ``__setstate__``,
    fields outside ``__init__`` or given by keyword only)."""
    fields = dataclasses.fields(cls)
    setstate = getattr(cls, "__setstate__", None)
    params = vars(cls).get("__dataclass_params__")
    if (
        params is None
        or not params.init
        or hasattr(cls, "__post_init__")
        or (setstate is not None and setstate.__name__ != "_dataclass_setstate")
        or any(not field.init or field.kw_only for field in fields)
    ):
        return None
    return tuple(field.name for field in fields)


def cache_folder(environment: Mapping[str, str]) -> Path | None:
    """Where ``serve`` keeps the loaded program (None: not kept)."""
    chosen = environment.get(CACHE_ENV, "").strip()
    if chosen.lower() == OFF:
        return None
    if chosen:
        return Path(chosen).expanduser()
    base = environment.get("XDG_CACHE_HOME") or (
        str(Path(environment["HOME"]) / ".cache") if environment.get("HOME") else ""
    )
    return Path(base) / "redirection-bot" if base else None


def load_kept(
    sources: ProgramSources,
    registered_actions: Collection[str] | None,
    today: dt.date,
    folder: Path | None,
) -> LoadedProgram:
    """The program, from the copy kept in ``folder`` when it is the same program, otherwise
    loaded and validated from its files (and kept for the next start)."""
    if folder is None:
        return load_program(sources, registered_actions, today)
    same = _fingerprint(sources, registered_actions, today)
    if same is None:  # an unreadable file: loading says where, as it does without a copy
        return load_program(sources, registered_actions, today)
    path = folder / f"{PREFIX}{same}{SUFFIX}"
    kept = _read(folder, path, same)
    if kept is not None:
        log_event("program loaded from its kept copy")
        return kept
    loaded = load_program(sources, registered_actions, today)
    # Files changed while they were read (a deploy during a restart): what was loaded may be
    # some of each, so it is not kept under either name.
    if _fingerprint(sources, registered_actions, today) == same:
        _write(folder, path, same, loaded)
    else:
        log_event("program copy not kept", level=logging.WARNING, reason="changed_while_loading")
    return loaded


def _fingerprint(
    sources: ProgramSources, registered_actions: Collection[str] | None, today: dt.date
) -> str | None:
    """``fingerprint``, or None when a file cannot be read (or vanished while it was read)."""
    try:
        return fingerprint(sources, registered_actions, today)
    except OSError as error:
        log_event("program copy not used", reason=type(error).__name__)
        return None


def fingerprint(
    sources: ProgramSources, registered_actions: Collection[str] | None, today: dt.date
) -> str:
    """A hash of everything that goes into the loaded program: the content of every file of
    the program and of this package (about 10 ms), the versions, the actions and the day."""
    digest = hashlib.blake2b(digest_size=20)
    actions = "\0".join(sorted(registered_actions)) if registered_actions is not None else "-"
    for part in (sys.version, redirection_bot.__version__, today.isoformat(), actions):
        digest.update(part.encode() + b"\n")
    package = Path(redirection_bot.__file__).parent
    for root in (package.resolve(), sources.dialogues.resolve(), sources.locales.resolve()):
        digest.update(f"{root}\n".encode())
        seen: set[str] = set()
        # Links to folders are followed (the loader follows some, and reports the others),
        # each real folder once.
        for folder, subfolders, files in os.walk(root, followlinks=True):
            real = os.path.realpath(folder)
            if real in seen:
                subfolders[:] = []
                continue
            seen.add(real)
            subfolders[:] = sorted(name for name in subfolders if name != "__pycache__")
            digest.update(f"{Path(folder).relative_to(root)}/ -> {real}\n".encode())
            for name in sorted(files):
                path = Path(folder, name)
                digest.update(f"{path.relative_to(root)}\0".encode())
                digest.update(_content(path))
    return digest.hexdigest()


def _content(path: Path) -> bytes:
    """What a file holds, for the fingerprint; for anything but a file that leads somewhere
    (a dangling link, a pipe that would never end), only what it is: loading reports it."""
    found = os.stat(path) if os.path.exists(path) else os.lstat(path)
    if not stat.S_ISREG(found.st_mode):
        return f"{stat.S_IFMT(found.st_mode)}:{os.path.realpath(path)}".encode()
    with path.open("rb") as source:  # in pieces: a large file is never held whole
        return hashlib.file_digest(source, lambda: hashlib.blake2b(digest_size=20)).digest()


def _own(found: os.stat_result) -> bool:
    """Owned by this user, and writable by nobody else."""
    return found.st_uid == os.getuid() and not found.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _safe_path(folder: Path, must_exist: bool = True) -> bool:
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


def dump_kept(value: object, out: IO[bytes]) -> None:
    """Write ``value`` as a kept copy holds it (``bench/screen.py`` measures the screening
    rules read back so, as a restarted ``serve`` holds them)."""
    _ProgramPickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(value)


def _header(same: str) -> bytes:
    return f"{HEADER}{same}\n".encode()


def _read(folder: Path, path: Path, same: str) -> LoadedProgram | None:
    if not os.path.lexists(path):
        return None  # a first start, or a changed program
    try:
        if not _safe_path(folder) or not _trusted_file(path):
            log_event("program copy ignored", level=logging.WARNING, reason="permissions")
            return None
        with path.open("rb") as source:
            # The program's hash comes first, read before anything is unpickled: a copy of
            # another program put in this one's place is never opened.
            if source.read(len(_header(same))) != _header(same):
                log_event("program copy ignored", reason="another_program")
                return None
            kept = pickle.load(source)
    except FileNotFoundError:
        return None
    except Exception as error:  # whatever is wrong with it, the files are read instead
        log_event("program copy ignored", reason=type(error).__name__)
        return None
    return kept if isinstance(kept, LoadedProgram) else None


def _trusted_file(path: Path) -> bool:
    """A file (not a link) of this user's that nobody else can write."""
    found = os.lstat(path)
    return stat.S_ISREG(found.st_mode) and _own(found)


def _write(folder: Path, path: Path, same: str, loaded: LoadedProgram) -> None:
    """Keep ``loaded`` under ``path``, after its hash ``same`` (written whole, then renamed);
    drop all but the newest ``KEEP_COPIES``, and what a start killed while writing left."""
    try:
        if not _safe_path(folder, must_exist=False):
            log_event("program copy not kept", level=logging.WARNING, reason="permissions")
            return
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _safe_path(folder):
            log_event("program copy not kept", level=logging.WARNING, reason="permissions")
            return
        with tempfile.NamedTemporaryFile(dir=folder, prefix=WRITING, delete=False) as out:
            try:
                out.write(_header(same))
                dump_kept(loaded, out)
            except BaseException:
                os.unlink(out.name)
                raise
        os.replace(out.name, path)
        copies = sorted(folder.glob(f"{PREFIX}*{SUFFIX}"), key=lambda p: p.stat().st_mtime)
        stale = time.time() - ABANDONED_SECONDS
        abandoned = [p for p in folder.glob(f"{WRITING}*") if p.stat().st_mtime < stale]
        for older in [*copies[:-KEEP_COPIES], *abandoned]:
            older.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError, RecursionError) as error:
        log_event("program copy not kept", level=logging.WARNING, reason=type(error).__name__)
