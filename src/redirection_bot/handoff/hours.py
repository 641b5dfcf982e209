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
    """Office hours from their written form; raises HoursError with a readable message."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise HoursError(f"`{timezone}` is not a time zone name such as Europe/Helsinki") from error
    weekly: dict[int, list[tuple[int, int]]] = {day: [] for day in range(7)}
    for days, ranges in hours.items():
        for day in _days(days):
            for text in ranges.split(","):
                start, end = _range(text.strip())
                if end > start:
                    weekly[day].append((start, end))
                else:  # past midnight: the rest of this day, then the start of the next
                    weekly[day].append((start, 24 * 60))
                    if end > 0:
                        weekly[(day + 1) % 7].append((0, end))
    try:
        closed = frozenset(dt.date.fromisoformat(day) for day in holidays)
    except ValueError as error:
        raise HoursError("write holidays as YYYY-MM-DD") from error
    return OfficeHours(timezone, {day: tuple(sorted(r)) for day, r in weekly.items()}, closed)


def _days(text: str) -> list[int]:
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
    if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
        raise HoursError(f"`{text}` is not a time of day")
    return h1 * 60 + m1, h2 * 60 + m2
