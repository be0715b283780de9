"""Business hours: when the support center is staffed, in its own time zone.

A `BusinessCalendar` knows the working windows of each weekday (wall-clock times in the
center's time zone, default Europe/Belgrade) and the public holidays. SLA due times, the
phone "speak to an agent" option and the supervisor figures all ask it the same questions:

* `is_open(dt)` — is someone at the desk at this instant?
* `add_business_seconds(start, seconds)` — when have `seconds` of staffed time passed?
* `business_seconds_between(a, b)` — how much staffed time lies between two instants?

Every window is turned into an aware UTC interval before any arithmetic, so a day on which
the clocks change (last Sunday of March and October) is measured correctly: nothing is
counted twice in the repeated hour and nothing in the skipped one.

Holidays come from a named rule set (`"rs"`: the public holidays of the Republic of Serbia,
with Orthodox Easter computed) plus any extra dates from settings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_HOURS = "mon-fri 08:00-16:00"
DEFAULT_TIMEZONE = "Europe/Belgrade"
# Safety net for add_business_seconds: ten years of closed days means a broken calendar.
_MAX_DAYS = 3660


class CalendarError(ValueError):
    """A business-hours or holiday setting that cannot be understood."""


# --- holidays ---------------------------------------------------------------------------


def orthodox_easter(year: int) -> date:
    """Orthodox Easter Sunday (Julian computus, Meeus), as a Gregorian date."""
    a, b, c = year % 4, year % 7, year % 19
    d = (19 * c + 15) % 30
    e = (2 * a + 4 * b - d + 34) % 7
    month, day = divmod(d + e + 114, 31)
    julian = date(year, month, day + 1)
    # The Julian calendar lags the Gregorian by 13 days in 1900-2099; the general rule:
    return julian + timedelta(days=year // 100 - year // 400 - 2)


def western_easter(year: int) -> date:
    """Catholic / Protestant Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ll = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ll) // 451
    month, day = divmod(h + ll - 7 * m + 114, 31)
    return date(year, month, day + 1)


def serbian_holidays(year: int) -> dict[date, str]:
    """Non-working public holidays in Serbia (Zakon o državnim i drugim praznicima).

    When a day of New Year, Statehood Day, Labour Day or Armistice Day falls on a Sunday,
    the first following working day is free too (so in 2023, with 1 January a Sunday, the
    2nd and the 3rd were off).
    """
    easter = orthodox_easter(year)
    shiftable = {
        date(year, 1, 1): "Nova godina",
        date(year, 1, 2): "Nova godina",
        date(year, 2, 15): "Sretenje — Dan državnosti",
        date(year, 2, 16): "Sretenje — Dan državnosti",
        date(year, 5, 1): "Praznik rada",
        date(year, 5, 2): "Praznik rada",
        date(year, 11, 11): "Dan primirja",
    }
    days: dict[date, str] = dict(shiftable)
    days[date(year, 1, 7)] = "Božić"
    days[easter - timedelta(days=2)] = "Veliki petak"
    days[easter - timedelta(days=1)] = "Velika subota"
    days[easter] = "Vaskrs"
    days[easter + timedelta(days=1)] = "Vaskršnji ponedeljak"
    for day, name in sorted(shiftable.items()):
        if day.weekday() != 6:
            continue
        moved = day + timedelta(days=1)
        while moved in days or moved.weekday() == 6:
            moved += timedelta(days=1)
        days[moved] = f"{name} (prenos)"
    return days


def no_holidays(year: int) -> dict[date, str]:
    return {}


HOLIDAY_RULES: dict[str, Callable[[int], dict[date, str]]] = {
    "rs": serbian_holidays,
    "none": no_holidays,
}


# --- working windows --------------------------------------------------------------------

_TIME_RANGE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def _parse_days(token: str) -> list[int]:
    days: list[int] = []
    for part in token.lower().split(","):
        first, _, last = part.partition("-")
        try:
            lo = DAY_NAMES.index(first[:3])
            hi = DAY_NAMES.index(last[:3]) if last else lo
        except ValueError:
            raise CalendarError(f"unknown day {part!r} (use mon..sun)") from None
        if hi < lo:
            raise CalendarError(f"day range {part!r} runs backwards")
        days.extend(range(lo, hi + 1))
    return days


def _parse_range(token: str) -> tuple[int, int]:
    """'08:00-16:00' -> (480, 960) minutes after midnight; '24:00' closes the day."""
    match = _TIME_RANGE.match(token)
    if not match:
        raise CalendarError(f"bad time range {token!r} (use HH:MM-HH:MM)")
    h1, m1, h2, m2 = (int(x) for x in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or start >= 24 * 60 or end > 24 * 60 or end <= start:
        raise CalendarError(f"bad time range {token!r}")
    return start, end


def parse_hours(spec: str) -> dict[int, tuple[tuple[int, int], ...]]:
    """Parse 'mon-fri 08:00-16:00; sat 09:00-12:00,13:00-15:00' into weekday -> windows.

    Groups are separated by ';'. A later group replaces the windows of the days it names,
    so 'mon-fri 08:00-16:00; fri 08:00-14:00' shortens Friday.
    """
    week: dict[int, tuple[tuple[int, int], ...]] = {}
    for group in spec.split(";"):
        group = group.strip()
        if not group:
            continue
        days_token, _, rest = group.partition(" ")
        ranges = sorted(_parse_range(t) for t in re.split(r"[\s,]+", rest.strip()) if t)
        if not ranges:
            raise CalendarError(f"no hours given for {days_token!r}")
        for (_, end), (start, _) in zip(ranges, ranges[1:], strict=False):
            if start < end:
                raise CalendarError(f"overlapping hours in {group!r}")
        for day in _parse_days(days_token):
            week[day] = tuple(ranges)
    return week


# --- the calendar -----------------------------------------------------------------------


def _aware_utc(dt: datetime) -> datetime:
    # The store hands back naive UTC on some paths; treat naive as UTC rather than local.
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


@dataclass(frozen=True)
class BusinessCalendar:
    week: Mapping[int, tuple[tuple[int, int], ...]]
    tz: ZoneInfo
    holiday_rules: tuple[str, ...] = ("rs",)
    extra_holidays: frozenset[date] = frozenset()
    _cache: dict[int, frozenset[date]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls,
        hours: str = DEFAULT_HOURS,
        timezone: str = DEFAULT_TIMEZONE,
        holiday_rules: Iterable[str] = ("rs",),
        extra_holidays: Iterable[date] = (),
    ) -> BusinessCalendar:
        rules = tuple(r.strip().lower() for r in holiday_rules if r.strip())
        for rule in rules:
            if rule not in HOLIDAY_RULES:
                raise CalendarError(f"unknown holiday rules {rule!r} ({', '.join(HOLIDAY_RULES)})")
        try:
            tz = ZoneInfo(timezone)
        except (KeyError, ValueError) as exc:
            raise CalendarError(f"unknown time zone {timezone!r}") from exc
        return cls(parse_hours(hours), tz, rules, frozenset(extra_holidays))

    @classmethod
    def from_settings(cls, settings: object) -> BusinessCalendar:
        """Build from Settings (business_hours, timezone, holidays, holiday_rules)."""
        rules = getattr(settings, "holiday_rules", "rs")
        if isinstance(rules, str):
            rules = rules.split(",")
        return cls.build(
            hours=getattr(settings, "business_hours", DEFAULT_HOURS) or DEFAULT_HOURS,
            timezone=getattr(settings, "timezone", DEFAULT_TIMEZONE) or DEFAULT_TIMEZONE,
            holiday_rules=rules,
            extra_holidays=getattr(settings, "holidays", ()) or (),
        )

    # -- days and windows --

    def holidays(self, year: int) -> frozenset[date]:
        cached = self._cache.get(year)
        if cached is None:
            days: set[date] = {d for d in self.extra_holidays if d.year == year}
            for rule in self.holiday_rules:
                days.update(HOLIDAY_RULES[rule](year))
            cached = self._cache[year] = frozenset(days)
        return cached

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays(day.year)

    def is_working_day(self, day: date) -> bool:
        return bool(self.week.get(day.weekday())) and not self.is_holiday(day)

    def windows(self, day: date) -> list[tuple[datetime, datetime]]:
        """The staffed intervals of a local calendar day, as aware UTC datetimes."""
        if not self.is_working_day(day):
            return []
        return [self._interval(day, start, end) for start, end in self.week[day.weekday()]]

    def _interval(self, day: date, start: int, end: int) -> tuple[datetime, datetime]:
        return _local_to_utc(day, start, self.tz), _local_to_utc(day, end, self.tz)

    def local_date(self, dt: datetime) -> date:
        return _aware_utc(dt).astimezone(self.tz).date()

    def _windows_from(self, dt: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Every window that ends after `dt`, in order (starting the day before, for safety)."""
        day = self.local_date(dt) - timedelta(days=1)
        if not any(self.week.values()):
            raise CalendarError("business hours have no working day")
        for _ in range(_MAX_DAYS):
            for start, end in self.windows(day):
                if end > dt:
                    yield start, end
            day += timedelta(days=1)
        raise CalendarError("no working day within ten years: check the holidays")

    # -- the three questions --

    def is_open(self, dt: datetime) -> bool:
        dt = _aware_utc(dt)
        day = self.local_date(dt)
        return any(start <= dt < end for start, end in self.windows(day))

    def next_open(self, dt: datetime) -> datetime:
        """`dt` itself if open, else the start of the next window."""
        dt = _aware_utc(dt)
        for start, _ in self._windows_from(dt):
            return max(start, dt)
        raise CalendarError("unreachable")  # pragma: no cover - _windows_from raises first

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The instant at which `seconds` of business time have passed since `start`.

        Zero seconds from a closed moment gives the next opening: the clock has not started.
        """
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        dt = _aware_utc(start)
        remaining = timedelta(seconds=seconds)
        for w_start, w_end in self._windows_from(dt):
            begin = max(w_start, dt)
            available = w_end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise CalendarError("unreachable")  # pragma: no cover

    def business_seconds_between(self, a: datetime, b: datetime) -> float:
        """Staffed seconds in [a, b); negative when b is before a."""
        a, b = _aware_utc(a), _aware_utc(b)
        if b < a:
            return -self.business_seconds_between(b, a)
        total = timedelta()
        day = self.local_date(a)
        last = self.local_date(b)
        while day <= last:
            for w_start, w_end in self.windows(day):
                lo, hi = max(w_start, a), min(w_end, b)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total.total_seconds()


@lru_cache(maxsize=4096)
def _local_to_utc(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    # 24:00 is midnight of the next day; a wall time inside the spring-forward gap resolves
    # (fold=0) to the instant after the gap, which is what a clock on the wall would show.
    local = datetime.combine(day, time(0), tzinfo=tz) if minutes == 0 else None
    if minutes >= 24 * 60:
        local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    elif local is None:
        local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz)
    return local.astimezone(UTC)
