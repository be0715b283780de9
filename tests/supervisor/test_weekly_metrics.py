"""Every weekly figure against hand-worked values (metrics_scenario.py), SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

import pytest
from metrics_scenario import BELGRADE, EXPECTED, EXPECTED_DUE, NOW, local

from helpdesk.metrics import Filters, WeekError, report_csv, resolve_weeks, weekly_report
from helpdesk.metrics.weeks import parse_week
from helpdesk.models import Ticket


def report(db, first="2026-W43", last="2026-W46", **filters):
    weeks = resolve_weeks(first, last, NOW, BELGRADE)
    return weekly_report(db, weeks, NOW, Filters(**filters), BELGRADE)


def test_due_times_follow_business_hours_dst_holidays_and_pauses(scenario_db):
    with scenario_db.session() as session:
        for key, (fr_due, res_due) in EXPECTED_DUE.items():
            t = session.get(Ticket, scenario_db.ticket_ids[key])
            assert (t.first_response_due_at, t.resolution_due_at) == (fr_due, res_due), key
        t4 = session.get(Ticket, scenario_db.ticket_ids["T4"])
        assert t4.sla_paused_seconds == 16 * 3600  # Mon 10-16, Tue 8-16, Wed 8-10
        assert t4.sla_paused_at is None
        t7 = session.get(Ticket, scenario_db.ticket_ids["T7"])
        assert t7.sla_paused_at == local(11, 6, 15, 45)


def test_every_weekly_figure_matches_the_hand_worked_values(scenario_db):
    result = report(scenario_db, "2026-W42", "2026-W46").to_json()
    assert [w["week"] for w in result["weeks"]] == list(EXPECTED)
    for week in result["weeks"]:
        assert week == {"week": week["week"], **EXPECTED[week["week"]]}, week["week"]


def test_change_from_the_previous_week(scenario_db):
    rep = report(scenario_db)  # W43..W46; W42 is the week before
    assert rep.before.week == "2026-W42"
    changes = rep.changes()
    assert changes[0] == {
        "total": 2, "backlog": 1, "deflected": 1, "first_response_median": 1800 - 3600,
        "resolution_median": 120 - 3 * 3600, "sla_compliance": 0.0, "csat": 1.0,
    }
    assert changes[1]["first_response_median"] == 30600 - 1800
    assert changes[1]["sla_compliance"] == round(0.6667 - 1.0, 4)
    assert changes[2]["csat"] is None  # W45 has no rating
    assert changes[3]["total"] == 1


def test_filters_by_channel_queue_and_category(scenario_db):
    phone = {w["week"]: w for w in report(scenario_db, channel="phone").to_json()["weeks"]}
    assert phone["2026-W43"]["total"] == 2  # a call and an SMS
    assert phone["2026-W43"]["by_channel"]["phone"] == 2
    assert phone["2026-W44"]["first_response"]["median_seconds"] == 239400  # T2 only
    finance = {w["week"]: w for w in report(scenario_db, queue="finance").to_json()["weeks"]}
    assert [finance[w]["total"] for w in sorted(finance)] == [1, 2, 0, 1]
    assert finance["2026-W45"]["backlog"] == 1  # T6; the merged T8 is never counted
    assert finance["2026-W45"]["sla_compliance"] == 0.0
    ids = {w["week"]: w for w in report(scenario_db, category="id").to_json()["weeks"]}
    assert ids["2026-W46"]["sla_compliance"] == 0.0  # T9 resolved late
    assert ids["2026-W44"]["csat"] == 2.0
    # Callbacks count under their ticket: T1 (finance), T8 (phone, merged away), T9 (category id).
    assert [finance[w]["callbacks"]["requested"] for w in sorted(finance)] == [1, 0, 1, 0]
    assert phone["2026-W45"]["callbacks"]["reached"] == 1 and phone["2026-W46"]["callbacks"]["requested"] == 0
    assert ids["2026-W46"]["callbacks"] == {"requested": 1, "reached": 0, "no_answer": 0, "wrong_number": 1}


def test_csv_has_one_row_per_week_with_every_figure(scenario_db):
    rows = list(csv.DictReader(io.StringIO(report_csv(report(scenario_db)))))
    assert [r["week"] for r in rows] == ["2026-W43", "2026-W44", "2026-W45", "2026-W46"]
    w44 = rows[1]
    assert (w44["total"], w44["channel:email"], w44["category:tax"], w44["queue:documents"]) == (
        "3", "2", "2", "1")
    assert w44["first_response_p90_seconds"] == "239400"
    assert rows[2]["resolution_median_seconds"] == ""  # no resolution that week
    assert w44["sla_compliance"] == "0.6667"
    assert [(r["callbacks_requested"], r["callbacks_reached"], r["callbacks_no_answer"]) for r in rows] == [
        ("1", "0", "1"), ("0", "1", "0"), ("1", "1", "0"), ("1", "0", "0")]


def test_weeks_are_parsed_strictly():
    assert parse_week("2026-W53", BELGRADE).label == "2026-W53"  # 2026 has 53 ISO weeks
    for bad in ("2026-48", "2025-W53", "2026-W00", "W48"):
        with pytest.raises(WeekError):
            parse_week(bad, BELGRADE)
    with pytest.raises(WeekError, match="after"):
        resolve_weeks("2026-W48", "2026-W40", NOW, BELGRADE)
    with pytest.raises(WeekError, match="at most"):
        resolve_weeks("2020-W01", "2026-W40", NOW, BELGRADE)
    default = resolve_weeks(None, None, NOW, BELGRADE)
    assert (len(default), default[-1].label) == (12, "2026-W47")


def test_week_with_the_dst_change_is_169_hours_long():
    week = parse_week("2026-W43", BELGRADE)
    assert (week.end - week.start).total_seconds() == 169 * 3600


def test_live_counters_for_today(scenario_db):
    from helpdesk.metrics import live_counters

    live = live_counters(scenario_db, NOW, BELGRADE, Filters())
    assert (live.created_today, live.resolved_today) == (0, 0)
    assert (live.open, live.pending, live.unassigned) == (1, 1, 2)  # T6 open, T7 pending
    assert live.breached_open == 1  # T6, before the SLA watch has run; T7's clock is stopped
    at_w44_start = live_counters(scenario_db, local(10, 27, 12), BELGRADE, Filters())
    assert at_w44_start.created_today == 1 and at_w44_start.resolved_today == 1  # T5
