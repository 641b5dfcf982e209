"""Engine benchmark: turn speed, cold start, and validation of a 10,000-node program.

Run: ``python bench/engine.py``. Every figure is printed beside a baseline measured in the
same run on the same machine, so that the ratio means something on any computer:

- turn: one engine step in a scripted 10-turn conversation, against copying the session
  state with ``dataclasses.replace`` (the least a pure step must do);
- cold start: a new process that imports the bot, loads and validates the shipped program
  (or the one ``--dialogues`` and ``--locales`` name, to compare two trees' code on one
  program), against a new process that only starts Python; and, beside it, a new process
  that reads the validated program kept by an earlier start, as ``serve`` restarts;
- validation: loading and checking a generated 10,000-node program, against only
  reading its YAML files with PyYAML's ``compose``.

Targets (docs/performance.md): turn well under 50 µs, cold start under 0.5 s,
10,000-node validation under 2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import yaml

from redirection_bot.authoring.testing import MINIMAL_LOCALES
from redirection_bot.dialogue.model import CommandName
from redirection_bot.engine import (
    ActionResult,
    ChoicePicked,
    CommandGiven,
    Event,
    Message,
    Start,
    Text,
    new_state,
    step,
)
from redirection_bot.program.load import ProgramSources, load_program
from redirection_bot.turn.actions import registered_action_names

REPOSITORY = Path(__file__).resolve().parent.parent
TODAY = dt.date.today()


def best_of(repeats: int, function: object) -> float:
    """The fastest of several timings of ``function()`` (seconds)."""
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()  # type: ignore[operator]
        timings.append(time.perf_counter() - started)
    return min(timings)


def bench_turns() -> None:
    loaded = load_program(
        ProgramSources(REPOSITORY / "dialogues", REPOSITORY / "locales"),
        registered_action_names(),
        TODAY,
    )
    program = loaded.program
    script: list[Event] = [
        ChoicePicked("stop"),
        ChoicePicked("no_thanks"),  # the outcome questions (flows/outcomes.yaml)
        Text("8"),
        Text("I want to be someone my family can trust"),
        ChoicePicked("plan"),
        ActionResult("action_plan_summary", messages=(Message("plan.title"),)),
        CommandGiven(CommandName.BACK),
        Text("my plan"),
        ActionResult("action_plan_summary", messages=(Message("plan.title"),)),
        Text("purple"),
        ChoicePicked("leave"),
    ]
    start = step(program, new_state(program), Start()).state
    conversations = 2000

    def run() -> None:
        for _ in range(conversations):
            state = start
            for event in script:
                state = step(program, state, event).state

    per_turn = best_of(5, run) / (conversations * len(script))
    baseline_state = start

    def baseline() -> None:
        state = baseline_state
        for _ in range(conversations * len(script)):
            state = replace(state, turn=state.turn + 1)

    per_copy = best_of(5, baseline) / (conversations * len(script))
    print(f"engine turn:        {per_turn * 1e6:8.2f} µs  ({1 / per_turn:,.0f} turns/s)")
    print(f"  baseline (copy):  {per_copy * 1e6:8.2f} µs  ratio {per_turn / per_copy:.1f}x")


def bench_cold_start(dialogues: Path, locales: Path) -> None:
    sources = f"ProgramSources(Path({str(dialogues)!r}), Path({str(locales)!r}))"
    code = (
        "import datetime; from pathlib import Path\n"
        "from redirection_bot.turn.actions import registered_action_names\n"
        "from redirection_bot.program.load import ProgramSources, load_program\n"
        f"load_program({sources}, registered_action_names(), datetime.date.today())\n"
    )

    def timed(arguments: list[str]) -> float:
        samples = []
        for _ in range(7):
            started = time.perf_counter()
            subprocess.run(arguments, check=True)
            samples.append(time.perf_counter() - started)
        return statistics.median(samples)

    bot = timed([sys.executable, "-c", code])
    bare = timed([sys.executable, "-c", "pass"])
    with tempfile.TemporaryDirectory() as kept_folder:
        kept = (
            "import datetime; from pathlib import Path\n"
            "from redirection_bot.turn.actions import registered_action_names\n"
            "from redirection_bot.program.load import ProgramSources\n"
            "from redirection_bot.program.kept import load_kept\n"
            f"load_kept({sources}, registered_action_names(), datetime.date.today(), "
            f"Path({kept_folder!r}))\n"
        )
        subprocess.run([sys.executable, "-c", kept], check=True)  # the first start keeps it
        restart = timed([sys.executable, "-c", kept])
    print(
        f"cold start:         {bot * 1000:8.0f} ms  (import, load and validate {dialogues.parent})"
    )
    print(f"  baseline (python):{bare * 1000:8.0f} ms  ratio {bot / bare:.1f}x")
    print(
        f"  as serve restarts:{restart * 1000:8.0f} ms  ratio {restart / bare:.1f}x "
        "(the validated program kept by the first start, program/kept.py)"
    )


def generate_program(root: Path, flows: int = 100, nodes_per_flow: int = 100) -> ProgramSources:
    """A program of ``flows`` x ``nodes_per_flow`` nodes: chains of messages and questions."""
    dialogues, locales = root / "dialogues", root / "locales"
    (dialogues / "flows").mkdir(parents=True)
    locales.mkdir()
    (dialogues / "program.yaml").write_text(
        "program: big\nversion: '1'\nlocales: [en]\nentry: f0\n"
        "commands:\n  help: {call: f0}\n  back:\n  repeat:\n  restart:\n  language:\n  stop:\n"
    )
    texts = ["en:"]
    for f in range(flows):
        lines = [f"flow: f{f}", "start: n0", "nodes:"]
        texts.append(f"  f{f}:")
        for n in range(nodes_per_flow):
            last = n == nodes_per_flow - 1
            lines.append(f"  n{n}:")
            lines.append(f"    say: big.f{f}.n{n}")
            texts.append(f'    n{n}: "Message {n} of module {f}."')
            if last:
                target = f"goto: f{f + 1}" if f + 1 < flows else "end: true"
                lines.append(f"    {target}")
            elif n % 5 == 4:
                lines.append("    choices:")
                lines.append(f"      - {{id: on, label: big.f{f}.n{n}, next: n{n + 1}}}")
                lines.append(f"      - {{id: again, label: big.f{f}.n{n}, next: n{n - 4}}}")
            else:
                lines.append(f"    next: n{n + 1}")
        (dialogues / "flows" / f"f{f}.yaml").write_text("\n".join(lines) + "\n")
    (locales / "big.en.yml").write_text("\n".join(texts) + "\n")
    for name, text in MINIMAL_LOCALES.items():
        if name.split(".")[0] in ("engine", "language", "commands"):
            (locales / name).write_text(text)
    return ProgramSources(dialogues, locales)


def bench_validation() -> None:
    with tempfile.TemporaryDirectory() as folder:
        sources = generate_program(Path(folder))
        names = registered_action_names()
        loaded = load_program(sources, names, TODAY)
        nodes = sum(len(flow.nodes) for flow in loaded.program.flows.values())
        full = best_of(3, lambda: load_program(sources, names, TODAY))
        files = [*sources.flow_files(), *sources.locales.glob("*.yml")]
        texts = [path.read_text() for path in files]
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        parse_only = best_of(3, lambda: [yaml.compose(text, Loader=loader) for text in texts])
    print(f"validate {nodes:,} nodes: {full:8.2f} s")
    print(f"  baseline (compose):{parse_only:7.2f} s  ratio {full / parse_only:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dialogues",
        type=Path,
        default=REPOSITORY / "dialogues",
        help="the program the cold start loads (default: the shipped one); with --locales, "
        "to compare two trees' code on one program",
    )
    parser.add_argument("--locales", type=Path, default=REPOSITORY / "locales")
    arguments = parser.parse_args()
    bench_turns()
    bench_cold_start(arguments.dialogues.resolve(), arguments.locales.resolve())
    bench_validation()


if __name__ == "__main__":
    main()
