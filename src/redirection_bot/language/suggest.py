"""Did-you-mean suggestions for names an author mistyped."""

from __future__ import annotations

from collections.abc import Iterable


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean `x`?)`` for the closest candidate, or an empty string."""
    import difflib  # noqa: PLC0415 (only an author's mistake needs it; a served bot does not)

    close = difflib.get_close_matches(word, [str(c) for c in candidates], n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""
