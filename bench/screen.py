"""Screening benchmark: how long risk screening adds to every message.

Run: ``python bench/screen.py``. Every figure is printed beside a baseline measured in the
same run on the same machine:

- screening a typical message (the labelled sets, all three locales' rules, as the runtime
  does), against only tokenising it (the least screening must do);
- screening a message at the runtime's length limit (2,000 characters), against tokenising it;
- loading and compiling the rules of the three locales, against reading their YAML with
  PyYAML's ``compose``.

Target (docs/performance.md, docs/safety.md): screening stays a small part of a turn, well
under 5 ms for a typical message.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from redirection_bot.diagnostics import Diagnostics
from redirection_bot.safety.evaluation import load_evaluation
from redirection_bot.safety.normalise import tokenise
from redirection_bot.safety.rules import load_rules_folder
from redirection_bot.safety.screen import Screener

REPOSITORY = Path(__file__).resolve().parent.parent
RULES = REPOSITORY / "dialogues" / "safety"
LOCALES = ["en", "es", "fi"]


def per_call(function: Callable[[], object], repeats: int = 5) -> float:
    """The fastest of several timings of ``function()`` (seconds)."""
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> None:
    diagnostics = Diagnostics()
    screener = Screener(load_rules_folder(RULES, LOCALES, [], diagnostics))
    texts = [
        (item.text, locale)
        for locale in LOCALES
        for item in load_evaluation(
            REPOSITORY / "tests" / "safety" / f"{locale}.yaml", locale, diagnostics
        ).items
    ]
    lengths = [len(text) for text, _locale in texts]

    def screen_all() -> None:
        for text, locale in texts:
            screener.screen(text, locale)

    def tokenise_all() -> None:
        for text, _locale in texts:
            tokenise(text)

    screening = per_call(screen_all) / len(texts)
    tokenising = per_call(tokenise_all) / len(texts)
    print(
        f"typical message ({len(texts)} labelled utterances, median {statistics.median(lengths)}"
        f" characters): screening {screening * 1e6:.0f} µs, tokenising alone"
        f" {tokenising * 1e6:.0f} µs ({screening / tokenising:.0f}x)"
    )
    long_text = " ".join(text for text, _locale in texts)[:2000]
    long_screening = per_call(lambda: screener.screen(long_text, "en"))
    long_tokenising = per_call(lambda: tokenise(long_text))
    print(
        f"2,000-character message: screening {long_screening * 1e3:.1f} ms, tokenising alone"
        f" {long_tokenising * 1e3:.2f} ms"
    )
    loading = per_call(lambda: load_rules_folder(RULES, LOCALES, [], Diagnostics()), repeats=3)
    reading = per_call(
        lambda: [yaml.compose((RULES / f"{locale}.yaml").read_text()) for locale in LOCALES],
        repeats=3,
    )
    phrases = sum(
        r.phrase_count() for r in load_rules_folder(RULES, LOCALES, [], Diagnostics()).values()
    )
    print(
        f"loading the rules ({phrases} phrases, 3 locales): {loading * 1e3:.0f} ms, reading"
        f" their YAML alone {reading * 1e3:.0f} ms"
    )


if __name__ == "__main__":
    main()
