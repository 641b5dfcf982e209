"""Partner platforms: the declared list, the door they open, and their k-anonymous funnel."""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redirection_bot.authoring.testing import MINIMAL_PROGRAM, RasaActionRunner
from redirection_bot.dialogue.model import CommandName
from redirection_bot.engine import ChoicePicked, CommandGiven, Start, new_state, step
from redirection_bot.errors import ConfigError
from redirection_bot.handoff.record import SessionRecord
from redirection_bot.operations.config import read_settings
from redirection_bot.operations.evaluation import CountRow, MemoryCounts, export_csv
from redirection_bot.operations.partners import (
    PARTNER_MODULE,
    Funnel,
    FunnelStage,
    Partner,
    PartnerSettings,
    export_funnel_csv,
    funnel_rows,
    stages_reached,
)
from redirection_bot.program.load import LoadedProgram, ProgramSources
from redirection_bot.store.memory import MemoryStore
from redirection_bot.turn.runtime import Runtime, RuntimeSettings
from tests.conftest import WriteProgram

PARTNERS = PartnerSettings((Partner("example_site", "es"), Partner("other_site")), 10)


def settings_from(tmp_path: Path, text: str) -> PartnerSettings:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return read_settings(path, {}, program_locales=("en", "es", "fi")).partners


def test_partners_are_read_from_the_configuration(tmp_path: Path) -> None:
    partners = settings_from(
        tmp_path,
        "partners:\n  suppress_below: 20\n  platforms:\n"
        "    - {id: example_site, locale: es}\n    - other_site\n",
    )
    assert partners.platforms == (Partner("example_site", "es"), Partner("other_site"))
    assert partners.suppress_below == 20
    assert settings_from(tmp_path, "store: {backend: memory}\n") == PartnerSettings()
    assert PartnerSettings().suppress_below == 10


def test_configuration_problems_are_reported_where_they_are_written(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from(
            tmp_path,
            "partners:\n  suppress_below: 1\n  platforms:\n    - {id: Bad-Id}\n"
            "    - twice\n    - twice\n    - {id: ok, locale: xx}\n    - {id: ok2, lang: es}\n",
        )
    message = str(raised.value)
    assert "config.yaml:2:3: error: `suppress_below` must be at least 2" in message
    assert "config.yaml:4:12: error: `Bad-Id`: a partner id is lower-case" in message
    assert "config.yaml:6:7: error: the partner `twice` is listed twice" in message
    assert "config.yaml:7:24: error: `xx` is not a language of the program" in message
    assert "`lang`" in message


def test_only_a_declared_id_written_exactly_is_a_partner() -> None:
    assert PARTNERS.known("example_site") == Partner("example_site", "es")
    for value in ("Example_site", "example_site ", "example", "", None, 7, ["example_site"]):
        assert PARTNERS.known(value) is None


@given(st.text(max_size=40))
def test_nothing_but_the_declared_ids_is_ever_accepted(value: str) -> None:
    found = PARTNERS.known(value)
    assert found is None or value in ("example_site", "other_site")


def test_the_funnel_is_summed_by_month_and_small_counts_are_suppressed() -> None:
    def row(day: str, partner: str, stage: FunnelStage, count: int) -> CountRow:
        return CountRow(day, PARTNER_MODULE, partner, stage.value, count)

    rows = [
        row("2026-03-01", "example_site", FunnelStage.SHOWN, 8),
        row("2026-03-02", "example_site", FunnelStage.SHOWN, 7),
        row("2026-03-02", "example_site", FunnelStage.STARTED, 9),
        row("2026-04-01", "example_site", FunnelStage.SHOWN, 3),
        CountRow("2026-03-01", "motivation", "eval_helped", "a_little", 50),
    ]
    out = io.StringIO()
    export_funnel_csv(funnel_rows(rows), 10, out)
    assert out.getvalue().splitlines() == [
        "month,partner,stage,count",
        "2026-03,example_site,shown,15",
        "2026-03,example_site,started,<10",
        "2026-04,example_site,shown,<10",
    ]
    evaluation = io.StringIO()
    assert export_csv(rows, evaluation) == 1  # the evaluation's export has no partner rows
    assert "example_site" not in evaluation.getvalue()


async def test_counts_are_plain_daily_counters() -> None:
    counts = MemoryCounts()
    funnel = Funnel(counts, 2)
    for _ in range(3):
        await funnel.count(Partner("other_site"), FunnelStage.SHOWN, dt.date(2026, 5, 17))
    assert await counts.rows() == [CountRow("2026-05-17", PARTNER_MODULE, "other_site", "shown", 3)]
    assert (await funnel.export()).splitlines()[1] == "2026-05,other_site,shown,3"


# --- the door, through the runtime ---------------------------------------------------------------


def runtime_with(shipped: LoadedProgram, counts: MemoryCounts) -> Runtime:
    """Played as a helpline's deployment would be: a person is offered ("help", "person")."""
    return Runtime(
        shipped,
        MemoryStore(),
        RasaActionRunner(shipped),
        RuntimeSettings(assume_helpline=True),
        evaluation=counts,
        partners=PARTNERS,
    )


async def record_of(runtime: Runtime, session: str) -> SessionRecord:
    stored = await runtime.store.get(session)
    assert stored is not None
    return SessionRecord.decode(stored.data)


async def stages(counts: MemoryCounts) -> dict[tuple[str, str], int]:
    return {(r.question, r.answer): r.count for r in await counts.rows()}


async def test_a_partners_link_opens_the_door_in_its_language_then_the_welcome(
    shipped: LoadedProgram,
) -> None:
    counts = MemoryCounts()
    runtime = runtime_with(shipped, counts)
    reply = await runtime.handle("s1", Start(None, "example_site"))
    assert [m.key for m in reply.messages] == ["door.hello", "door.law", "door.harm"]
    assert reply.locale == "es"  # the partner's language, as nobody chose one
    await runtime.handle("s1", ChoicePicked("go_on"))
    reply = await runtime.handle("s1", ChoicePicked("start"))
    assert [m.key for m in reply.messages][:2] == ["door.to_welcome", "welcome.hello"]
    assert await stages(counts) == {("example_site", "started"): 1}
    record = await record_of(runtime, "s1")
    assert record.partner == "example_site"
    assert record.awaiting == ("reached_help", "asked_person")


async def test_a_chosen_language_wins_over_the_partners(shipped: LoadedProgram) -> None:
    runtime = runtime_with(shipped, MemoryCounts())
    reply = await runtime.handle("s1", Start("fi", "example_site"))
    assert reply.locale == "fi" and reply.messages[0].key == "door.hello"


@pytest.mark.parametrize("value", ["unknown_site", "Example_site", "x" * 500, "<b>", ""])
async def test_an_unknown_partner_is_ignored_and_kept_nowhere(
    shipped: LoadedProgram, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    counts = MemoryCounts()
    runtime = runtime_with(shipped, counts)
    with caplog.at_level(logging.DEBUG):
        reply = await runtime.handle("s1", Start(None, value))
    assert reply.messages[0].key == "welcome.hello" and reply.locale == "en"
    record = await record_of(runtime, "s1")
    assert record.partner is None
    stored = await runtime.store.get("s1")
    assert stored is not None
    if value:
        assert value.encode() not in stored.data
        assert value not in caplog.text
    assert await counts.rows() == []


async def test_reaching_help_and_asking_for_a_person_count_once_then_the_partner_goes(
    shipped: LoadedProgram,
) -> None:
    counts = MemoryCounts()
    runtime = runtime_with(shipped, counts)
    await runtime.handle("s1", Start("en", "other_site"))
    await runtime.handle("s1", ChoicePicked("go_on"))
    await runtime.handle("s1", ChoicePicked("services"))  # the services directory: help
    await runtime.handle("s1", CommandGiven(CommandName.HELP))
    await runtime.handle("s1", ChoicePicked("services"))  # help again: not counted again
    assert await stages(counts) == {("other_site", "started"): 1, ("other_site", "reached_help"): 1}
    assert (await record_of(runtime, "s1")).awaiting == ("asked_person",)
    await runtime.handle("s1", CommandGiven(CommandName.HELP))
    await runtime.handle("s1", ChoicePicked("person"))
    assert await stages(counts) == {
        ("other_site", "started"): 1,
        ("other_site", "reached_help"): 1,
        ("other_site", "asked_person"): 1,
    }
    record = await record_of(runtime, "s1")
    assert record.partner is None and b"other_site" not in (await runtime.store.get("s1")).data  # type: ignore[union-attr]


def test_opening_the_booking_counts_as_reaching_help(shipped: LoadedProgram) -> None:
    program = shipped.program
    assert stages_reached(program, ["appointment.intro"]) == {FunnelStage.REACHED_HELP}
    assert stages_reached(program, ["welcome.hello"]) == set()


async def test_a_plain_start_never_opens_the_door(shipped: LoadedProgram) -> None:
    counts = MemoryCounts()
    runtime = runtime_with(shipped, counts)
    reply = await runtime.handle("s1", Start())
    assert reply.messages[0].key == "welcome.hello"
    await runtime.handle("s1", CommandGiven(CommandName.HELP))
    await runtime.handle("s1", ChoicePicked("person"))
    assert await counts.rows() == []


# --- the program's side: where the door leads, and what counts as help ---------------------------


def test_the_validator_checks_the_partner_entry_and_help_flows(
    write: WriteProgram, problems: Callable[[ProgramSources], list[str]]
) -> None:
    program = MINIMAL_PROGRAM.replace(
        "entry: main\n", "entry: main\npartner_entry: mian\nhelp_flows: [helpdesk, hepldesk]\n"
    )
    found = problems(write(program=program))
    assert any(
        "the partner entry goes to the flow `mian`, which does not exist" in p for p in found
    )
    assert any("did you mean `main`" in p for p in found)
    assert any("`help_flows` goes to the flow `hepldesk`" in p for p in found)
    fixed = program.replace("mian", "main").replace(", hepldesk", "")
    assert [p for p in problems(write(program=fixed)) if "error" in p] == []


def test_a_program_without_a_partner_entry_starts_partners_at_its_entry(
    loaded_minimal: LoadedProgram,
) -> None:
    program = loaded_minimal.program
    assert program.partner_entry is None
    turn = step(program, new_state(program), Start(None, "example_site"))
    plain = step(program, new_state(program), Start())
    assert turn.outputs == plain.outputs and turn.state.at == plain.state.at
