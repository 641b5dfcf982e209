"""The loaded program kept between starts of ``serve``, so that a restart serves sooner.

Loading reads every YAML file, compiles the screening rules and validates everything: about half
a second, and several megabytes of memory that the parse leaves fragmented. ``serve`` keeps what
it loaded, as a pickle, in a folder of this user's (``$REDIRECTION_BOT_PROGRAM_CACHE``, by
default ``$XDG_CACHE_HOME/redirection-bot`` or ``~/.cache/redirection-bot``; ``off`` turns it
off), and the next start with the same program reads that instead (about a tenth of a second).
Only ``serve`` uses it: ``validate``, ``test`` and the authoring tools always read the files.

- **What it holds:** the program only (what clinicians wrote, compiled, and its warnings),
  nothing of any conversation or configuration.
- **When it is used:** only when everything that went into it is the same. Its name is a hash
  of every file of the program (dialogues, locales, screening rules) and of this package (by
  path, size and modification time), of the Python and package versions, the registered actions
  and the day (the services directory's checks depend on the date). Anything else loads afresh
  and replaces it.
- **Why it cannot be a way in:** a pickle runs code when read, so a kept copy is read only
  from a folder and a file that this user owns, that are not symbolic links and that nobody
  else may write (as ssh treats its keys); anything else is ignored (logged) and the program
  is loaded from its files. Whoever can write there as this user can change the package itself.
- **Failing is harmless:** a copy that cannot be read or written is logged and the program is
  loaded from its files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path

import redirection_bot
from redirection_bot.operations.logs import log_event
from redirection_bot.program.load import LoadedProgram, ProgramSources, load_program

CACHE_ENV = "REDIRECTION_BOT_PROGRAM_CACHE"
OFF = "off"
PREFIX = "program-"
SUFFIX = ".pickle"
KEEP_COPIES = 4
"""Copies kept at most (the newest): a few programs served by one user, or an edit undone."""


def cache_folder(environment: Mapping[str, str]) -> Path | None:
    """Where ``serve`` keeps the loaded program (None: not kept)."""
    chosen = environment.get(CACHE_ENV, "").strip()
    if chosen.lower() == OFF:
        return None
    if chosen:
        return Path(chosen)
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
    path = folder / f"{PREFIX}{fingerprint(sources, registered_actions, today)}{SUFFIX}"
    kept = _read(folder, path)
    if kept is not None:
        log_event("program loaded from its kept copy")
        return kept
    loaded = load_program(sources, registered_actions, today)
    _write(folder, path, loaded)
    return loaded


def fingerprint(
    sources: ProgramSources, registered_actions: Collection[str] | None, today: dt.date
) -> str:
    """A hash of everything that goes into the loaded program."""
    digest = hashlib.blake2b(digest_size=20)
    actions = "\0".join(sorted(registered_actions)) if registered_actions is not None else "-"
    for part in (sys.version, redirection_bot.__version__, today.isoformat(), actions):
        digest.update(part.encode() + b"\n")
    package = Path(redirection_bot.__file__).parent
    for root in (package.resolve(), sources.dialogues.resolve(), sources.locales.resolve()):
        digest.update(f"{root}\n".encode())
        for folder, subfolders, files in os.walk(root):
            subfolders[:] = sorted(name for name in subfolders if name != "__pycache__")
            for name in sorted(files):
                found = os.stat(os.path.join(folder, name))
                digest.update(f"{folder}/{name}\0{found.st_size}\0{found.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _trusted(path: Path) -> bool:
    """Owned by this user, not a symbolic link, and writable by nobody else."""
    found = os.lstat(path)
    return (
        not stat.S_ISLNK(found.st_mode)
        and found.st_uid == os.getuid()
        and not found.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def _read(folder: Path, path: Path) -> LoadedProgram | None:
    try:
        if not _trusted(folder) or not _trusted(path):
            log_event("program copy ignored", reason="permissions")
            return None
        with path.open("rb") as source:
            kept = pickle.load(source)
    except FileNotFoundError:
        return None
    except Exception as error:
        log_event("program copy ignored", reason=type(error).__name__)
        return None
    return kept if isinstance(kept, LoadedProgram) else None


def _write(folder: Path, path: Path, loaded: LoadedProgram) -> None:
    """Keep ``loaded`` under ``path`` (written whole, then renamed); drop all but the newest
    ``KEEP_COPIES``."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _trusted(folder):
            log_event("program copy not kept", reason="permissions")
            return
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".writing-", delete=False) as out:
            try:
                pickle.dump(loaded, out, protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:
                os.unlink(out.name)
                raise
        os.replace(out.name, path)
        copies = sorted(folder.glob(f"{PREFIX}*{SUFFIX}"), key=lambda p: p.stat().st_mtime)
        for older in copies[:-KEEP_COPIES]:
            older.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError, RecursionError) as error:
        log_event("program copy not kept", reason=type(error).__name__)
