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
- **Why it cannot be a way in, and failing is harmless:** ``program/kept_folder.py`` (read only
  from a folder and a file that this user alone can write; a copy that cannot be read or written
  is logged, and the program is loaded from its files).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import io
import logging
import os
import pickle
import stat
import sys
import time
from collections.abc import Collection
from pathlib import Path
from typing import IO, Any

import redirection_bot
from redirection_bot.operations.logs import log_event
from redirection_bot.program.kept_folder import (
    CACHE_ENV,
    WRITING,
    cache_folder,
    read_kept,
    write_kept,
)
from redirection_bot.program.load import LoadedProgram, ProgramSources, load_program

__all__ = ["CACHE_ENV", "cache_folder", "dump_kept", "fingerprint", "load_kept"]

WHAT = "program copy"
PREFIX = "program-"
SUFFIX = ".pickle"
HEADER = "redirection-bot program copy, format 3, "
"""The first line of a copy: this, then the program's hash; the pickle follows."""
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
        made = _constructor_fields(kind) if dataclasses.is_dataclass(kind) else None
        if made is None:  # not a dataclass instance (a class's type is never one), or not so
            return NotImplemented
        names, worked_out = made
        values = tuple(getattr(obj, name) for name in names)
        if worked_out and not _alike(obj, kind(*values)):
            return NotImplemented  # the constructor would not make it again: field by field
        return kind, values


@functools.cache
def _constructor_fields(cls: type) -> tuple[tuple[str, ...], bool] | None:
    """The fields that ``cls(*values)`` takes in order, and whether the constructor works
    others out (``__post_init__``, fields outside ``__init__``: each copy is then checked by
    making it again as it is written, ``_alike``); None when a copy made so could differ from
    the original whatever it holds (a custom ``__init__`` or ``__setstate__``, fields given by
    keyword only)."""
    fields = dataclasses.fields(cls)
    setstate = getattr(cls, "__setstate__", None)
    params = vars(cls).get("__dataclass_params__")
    if (
        params is None
        or not params.init
        or (setstate is not None and setstate.__name__ != "_dataclass_setstate")
        or any(field.kw_only for field in fields)
    ):
        return None
    worked_out = hasattr(cls, "__post_init__") or not all(field.init for field in fields)
    return tuple(field.name for field in fields if field.init), worked_out


def _alike(original: Any, again: Any) -> bool:
    """Every field of ``again`` (compared or not) is the original's."""
    return all(
        getattr(again, field.name) == getattr(original, field.name)
        for field in dataclasses.fields(original)
    )


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
    digest = hashlib.sha256()
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
        return hashlib.file_digest(source, hashlib.sha256).digest()


def dump_kept(value: object, out: IO[bytes]) -> None:
    """Write ``value`` as a kept copy holds it (``bench/screen.py`` measures the screening
    rules read back so, as a restarted ``serve`` holds them)."""
    _ProgramPickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(value)


def _header(same: str) -> bytes:
    return f"{HEADER}{same}\n".encode()


def _read(folder: Path, path: Path, same: str) -> LoadedProgram | None:
    kept = read_kept(folder, path, _header(same), pickle.loads, WHAT)
    return kept if isinstance(kept, LoadedProgram) else None


def _write(folder: Path, path: Path, same: str, loaded: LoadedProgram) -> None:
    """Keep ``loaded`` under ``path``, after its hash ``same``; drop all but the newest
    ``KEEP_COPIES``, and what a start killed while writing left."""
    try:
        written = io.BytesIO()
        dump_kept(loaded, written)
    except (pickle.PicklingError, RecursionError) as error:
        log_event(f"{WHAT} not kept", level=logging.WARNING, reason=type(error).__name__)
        return
    if not write_kept(folder, path, _header(same), written.getvalue(), WHAT):
        return
    try:
        copies = sorted(folder.glob(f"{PREFIX}*{SUFFIX}"), key=lambda p: p.stat().st_mtime)
        stale = time.time() - ABANDONED_SECONDS
        abandoned = [p for p in folder.glob(f"{WRITING}*") if p.stat().st_mtime < stale]
        for older in [*copies[:-KEEP_COPIES], *abandoned]:
            older.unlink(missing_ok=True)
    except OSError as error:
        log_event(f"{WHAT} not kept", level=logging.WARNING, reason=type(error).__name__)
