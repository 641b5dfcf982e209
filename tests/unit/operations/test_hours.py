"""Office hours follow the service's own clock, its holidays and nights past midnight."""

from __future__ import annotations

import datetime as dt

import pytest

from redirection_bot.operations.hours import HoursError, parse_hours

HELSINKI = dt.timezone(dt.timedelta(hours=2))
HOURS = parse_hours(
    "Europe/Helsinki",
    {"mon-fri": "09:00-17:00", "sat": "10:00-14:00", "sun": "22:00-02:00"},
    ["2026-12-24"],
)


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=HELSINKI)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        ("2026-11-23T09:00", True),  # Monday, opening time
        ("2026-11-23T16:59", True),
        ("2026-11-23T17:00", False),
        ("2026-11-28T12:00", True),  # Saturday
        ("2026-11-28T15:00", False),
        ("2026-11-29T23:30", True),  # Sunday night...
        ("2026-11-30T01:30", True),  # ...into Monday morning
        ("2026-11-30T02:30", False),
        ("2026-12-24T10:00", False),  # a holiday
    ],
)
def test_opening_times(moment: str, is_open: bool) -> None:
    assert HOURS.is_open(local(moment)) is is_open


def test_time_zones_are_followed_across_daylight_saving() -> None:
    summer = dt.datetime(2026, 7, 6, 6, 30, tzinfo=dt.UTC)  # 09:30 in Helsinki (UTC+3)
    winter = dt.datetime(2026, 1, 5, 6, 30, tzinfo=dt.UTC)  # 08:30 in Helsinki (UTC+2)
    assert HOURS.is_open(summer) and not HOURS.is_open(winter)


@pytest.mark.parametrize(
    ("timezone", "hours", "message"),
    [
        ("Mars/Olympus", {"mon": "09:00-17:00"}, "not a time zone"),
        ("UTC", {"monday": "09:00-17:00"}, "write days as"),
        ("UTC", {"mon": "9-5"}, "write hours as"),
        ("UTC", {"mon": "09:00-09:00"}, "starts and ends at the same time"),
        ("UTC", {"mon": "25:00-26:00"}, "not a time of day"),
    ],
)
def test_bad_hours_say_how_to_write_them(
    timezone: str, hours: dict[str, str], message: str
) -> None:
    with pytest.raises(HoursError, match=message):
        parse_hours(timezone, hours)
