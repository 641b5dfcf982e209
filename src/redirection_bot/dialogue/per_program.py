"""What is worked out once per loaded program and kept beside it: ``@per_program``.

A program is immutable once loaded, but not hashable (its flows are mappings), so the results
are kept by the program's id, with the program itself, so that its id cannot be reused by
another program while the result is kept. A few programs at most are alive at once (the one
served, an older one for conversations still on it, the tests' own): past ``KEPT`` the kept
results are dropped and worked out again when asked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from redirection_bot.dialogue.model import Program

_T = TypeVar("_T")

KEPT = 8


class PerProgram(Generic[_T]):
    """``function(program)``, worked out once per program (``clear()`` forgets them all)."""

    def __init__(self, function: Callable[[Program], _T]) -> None:
        self._function = function
        self._kept: dict[int, tuple[Program, _T]] = {}

    def __call__(self, program: Program) -> _T:
        kept = self._kept.get(id(program))
        if kept is None or kept[0] is not program:
            if len(self._kept) >= KEPT:
                self._kept.clear()
            kept = self._kept[id(program)] = (program, self._function(program))
        return kept[1]

    def clear(self) -> None:
        self._kept.clear()


def per_program(function: Callable[[Program], _T]) -> PerProgram[_T]:
    return PerProgram(function)
