"""A conversation test's own appointment book (``appointments:``) and time (``now:``): the
times it shows depend on ``now`` only, and every mistake in them is located, with the other
tests of the file still run."""

from __future__ import annotations

from pathlib import Path

import pytest

from redirection_bot.cli import main
from tests.helpers import REPOSITORY

BOOKING = """\
    steps:
      - command: help
      - choose: appointment
      - choose: book
      - choose: zone_3
      - bot: appointments.pick_question
        labels: ["Tuesday 5 March, 18:00", "None of these suit me"]
"""
BOOK = """\
    appointments:
      slots:
        - {id: tue, start: "2030-03-05T18:00:00Z", minutes: 45, locale: en}
"""


def run_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
) -> tuple[int, str]:
    """Run one test file against the shipped program (which has the booking flow)."""
    monkeypatch.chdir(REPOSITORY)
    path = tmp_path / "booking.yaml"
    path.write_text(text, encoding="utf-8")
    code = main(["test", str(path)])
    return code, capsys.readouterr().out


def test_the_times_shown_are_those_of_the_tests_own_book_at_its_own_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = f"tests:\n  - name: booked\n    now: 2030-03-04T12:00:00Z\n{BOOK}{BOOKING}"
    code, out = run_file(tmp_path, monkeypatch, capsys, text)
    assert code == 0, out
    assert "1 passed, 0 failed" in out


def test_a_slot_that_starts_too_soon_at_the_tests_time_is_not_offered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # 20 minutes before the slot, inside the 30 minutes' lead: nothing to offer.
    text = f"tests:\n  - name: too soon\n    now: 2030-03-05T17:40:00Z\n{BOOK}{BOOKING}"
    code, out = run_file(tmp_path, monkeypatch, capsys, text)
    assert code == 1
    assert "expected the bot to say `appointments.pick_question`, but it said: " in out
    assert "`appointments.none`" in out


def test_now_not_in_utc_is_located_and_the_other_tests_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        f"tests:\n  - name: local time\n    now: 2030-03-04T14:00:00+02:00\n{BOOK}{BOOKING}"
        f"  - name: good\n    now: 2030-03-04T12:00:00Z\n{BOOK}{BOOKING}"
    )
    code, out = run_file(tmp_path, monkeypatch, capsys, text)
    assert code == 1
    assert "booking.yaml:3:10: error: `now` should be in UTC (end it with Z or +00:00)" in out
    assert "1 passed, 0 failed; 1 problem(s) in the test files" in out


def test_a_book_without_a_fixed_time_is_refused_at_the_book(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_file(
        tmp_path, monkeypatch, capsys, f"tests:\n  - name: no time\n{BOOK}{BOOKING}"
    )
    assert code == 1
    assert "booking.yaml:4:7: error: a test with `appointments` needs `now`" in out


def test_a_slot_is_checked_as_in_the_configuration_at_its_line_and_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "tests:\n  - name: mistyped slot\n    now: 2030-03-04T12:00:00Z\n    appointments:\n"
        "      slots:\n"
        '        - {id: tue, start: "2030-03-05 18:00", minutes: 45, locael: en}\n'
        f"{BOOKING}"
    )
    code, out = run_file(tmp_path, monkeypatch, capsys, text)
    assert code == 1
    assert "booking.yaml:6:" in out
    assert "should be in UTC (end it with Z or +00:00)" in out
    assert "`locael`" in out and "`locale`" in out
    assert "0 passed, 0 failed" in out
