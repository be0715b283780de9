"""How citizens reach a person: the office's phone numbers, email address and opening hours.

The hours come from the same business calendar the SLA uses (``HELPDESK_BUSINESS_HOURS``,
``HELPDESK_TIMEZONE``, holidays), so the front door never promises hours the agents don't keep.
Day names come from the CLDR data in Babel, in the reader's language and script.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel import Locale

from helpdesk.business_hours import BusinessCalendar
from helpdesk.settings import Settings

LOCALES = {"sr-Latn": "sr_Latn", "sr-Cyrl": "sr_Cyrl", "en": "en"}


@dataclass(frozen=True)
class OfficeHoursLine:
    days: str  # "Monday–Friday"
    hours: str  # "08:00–16:00"


@dataclass(frozen=True)
class Office:
    phones: tuple[str, ...]
    email: str
    hours: tuple[OfficeHoursLine, ...]
    timezone: str
    holidays_closed: bool
    open_now: bool


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def hours_lines(calendar: BusinessCalendar, language: str) -> tuple[OfficeHoursLine, ...]:
    """Consecutive days with the same windows become one line: "Monday–Friday 08:00–16:00"."""
    names = Locale.parse(LOCALES.get(language, "en")).days["stand-alone"]["wide"]
    lines: list[OfficeHoursLine] = []
    day = 0
    while day < 7:
        windows = calendar.week.get(day)
        if not windows:
            day += 1
            continue
        last = day
        while last + 1 < 7 and calendar.week.get(last + 1) == windows:
            last += 1
        first_name = names[day]
        days = first_name if last == day else f"{first_name}–{names[last]}"
        days = days[:1].upper() + days[1:]  # CLDR's Serbian day names are lower case
        hours = ", ".join(f"{_clock(a)}–{_clock(b)}" for a, b in windows)
        lines.append(OfficeHoursLine(days, hours))
        day = last + 1
    return tuple(lines)


def office(settings: Settings, language: str, now: datetime) -> Office:
    calendar = BusinessCalendar.from_settings(settings)
    return Office(
        phones=settings.office_phone,
        email=settings.office_email or settings.support_address,
        hours=hours_lines(calendar, language),
        timezone=settings.timezone,
        holidays_closed=bool(calendar.holiday_rules or calendar.extra_holidays),
        open_now=calendar.is_open(now),
    )
