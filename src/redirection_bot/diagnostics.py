"""Located messages for authors: ``path:line:column: error: message``."""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A place in a source file; line and column start at 1."""

    path: str
    line: int
    column: int

    def format(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"

    def shifted(self, columns: int) -> Span:
        """The same line, ``columns`` further right (for places inside a scalar)."""
        return Span(self.path, self.line, self.column + columns)


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a source file, with a message a clinician understands."""

    span: Span
    severity: Severity
    message: str

    def format(self) -> str:
        return f"{self.span.format()}: {self.severity.value}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


class Diagnostics:
    """An ordered collection of diagnostics that checks append to."""

    def __init__(self) -> None:
        self._items: list[Diagnostic] = []
        self.unreadable: list[Span] = []
        """Files that could not be read at all (a YAML syntax error...): everything found
        elsewhere may follow from them."""

    def cannot_read(self, span: Span, message: str) -> None:
        """An error that keeps a whole file from being read."""
        self.error(span, message)
        self.unreadable.append(span)

    def error(self, span: Span, message: str) -> None:
        self._items.append(Diagnostic(span, Severity.ERROR, message))

    def warning(self, span: Span, message: str) -> None:
        self._items.append(Diagnostic(span, Severity.WARNING, message))

    def extend(self, other: Diagnostics) -> None:
        self._items.extend(other._items)
        self.unreadable.extend(other.unreadable)

    @property
    def items(self) -> list[Diagnostic]:
        """All diagnostics, sorted by file and position, without duplicates."""
        return sorted(set(self._items), key=lambda d: (d.span, d.severity, d.message))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if not d.is_error]

    def has_errors(self) -> bool:
        return any(d.is_error for d in self._items)

    def __len__(self) -> int:
        return len(self._items)
