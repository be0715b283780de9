"""The time windows a citizen can ask to be called back in: slices of business hours.

The business calendar in force (an administrator's stored hours over HELPDESK_BUSINESS_HOURS)
is cut into windows of HELPDESK_CALLBACK_WINDOW_MINUTES from the start of each working period,
HELPDESK_CALLBACK_DAYS working days ahead. A window is offered while at least LEAD of it is left,
so nobody is promised a call in a window that is about to close. Every door (the pages, the chat,
the phone menu) offers the same windows and the core accepts only those.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from babel.dates import format_date

from helpdesk.business_hours import BusinessCalendar
from helpdesk.services import Services

LEAD = timedelta(minutes=30)
MAX_DAYS_SCANNED = 60  # holidays and weekends between working days; a safety net
LOCALES = {"sr-Latn": "sr_Latn", "sr-Cyrl": "sr_Cyrl", "en": "en", "sr": "sr_Latn"}


@dataclass(frozen=True, order=True)
class Window:
    start: datetime  # aware UTC
    end: datetime

    @property
    def key(self) -> str:
        """The form value and phone-menu token: the start as whole seconds since the epoch."""
        return str(int(self.start.timestamp()))

    def as_json(self) -> list[str]:
        return [self.start.isoformat(), self.end.isoformat()]

    @classmethod
    def from_json(cls, pair: list[str]) -> Window:
        return cls(datetime.fromisoformat(pair[0]), datetime.fromisoformat(pair[1]))


def calendar_in_force(svc: Services) -> BusinessCalendar:
    """The SLA policy's calendar follows the hours an administrator stored; settings otherwise."""
    calendar = getattr(svc.sla, "calendar", None)
    if isinstance(calendar, BusinessCalendar):
        return calendar
    return BusinessCalendar.from_settings(svc.settings)


def offered_windows(svc: Services, now: datetime | None = None) -> list[Window]:
    """Every window a citizen may choose now, earliest first."""
    now = now or svc.clock.now()
    calendar = calendar_in_force(svc)
    step = timedelta(minutes=max(15, svc.settings.callback_window_minutes))
    wanted_days = max(1, svc.settings.callback_days)
    found: list[Window] = []
    day, days_used = calendar.local_date(now), 0
    for _ in range(MAX_DAYS_SCANNED):
        before = len(found)
        for period_start, period_end in calendar.windows(day):
            start = period_start
            while start < period_end:
                end = min(start + step, period_end)
                if end - now >= LEAD:
                    found.append(Window(start, end))
                start = end
        days_used += len(found) > before
        if days_used >= wanted_days:
            break
        day += timedelta(days=1)
    return found


def window_for_key(svc: Services, key: str, now: datetime | None = None) -> Window | None:
    """The offered window a form value or key press names, or None (stale, forged, closed)."""
    return next((w for w in offered_windows(svc, now) if w.key == key.strip()), None)


def next_window(svc: Services, chosen: list[Window], after: datetime, now: datetime) -> Window | None:
    """Where a callback goes after "no answer": the citizen's next chosen window that starts
    after ``after`` (and after now), else the next window on offer."""
    floor = max(after, now)
    later = sorted(w for w in chosen if w.start >= floor)
    if later:
        return later[0]
    return next((w for w in offered_windows(svc, now) if w.start >= floor), None)


# -- how a window is said ------------------------------------------------------------------------


def _clock(dt: datetime, calendar: BusinessCalendar) -> str:
    local = dt.astimezone(calendar.tz)
    return local.strftime("%H:%M")


def day_label(svc: Services, window: Window, language: str, now: datetime | None = None) -> str:
    """'Danas, ponedeljak 30. novembar' / 'Today, Monday 30 November' (CLDR names via Babel)."""
    now = now or svc.clock.now()
    calendar = calendar_in_force(svc)
    day = calendar.local_date(window.start)
    locale = LOCALES.get(language, "sr_Latn")
    pattern = "EEEE d MMMM" if locale == "en" else "EEEE d. MMMM"
    text = format_date(day, pattern, locale=locale)
    offset = (day - calendar.local_date(now)).days
    words = {"en": ("Today", "Tomorrow")}.get(locale, ("Danas", "Sutra"))
    if locale == "sr_Cyrl":
        words = ("Данас", "Сутра")
    if offset in (0, 1):
        return f"{words[offset]}, {text}"
    return text[:1].upper() + text[1:]


def hours_label(svc: Services, window: Window) -> str:
    calendar = calendar_in_force(svc)
    return f"{_clock(window.start, calendar)}–{_clock(window.end, calendar)}"


def full_label(svc: Services, window: Window, language: str, now: datetime | None = None) -> str:
    return f"{day_label(svc, window, language, now)} {hours_label(svc, window)}"


def group_by_day(
    svc: Services, windows: list[Window], language: str
) -> list[tuple[str, list[tuple[Window, str]]]]:
    """[(day label, [(window, '14:00–16:00'), ...]), ...] for the pages' fieldsets."""
    groups: list[tuple[str, list[tuple[Window, str]]]] = []
    for window in windows:
        label = day_label(svc, window, language)
        if not groups or groups[-1][0] != label:
            groups.append((label, []))
        groups[-1][1].append((window, hours_label(svc, window)))
    return groups


def utc(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)
