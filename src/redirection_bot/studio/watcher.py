"""Watching the program's files: when one changes, validate again and keep the result.

Changes are noticed by polling modification times and sizes (no extra dependency, works
on every file system). The last *valid* program is kept for drawing and playing while the
files have errors, so that an author mid-edit still sees the graph and their place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from redirection_bot.diagnostics import Diagnostic, Diagnostics
from redirection_bot.program.load import LoadedProgram, ProgramSources, check_program
from redirection_bot.translation.records import LocaleRecords, load_translation_records

Fingerprint = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The program as last checked."""

    generation: int
    loaded: LoadedProgram | None
    """The last valid program (None until there has been one)."""
    diagnostics: tuple[Diagnostic, ...]
    """Everything the latest check found."""
    records: dict[str, LocaleRecords] = field(default_factory=dict)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]

    @property
    def valid(self) -> bool:
        return not self.errors and self.loaded is not None


class ProgramWatcher:
    """Holds the latest check of a program's files and redoes it when they change."""

    def __init__(
        self,
        sources: ProgramSources,
        registered_actions: Collection[str] | None,
        today: Callable[[], dt.date] = dt.date.today,
        extra_paths: Collection[Path] = (),
    ) -> None:
        self.sources = sources
        self._actions = registered_actions
        self._today = today
        self._extra = tuple(extra_paths)
        self._fingerprint: Fingerprint | None = None
        self.snapshot = Snapshot(0, None, ())

    def fingerprint(self) -> Fingerprint:
        """Every watched file with its modification time and size."""
        found = []
        for root in (self.sources.dialogues, self.sources.locales, *self._extra):
            paths = root.rglob("*") if root.is_dir() else [root]
            for path in paths:
                if path.suffix not in (".yaml", ".yml") or path.name.startswith(".~"):
                    continue
                try:
                    status = path.stat()
                except OSError:
                    continue
                found.append((str(path), status.st_mtime_ns, status.st_size))
        return tuple(sorted(found))

    def refresh(self) -> bool:
        """Check again if any file changed; returns whether it did."""
        current = self.fingerprint()
        if current == self._fingerprint:
            return False
        self._fingerprint = current
        self.reload()
        return True

    def reload(self) -> None:
        """Validate the files now. A new valid program replaces the kept one; the caller
        releases the old one's catalog once nothing uses it."""
        loaded, diagnostics = check_program(self.sources, self._actions, self._today())
        valid = loaded is not None and not diagnostics.has_errors()
        if loaded is not None and not valid:
            loaded.catalog.close()
        kept = loaded if valid else self.snapshot.loaded
        records = load_translation_records(self.sources.locales, Diagnostics())
        self.snapshot = Snapshot(
            self.snapshot.generation + 1, kept, tuple(diagnostics.items), records
        )
