"""The code that dataclasses write at import, kept compiled between starts of ``serve``.

A dataclass writes its methods (``__init__``, ``__repr__``, ``__eq__``...) as Python source and
compiles it when its module is imported. A start of ``serve`` makes 171 dataclasses, about 880
distinct pieces of source; compiling them was about 0.1 s of a restart's 0.6 to 0.8 s before
its first page, the largest single cost in the bot's own start (docs/performance.md).

``serve`` keeps what they compiled beside its kept program (``program/kept_folder.py``: the
same folder, the same trust), in a file made for this Python (its version and bytecode's magic
number are the file's first line). The next start looks each piece of source up by its hash
and runs the compiled code kept for it, exactly what compiling it would give; source it does
not find is compiled as before. ``start`` (before the bot's modules are imported) and
``finish`` (once the start has made everything) bound the time it is used: afterwards the
dataclasses module is as Python made it, and nothing kept is held in memory.

It changes only how long a start takes: the code run is the code Python would compile from the
same source (``compile`` with the defaults ``exec`` uses; a test compares every kept piece with
a fresh compile).
"""

from __future__ import annotations

import builtins
import dataclasses
import hashlib
import importlib.util
import logging
import marshal
import sys
from pathlib import Path
from types import CodeType
from typing import Any

from redirection_bot.operations.logs import log_event
from redirection_bot.program.kept_folder import read_kept, write_kept

WHAT = "compiled code"
FILE = "dataclass-code.marshal"
HEADER = (
    f"redirection-bot compiled code, format 2, {sys.version}, "
    f"{importlib.util.MAGIC_NUMBER.hex()}\n".encode()
)
"""A file made by another Python is never read: code objects are that Python's."""
SOURCE_NAME = "<string>"
"""The name ``exec`` gives code compiled from a string (shown in tracebacks)."""


class KeptCode:
    """Compiled code by the hash of its source: what a start found kept, and what it used."""

    def __init__(
        self,
        folder: Path,
        known: dict[bytes, CodeType],
        said: list[tuple[str, int, dict[str, object]]],
    ) -> None:
        self.folder = folder
        self.known = known
        self.said = said
        """Why the kept file was ignored, told at ``finish``: reading it comes before the
        command line has set up logging."""
        self.used: dict[bytes, CodeType] = {}
        self.compiled = 0
        """Pieces this start compiled (none kept for them)."""

    def exec(self, source: Any, globals: Any = None, locals: Any = None, /) -> None:
        """``exec``, for the dataclasses module: source is run from its kept compiled code."""
        if type(source) is str:
            key = hashlib.blake2b(source.encode(), digest_size=16).digest()
            code = self.known.get(key)
            if code is None:
                code = compile(source, SOURCE_NAME, "exec", dont_inherit=True)
                self.compiled += 1
            self.used[key] = code
            source = code
        builtins.exec(source, globals, locals)

    def changed(self) -> bool:
        """Whether this start compiled anything (a first start, or the package changed). A
        start that used only some of what was kept (a restart reads the kept program, and does
        not import the program's readers) leaves the file as it is."""
        return self.compiled > 0

    def save(self) -> bool:
        """Keep what this start used, and only that (what a changed package no longer makes
        is dropped): True if written."""
        return write_kept(self.folder, self.folder / FILE, HEADER, marshal.dumps(self.used), WHAT)


_active: KeptCode | None = None


def start(folder: Path | None) -> None:
    """From now on, dataclasses' source runs from the code kept in ``folder`` (None: nothing
    kept, nothing changes)."""
    global _active  # noqa: PLW0603 - one process, one start
    if folder is None or _active is not None:
        return
    said: list[tuple[str, int, dict[str, object]]] = []
    known = read_kept(
        folder,
        folder / FILE,
        HEADER,
        _read,
        WHAT,
        say=lambda name, level=logging.INFO, **fields: said.append((name, level, fields)),
    )
    _active = KeptCode(folder, known or {}, said)
    dataclasses.exec = _active.exec  # type: ignore[attr-defined]  # found before the built-in


def finish() -> KeptCode | None:
    """The start is over: dataclasses compile as Python made them do, and what this start
    used is kept for the next if it compiled anything. The ``KeptCode`` that served, if any."""
    global _active
    ended, _active = _active, None
    if ended is None:
        return None
    vars(dataclasses).pop("exec", None)
    for name, level, fields in ended.said:
        log_event(name, level, **fields)
    if ended.changed():
        ended.save()
    return ended


def _read(data: bytes) -> dict[bytes, CodeType]:
    kept = marshal.loads(data)
    if not isinstance(kept, dict) or not all(
        isinstance(key, bytes) and isinstance(code, CodeType) for key, code in kept.items()
    ):
        raise TypeError("not compiled code")
    return kept
