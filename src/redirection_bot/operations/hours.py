"""Office hours and holidays of a human service, in its own time zone.

    timezone: Europe/Helsinki
    hours: {mon-fri: "09:00-17:00", sat: "10:00-14:00", sun: "22:00-02:00"}
    holidays: [2026-12-24, 2026-12-25]

A range that ends before it starts runs past midnight into the next day. Times are the
service's local wall-clock times, so daylight-saving changes are followed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\Z")
_MIDNIGHT = dt.time(0, 0)


class HoursError(ValueError):
    """Office hours written in a way that cannot be read; the message says how to write them."""


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """When a service's people are there. ``weekly[day]`` holds (start, end) pairs of minutes."""

    timezone: str
    weekly: Mapping[int, tuple[tuple[int, int], ...]]
    holidays: frozenset[dt.date] = field(default_factory=frozenset)

    def is_open(self, when: dt.datetime) -> bool:
        """Whether the service is open at an aware moment."""
        local = when.astimezone(ZoneInfo(self.timezone))
        if local.date() in self.holidays:
            return False
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.weekly.get(local.weekday(), ()))


ALWAYS_OPEN = OfficeHours("UTC", dict.fromkeys(range(7), ((0, 24 * 60),)))


def parse_hours(
    timezone: str, hours: Mapping[str, str], holidays: Iterable[str] = ()
) -> OfficeHours:
    """Office hours from their written form; raises HoursError with a readable message.
    (Each part can be read alone too, so that a configuration reader can say where a
    problem is: ``read_timezone``, ``read_days``, ``read_ranges``, ``read_holiday``.)"""
    read_timezone(timezone)
    weekly: dict[int, list[tuple[int, int]]] = {day: [] for day in range(7)}
    for days, ranges in hours.items():
        for day in read_days(days):
            for start, end in read_ranges(ranges):
                if end > start:
                    weekly[day].append((start, end))
                else:  # past midnight: the rest of this day, then the start of the next
                    weekly[day].append((start, 24 * 60))
                    if end > 0:
                        weekly[(day + 1) % 7].append((0, end))
    closed = frozenset(read_holiday(day) for day in holidays)
    return OfficeHours(timezone, {day: tuple(sorted(r)) for day, r in weekly.items()}, closed)


def read_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise HoursError(f"`{name}` is not a time zone name such as Europe/Helsinki") from error
    return name


def read_holiday(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise HoursError(f"`{text}` is not a date: write holidays as YYYY-MM-DD") from error


def read_ranges(text: str) -> list[tuple[int, int]]:
    """``"09:00-12:00, 13:00-17:00"`` as (start, end) minutes; an end before the start runs
    past midnight."""
    return [_range(part.strip()) for part in text.split(",")]


def read_days(text: str) -> list[int]:
    text = text.strip().lower()
    if text in ("every day", "daily", "mon-sun"):
        return list(range(7))
    if "-" in text:
        first, _sep, last = text.partition("-")
        if first not in DAYS or last not in DAYS:
            raise HoursError(f"`{text}`: write days as mon, tue, ... or a range such as mon-fri")
        a, b = DAYS.index(first), DAYS.index(last)
        return list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(0, b + 1)]
    if text not in DAYS:
        raise HoursError(f"`{text}`: write days as mon, tue, ... or a range such as mon-fri")
    return [DAYS.index(text)]


def _range(text: str) -> tuple[int, int]:
    match = _RANGE.match(text)
    if match is None:
        raise HoursError(f"`{text}`: write hours as 09:00-17:00")
    h1, m1, h2, m2 = (int(group) for group in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or start > 24 * 60 or end > 24 * 60:  # 24:00 is the latest
        raise HoursError(f"`{text}` is not a time of day")
    if start == end:
        raise HoursError(f"`{text}` starts and ends at the same time; all day is 00:00-24:00")
    return start, end
