"""Anonymous evaluation: answers become daily counts, small counts are suppressed, nothing links."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from redirection_bot.authoring.testing import MINIMAL_PROGRAM, RasaActionRunner, load, write_program
from redirection_bot.engine import ChoicePicked, Start
from redirection_bot.operations.evaluation import MemoryCounts, SqliteCounts, export_csv
from redirection_bot.program.load import LoadedProgram
from redirection_bot.store.memory import MemoryStore
from redirection_bot.turn.runtime import Runtime

PROGRAM = MINIMAL_PROGRAM.replace(
    "commands:",
    """\
  eval_helped:
    type: choice
    values:
      yes_a_lot: main.a_lot
      a_little: main.a_little
      not_really: main.not_really
  eval_confidence: {type: integer, min: 0, max: 10}
actions:
  action_record_evaluation:
    sets: [eval_helped, eval_confidence]
commands:""",
)

FLOWS = {
    "main": """\
flow: main
start: ask
nodes:
  ask:
    say: main.question
    input: mood
    next: offer
  offer:
    say: main.offer
    choices:
      - id: answer
        label: main.answer
        call: feedback
      - id: skip
        label: main.skip
        next: bye
  bye:
    say: main.bye
    end: true
""",
    "feedback": """\
flow: feedback
start: helped
nodes:
  helped:
    say: main.helped
    input: eval_helped
    next: confidence
  confidence:
    say: main.confidence
    input: eval_confidence
    next: record
  record:
    action: action_record_evaluation
    next: thanks
  thanks:
    say: main.thanks
    return: true
""",
}

LOCALES = {
    "main.en.yml": """\
en:
  question: "How are you?"
  mood_good: "Good"
  mood_bad: "Bad"
  offer: "Would you answer two anonymous questions about this module?"
  answer: "Yes"
  skip: "No, thanks"
  helped: "Did this module help you?"
  a_lot: "A lot"
  a_little: "A little"
  not_really: "Not really"
  confidence: "How confident are you now, from 0 to 10?"
  thanks: "Thank you."
  bye: "Bye, you said %{mood}."
""",
}


@pytest.fixture
def program(tmp_path: Path) -> LoadedProgram:
    return load(write_program(tmp_path, PROGRAM, FLOWS, LOCALES), tmp_path)


async def answer(runtime: Runtime, session: str, helped: str, confidence: int) -> None:
    await runtime.handle(session, Start())
    await runtime.handle(session, ChoicePicked("good"))
    await runtime.handle(session, ChoicePicked("answer"))
    await runtime.handle(session, ChoicePicked(helped))
    reply = await runtime.handle(session, ChoicePicked(str(confidence)))
    assert [m.key for m in reply.messages] == ["main.thanks", "main.offer"]


async def test_answers_become_counts_and_leave_the_session_at_once(
    program: LoadedProgram,
) -> None:
    counts = MemoryCounts()
    runtime = Runtime(program, MemoryStore(), RasaActionRunner(program), evaluation=counts)
    for n in range(12):
        await answer(runtime, f"person-{n}", "yes_a_lot" if n < 11 else "not_really", 7)
        state = await runtime.state(f"person-{n}")
        assert state is not None
        assert "eval_helped" not in state.slots and "eval_confidence" not in state.slots
    rows = {(r.module, r.question, r.answer): r.count for r in await counts.rows()}
    assert rows == {
        ("feedback", "eval_confidence", "7"): 12,
        ("feedback", "eval_helped", "yes_a_lot"): 11,
        ("feedback", "eval_helped", "not_really"): 1,
    }
    out = io.StringIO()
    export_csv(await counts.rows(), out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "day,module,question,answer,count"
    assert any(line.endswith(",feedback,eval_helped,not_really,<10") for line in lines)
    assert any(line.endswith(",feedback,eval_helped,yes_a_lot,11") for line in lines)
    assert not any("person" in line for line in lines)


async def test_sqlite_counts_add_up_across_restarts(tmp_path: Path) -> None:
    import datetime as dt

    day = dt.date(2026, 11, 24)
    first = SqliteCounts(tmp_path / "s.sqlite3")
    await first.add(day, "motivation", "eval_helped", "a_little")
    await first.close()
    second = SqliteCounts(tmp_path / "s.sqlite3")
    await second.add(day, "motivation", "eval_helped", "a_little")
    rows = await second.rows()
    await second.close()
    assert [(r.day, r.answer, r.count) for r in rows] == [("2026-11-24", "a_little", 2)]


def test_the_clinical_team_exports_csv_from_the_bots_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio
    import datetime as dt

    from redirection_bot.cli import main

    database = tmp_path / "sessions.sqlite3"

    async def fill() -> None:
        counts = SqliteCounts(database)
        for _ in range(10):
            await counts.add(dt.date(2026, 11, 24), "motivation", "eval_helped", "a_lot")
        await counts.add(dt.date(2026, 11, 24), "motivation", "eval_helped", "not_really")
        await counts.close()

    asyncio.run(fill())
    config = tmp_path / "bot.yaml"
    config.write_text(f"store:\n  backend: sqlite\n  path: {database}\n", encoding="utf-8")
    assert main(["evaluation", "--config", str(config)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "day,module,question,answer,count",
        "2026-11-24,motivation,eval_helped,a_lot,10",
        "2026-11-24,motivation,eval_helped,not_really,<10",
    ]
