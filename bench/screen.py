"""Screening benchmark: how long risk screening adds to every message.

Run: ``python bench/screen.py``. Every figure is printed beside a baseline measured in the
same run on the same machine:

- screening a typical message (the labelled sets, all three locales' rules, as the runtime
  does), against only tokenising it (the least screening must do);
- screening a message at the runtime's length limit (2,000 characters), and the slowest message
  known as long as the runtime screens (20,000 characters of short words that start many
  phrases, never repeated), against tokenising them;
- loading and compiling the rules of the three locales, against reading their YAML with
  PyYAML's ``compose``;
- the second layer (``safety/model.py``): the p50 and p99 of screening 500-character messages
  with rules and model, against rules alone; the memory the model holds (``tracemalloc``) and
  the resident memory of a process that has loaded the rules and the model, against one that
  only started Python: once with the rules parsed from their YAML (a first start, ``validate``),
  once read back from the program's kept copy, as a restarted ``serve`` holds them.

Targets (docs/performance.md, docs/safety.md): screening stays a small part of a turn, well
under 5 ms for a typical message; with the second layer, p99 under 2 ms for a 500-character
message and under 30 MB resident for screening.
"""

from __future__ import annotations

import gc
import pickle
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import yaml

from redirection_bot.diagnostics import Diagnostics
from redirection_bot.program.kept import dump_kept
from redirection_bot.safety.evaluation import load_evaluation
from redirection_bot.safety.model import MODEL_FILE, ScreeningModel
from redirection_bot.safety.normalise import Letters, tokenise
from redirection_bot.safety.rules import LocaleRules, load_rules_folder
from redirection_bot.safety.screen import Screener
from redirection_bot.turn.runtime import SCREENED_AT_LEAST

REPOSITORY = Path(__file__).resolve().parent.parent
RULES = REPOSITORY / "dialogues" / "safety"
LOCALES = ["en", "es", "fi"]
LAYER_ROUNDS = 10
"""Rounds over the 500-character messages for the second layer's own timing: its p99 is then
the sixth slowest of about 600, not the second slowest of about 180."""
FIRST_MESSAGE = "i can't take this anymore"
MANY_PHRASES_START = ("i", "a", "my", "im", "want", "to", "kill", "me", "not", "so")
"""Short words each of which starts many of the rules' phrases (the slowest message's words)."""
"""Screened once by each process whose memory is measured, as a serving process has."""


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
    # The slowest message found to screen, as long as the runtime screens (``SCREENED_AT_LEAST``):
    # words that start many phrases, in an order that never repeats (a repeated sentence is read
    # once, safety/screen.py ``words_read``). Screened off the event loop (turn/screening_lane.py).
    pick = random.Random(14)
    heaviest = " ".join(pick.choice(MANY_PHRASES_START) for _ in range(SCREENED_AT_LEAST))
    heaviest = heaviest[:SCREENED_AT_LEAST]
    heavy_screening = per_call(lambda: screener.screen(heaviest, "en"), repeats=2)
    heavy_tokenising = per_call(lambda: tokenise(heaviest), repeats=2)
    print(
        f"the slowest {len(heaviest):,}-character message known (short words that start many"
        f" phrases, never repeated): screening"
        f" {heavy_screening * 1e3:.0f} ms, tokenising alone {heavy_tokenising * 1e3:.1f} ms"
        f" ({heavy_screening / heavy_tokenising:.0f}x)"
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

    bench_model(texts, load_rules_folder(RULES, LOCALES, [], Diagnostics()))


def bench_model(texts: list[tuple[str, str]], rules: dict[str, LocaleRules]) -> None:
    source = (REPOSITORY / "src" / "redirection_bot" / "safety" / MODEL_FILE).read_bytes()
    tracemalloc.start()
    model = ScreeningModel.load(source)
    model_bytes, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    both, alone = Screener(rules, model), Screener(rules)
    gc.freeze()  # what was loaded, left alone by the cycle collector, as ``serve`` does
    both_rules = rules
    joined = " ".join(text for text, _locale in texts)
    messages = [(joined[start : start + 500], "en") for start in range(0, 100_000, 500)]
    messages = [(text, locale) for text, locale in messages if len(text) == 500]

    def timings(screener: Screener) -> list[float]:
        found = []
        for text, locale in messages * 3:
            started = time.perf_counter()
            screener.screen(text, locale)
            found.append(time.perf_counter() - started)
        return sorted(found)

    with_model, rules_only = timings(both), timings(alone)

    def layer_alone() -> list[float]:
        """The second layer's own work on one message, as ``Screener.screen`` does it with
        the words it has already read: the fields of each locale, of the whole message and
        of each long clause, then the features and the scores (``Screener._learned``)."""
        readings = [(rules.fields, rules.letters) for rules in both_rules.values()]
        names = list(both_rules)
        found = []
        for text, _locale in messages * LAYER_ROUNDS:
            tokens = {letters: tokenise(text, letters) for _fields, letters in readings}
            started = time.perf_counter()
            clause_concepts = both._clause_concepts(tokens, names)  # fields found once, by clause
            concepts = sorted(set().union(*clause_concepts.values()))
            both._learned(text, concepts, {}, (), tokens[Letters.ONE], clause_concepts)
            found.append(time.perf_counter() - started)
        return sorted(found)

    layer = layer_alone()

    def at(values: list[float], share: float) -> float:
        return values[min(len(values) - 1, int(share * len(values)))] * 1e3

    print(
        f"500-character message ({len(messages)} x3; the second layer x{LAYER_ROUNDS}): rules and model p50"
        f" {at(with_model, 0.5):.2f} ms, p99 {at(with_model, 0.99):.2f} ms; rules alone p50"
        f" {at(rules_only, 0.5):.2f} ms, p99 {at(rules_only, 0.99):.2f} ms; the second"
        f" layer's own work (fields, features, scores) p50 {at(layer, 0.5):.2f} ms, p99"
        f" {at(layer, 0.99):.2f} ms"
    )
    loaded = _resident(_PARSED)
    bare = _resident("pass")
    with tempfile.NamedTemporaryFile(suffix=".pickle") as kept:
        dump_kept(rules, kept)
        kept.flush()
        read_back = _resident(_read_back(kept.name))
    # The semantic fields' index as a serving process holds it (read back from the kept
    # program, as `serve` restarts): with the model, the second layer's own data.
    kept_fields = pickle.dumps([locale_rules.fields for locale_rules in rules.values()])
    tracemalloc.start()
    fields = pickle.loads(kept_fields)
    fields_bytes, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del fields
    print(
        f"memory: the model holds {model_bytes / 2**20:.1f} MB and the fields' index"
        f" {fields_bytes / 2**20:.1f} MB (the second layer's own data); a process with rules and"
        f" model loaded {loaded:.1f} MB resident, Python alone {bare:.1f} MB"
        f" (screening: {loaded - bare:.1f} MB); the rules read back as a restarted `serve` holds"
        f" them (its kept copy) and the model {read_back:.1f} MB (screening: {read_back - bare:.1f} MB)"
    )


# What the measured processes run: only what screening needs imported (not this module, which
# imports the runtime for its length limit).
_SCREEN_ONE = f"""
from redirection_bot.safety.model import shipped_model
from redirection_bot.safety.screen import Screener
Screener(rules, shipped_model()).screen({FIRST_MESSAGE!r}, "en")
"""
_PARSED = f"""
from pathlib import Path
from redirection_bot.diagnostics import Diagnostics
from redirection_bot.safety.rules import load_rules_folder
rules = load_rules_folder(Path({str(RULES)!r}), {LOCALES!r}, [], Diagnostics())
{_SCREEN_ONE}"""


def _read_back(kept: str) -> str:
    """Screening as a restarted ``serve`` holds it: the rules read back from the program's
    kept copy (``program/kept.py``), not parsed from their YAML, and the model."""
    return f"""
import pickle
with open({kept!r}, "rb") as source:
    rules = pickle.load(source)
{_SCREEN_ONE}"""


def _resident(code: str) -> float:
    """The resident memory (MB) of a new Python process after running ``code``."""
    # VmRSS, not ru_maxrss: Linux keeps the parent's high-water mark across fork and exec.
    probe = f"{code}\nprint(open('/proc/self/status').read().split('VmRSS:')[1].split()[0])"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPOSITORY,
    )
    return float(done.stdout.split()[-1]) / 1024


if __name__ == "__main__":
    main()
