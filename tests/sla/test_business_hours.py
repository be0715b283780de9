"""Business calendar: Serbian holidays, Orthodox Easter, DST-correct business-time arithmetic."""

from datetime import UTC, date, datetime

import pytest

from helpdesk.business_hours import (
    BusinessCalendar,
    CalendarError,
    orthodox_easter,
    serbian_holidays,
    western_easter,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture()
def cal() -> BusinessCalendar:
    return BusinessCalendar.build("mon-fri 08:00-16:00", "Europe/Belgrade", ["rs"])


@pytest.mark.parametrize(
    ("year", "expected"),
    [(2023, date(2023, 4, 16)), (2024, date(2024, 5, 5)), (2025, date(2025, 4, 20)),
     (2026, date(2026, 4, 12)), (2027, date(2027, 5, 2)), (2030, date(2030, 4, 28))],
)
def test_orthodox_easter_matches_the_church_calendar(year, expected):
    assert orthodox_easter(year) == expected


def test_western_easter_for_comparison():
    assert western_easter(2026) == date(2026, 4, 5)
    assert western_easter(2025) == date(2025, 4, 20)


def test_serbian_holidays_2026():
    days = serbian_holidays(2026)
    assert set(days) == {
        date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 7), date(2026, 2, 15),
        date(2026, 2, 16), date(2026, 2, 17),  # 15 Feb 2026 is a Sunday: Tuesday is off too
        date(2026, 4, 10), date(2026, 4, 11), date(2026, 4, 12), date(2026, 4, 13),
        date(2026, 5, 1), date(2026, 5, 2), date(2026, 11, 11),
    }


def test_sunday_holidays_move_to_the_next_working_day():
    assert date(2023, 1, 3) in serbian_holidays(2023)  # 1 Jan 2023 was a Sunday
    # 2021: 2 May was Sunday and Easter; Easter Monday 3 May was already off, so 4 May.
    assert date(2021, 5, 4) in serbian_holidays(2021)


def test_is_open_in_local_time(cal):
    # Monday 30 Nov 2026, CET (UTC+1): open 07:00-15:00 UTC.
    assert not cal.is_open(utc(2026, 11, 30, 6, 59))
    assert cal.is_open(utc(2026, 11, 30, 7, 0))
    assert cal.is_open(utc(2026, 11, 30, 14, 59))
    assert not cal.is_open(utc(2026, 11, 30, 15, 0))
    # Summer time (UTC+2): open 06:00-14:00 UTC.
    assert cal.is_open(utc(2026, 6, 1, 6, 0))
    assert not cal.is_open(utc(2026, 6, 1, 14, 0))
    # Weekend and public holiday (Good Friday 2026).
    assert not cal.is_open(utc(2026, 11, 28, 10, 0))
    assert not cal.is_open(utc(2026, 4, 10, 9, 0))


def test_add_business_seconds_across_the_spring_dst_weekend(cal):
    # Fri 27 Mar 2026 15:00 CET (14:00 UTC) + 2 h: 1 h on Friday, 1 h on Monday 30 Mar (CEST).
    due = cal.add_business_seconds(utc(2026, 3, 27, 14, 0), 2 * 3600)
    assert due == utc(2026, 3, 30, 7, 0)  # 09:00 CEST
    assert cal.business_seconds_between(utc(2026, 3, 27, 14, 0), due) == 2 * 3600


def test_add_business_seconds_across_the_autumn_dst_weekend(cal):
    # Fri 23 Oct 2026 15:30 CEST (13:30 UTC) + 1 h: 30 min Friday, 30 min Monday 26 Oct (CET).
    assert cal.add_business_seconds(utc(2026, 10, 23, 13, 30), 3600) == utc(2026, 10, 26, 7, 30)


def test_add_business_seconds_skips_orthodox_easter(cal):
    # Thu 9 Apr 2026 15:00 CEST + 2 h: 1 h Thursday, then Good Friday .. Easter Monday are off.
    assert cal.add_business_seconds(utc(2026, 4, 9, 13, 0), 7200) == utc(2026, 4, 14, 7, 0)


def test_clock_starts_at_opening_when_closed(cal):
    sat = utc(2026, 11, 28, 10, 0)
    assert cal.add_business_seconds(sat, 0) == utc(2026, 11, 30, 7, 0)
    assert cal.add_business_seconds(sat, 3600) == utc(2026, 11, 30, 8, 0)
    assert cal.next_open(sat) == utc(2026, 11, 30, 7, 0)


def test_business_seconds_between_spans_days_and_is_signed(cal):
    a, b = utc(2026, 11, 27, 14, 0), utc(2026, 12, 1, 8, 0)  # Fri 15:00 .. Tue 09:00 local
    assert cal.business_seconds_between(a, b) == (1 + 8 + 1) * 3600
    assert cal.business_seconds_between(b, a) == -(10 * 3600)


def test_round_the_clock_calendar_measures_dst_days_in_real_hours():
    cal = BusinessCalendar.build("mon-sun 00:00-24:00", "Europe/Belgrade", ["none"])
    # Local day 29 Mar 2026 lasts 23 h, 25 Oct 2026 lasts 25 h.
    spring = cal.business_seconds_between(utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 22, 0))
    autumn = cal.business_seconds_between(utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 23, 0))
    assert (spring, autumn) == (23 * 3600, 25 * 3600)
    assert cal.add_business_seconds(utc(2026, 3, 28, 23, 0), 24 * 3600) == utc(2026, 3, 29, 23, 0)


def test_configurable_hours_and_extra_holidays():
    cal = BusinessCalendar.build(
        "mon-fri 08:00-16:00; fri 08:00-12:00; sat 09:00-11:00,12:00-13:00",
        "Europe/Belgrade", ["none"], [date(2026, 12, 2)],
    )
    assert not cal.is_open(utc(2026, 12, 4, 12, 0))  # Friday 13:00 local: short Friday
    assert cal.is_open(utc(2026, 12, 5, 11, 30))  # Saturday 12:30 local
    assert not cal.is_open(utc(2026, 12, 5, 10, 30))  # Saturday lunch break
    assert not cal.is_open(utc(2026, 12, 2, 9, 0))  # an extra holiday
    assert cal.is_open(utc(2026, 4, 10, 9, 0))  # no Serbian rules: Good Friday is a workday


@pytest.mark.parametrize(
    "spec", ["mon-fri 8-16", "xyz 08:00-16:00", "fri-mon 08:00-16:00", "mon 16:00-08:00",
             "mon 08:00-12:00,11:00-13:00", "mon"],
)
def test_bad_hours_are_refused_with_a_clear_error(spec):
    with pytest.raises(CalendarError):
        BusinessCalendar.build(spec)


def test_bad_time_zone_and_rules_are_refused():
    with pytest.raises(CalendarError, match="time zone"):
        BusinessCalendar.build(timezone="Mars/Olympus")
    with pytest.raises(CalendarError, match="holiday"):
        BusinessCalendar.build(holiday_rules=["xx"])


def test_from_settings_reads_the_settings_fields():
    class S:
        business_hours = "mon-thu 07:00-15:00"
        timezone = "Europe/Belgrade"
        holidays = (date(2026, 12, 3),)
        holiday_rules = "rs"

    cal = BusinessCalendar.from_settings(S())
    assert not cal.is_open(utc(2026, 12, 4, 8, 0))  # Friday
    assert not cal.is_open(utc(2026, 12, 3, 8, 0))  # extra holiday
    assert cal.is_open(utc(2026, 12, 1, 6, 0))
