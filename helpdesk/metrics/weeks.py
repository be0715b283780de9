"""ISO weeks in the support center's time zone: labels, parsing and their UTC boundaries.

A week runs from Monday 00:00 to the next Monday 00:00 *local* time, so a week that contains a
daylight-saving change lasts 167 or 169 hours; its boundaries are computed with zoneinfo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_WEEKS = 160  # about three years: enough for any report, small enough to answer quickly
_LABEL = re.compile(r"^(\d{4})-W(\d{2})$")


class WeekError(ValueError):
    """A week label or range that cannot be used."""


@dataclass(frozen=True)
class Week:
    year: int
    number: int
    start: datetime  # aware UTC, Monday 00:00 local
    end: datetime  # aware UTC, next Monday 00:00 local

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def week_of(day: date, tz: ZoneInfo) -> Week:
    year, number, _ = day.isocalendar()
    monday = date.fromisocalendar(year, number, 1)
    next_monday = monday + timedelta(days=7)
    return Week(year, number, _local_midnight(monday, tz), _local_midnight(next_monday, tz))


def parse_week(label: str, tz: ZoneInfo) -> Week:
    match = _LABEL.match(label.strip())
    if not match:
        raise WeekError(f"{label!r} is not an ISO week (use e.g. 2026-W48)")
    year, number = int(match[1]), int(match[2])
    if not 1970 <= year <= 2999:  # the calendar's edges overflow in time zone arithmetic
        raise WeekError(f"{label!r}: weeks from 1970 to 2999 only")
    try:
        monday = date.fromisocalendar(year, number, 1)
        return week_of(monday, tz)
    except (ValueError, OverflowError):  # week 54, or a week at the edge of the calendar
        raise WeekError(f"{label!r}: {year} has no week {number}") from None


def week_range(first: Week, last: Week, tz: ZoneInfo) -> list[Week]:
    if last.monday < first.monday:
        raise WeekError(f"{first.label} comes after {last.label}")
    count = (last.monday - first.monday).days // 7 + 1
    if count > MAX_WEEKS:
        raise WeekError(f"at most {MAX_WEEKS} weeks at a time ({count} asked)")
    return [week_of(first.monday + timedelta(weeks=i), tz) for i in range(count)]


def last_weeks(now: datetime, count: int, tz: ZoneInfo) -> list[Week]:
    """The `count` weeks ending with the current one (local time)."""
    current = week_of(now.astimezone(tz).date(), tz)
    first = week_of(current.monday - timedelta(weeks=count - 1), tz)
    return week_range(first, current, tz)


def previous(week: Week, tz: ZoneInfo) -> Week:
    return week_of(week.monday - timedelta(weeks=1), tz)
