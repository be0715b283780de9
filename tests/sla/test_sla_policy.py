"""The business-hours SLA policy: due times, pending pauses, late resolutions and console state."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from helpdesk.business_hours import BusinessCalendar
from helpdesk.models import Ticket
from helpdesk.sla import BusinessHoursSla, SlaConfigError, parse_targets, sla_state

BELGRADE = ZoneInfo("Europe/Belgrade")


def local(month, day, hour, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=BELGRADE).astimezone(UTC)


def ticket(priority="normal", queue="finance", created=None, **kw):
    fields = dict(
        id=1, reference="HD-2026-000001", priority=priority, queue=queue, status="new",
        created_at=created, first_response_at=None, resolved_at=None, closed_at=None,
        first_response_due_at=None, resolution_due_at=None, sla_paused_at=None,
        sla_paused_seconds=0, sla_breached_at=None,
    )
    fields.update(kw)
    return Ticket(**fields)  # transient: no session, so no audit row is written here


@pytest.fixture()
def policy():
    cal = BusinessCalendar.build("mon-fri 08:00-16:00", "Europe/Belgrade", ["rs"])
    targets = parse_targets("urgent=1h/4h,high=2h/8h,normal=4h/16h,low=8h/40h,tax:normal=2h/8h")
    return BusinessHoursSla(cal, targets, warning_ratio=0.25)


def change(policy, t, new, at):
    old, t.status = t.status, new
    policy.on_status_change(t, old, new, at)


def test_targets_per_priority_and_per_queue(policy):
    t = ticket(created=local(12, 1, 9))
    policy.on_open(t, t.created_at)
    assert (t.first_response_due_at, t.resolution_due_at) == (local(12, 1, 13), local(12, 3, 9))
    q = ticket(queue="tax", created=local(12, 1, 9))
    policy.on_open(q, q.created_at)
    assert (q.first_response_due_at, q.resolution_due_at) == (local(12, 1, 11), local(12, 2, 9))


def test_pending_stops_both_clocks_and_resume_grants_the_time_left(policy):
    t = ticket(created=local(12, 1, 9))  # Tuesday
    policy.on_open(t, t.created_at)
    change(policy, t, "pending", local(12, 1, 10))  # 3 h of first response left, 15 h resolution
    assert t.sla_paused_at == local(12, 1, 10)
    change(policy, t, "open", local(12, 4, 15))  # Friday 15:00
    assert t.sla_paused_at is None
    assert t.sla_paused_seconds == (6 + 8 + 8 + 7) * 3600
    assert t.first_response_due_at == local(12, 7, 10)  # 1 h Friday + 2 h Monday
    assert t.resolution_due_at == local(12, 8, 14)  # 1 h Fri, 8 h Mon, 6 h Tue


def test_a_target_already_missed_before_the_pause_stays_missed(policy):
    t = ticket(priority="urgent", created=local(12, 1, 9))
    policy.on_open(t, t.created_at)
    change(policy, t, "pending", local(12, 1, 11))  # first response was due at 10:00
    change(policy, t, "open", local(12, 2, 9))
    assert t.first_response_due_at == local(12, 1, 10)
    assert t.resolution_due_at == local(12, 2, 11)  # 2 h were left at 11:00


def test_late_resolution_is_recorded_as_a_breach(policy):
    t = ticket(priority="high", created=local(12, 1, 9))
    policy.on_open(t, t.created_at)
    t.first_response_at = local(12, 1, 10)
    t.resolved_at = local(12, 2, 10)  # 8 business hours from Tue 09:00 end Wed 09:00
    change(policy, t, "resolved", t.resolved_at)
    assert t.resolution_due_at == local(12, 2, 9)
    assert t.sla_breached_at == local(12, 2, 9)


def test_reopening_gives_a_fresh_resolution_target(policy):
    t = ticket(created=local(12, 1, 9))
    policy.on_open(t, t.created_at)
    t.first_response_at = t.resolved_at = local(12, 1, 10)
    change(policy, t, "resolved", local(12, 1, 10))
    change(policy, t, "open", local(12, 4, 12))
    assert t.resolution_due_at == local(12, 8, 12)  # 16 h from Fri 12:00


def test_console_state_ok_warning_breached(policy):
    t = ticket(created=local(12, 1, 9))  # first response due 13:00 (4 h target, warn at 1 h)
    policy.on_open(t, t.created_at)
    assert sla_state(policy, t, local(12, 1, 11, 59)) == "ok"
    assert sla_state(policy, t, local(12, 1, 12)) == "warning"
    assert sla_state(policy, t, local(12, 1, 13)) == "breached"
    change(policy, t, "pending", local(12, 1, 11))  # paused with 2 h left: stays ok
    assert sla_state(policy, t, local(12, 5, 12)) == "ok"


def test_warning_counts_business_time_over_a_weekend(policy):
    t = ticket(created=local(12, 4, 13))  # Friday 13:00: 3 h Friday + 1 h Monday
    policy.on_open(t, t.created_at)
    assert t.first_response_due_at == local(12, 7, 9)
    assert sla_state(policy, t, local(12, 4, 14, 30)) == "ok"  # 2.5 h left
    assert sla_state(policy, t, local(12, 5, 12)) == "warning"  # Saturday: 1 h left


@pytest.mark.parametrize("spec", ["normal=4/16", "normal=4h", "tax:=1h/2h", "normal=0h/1h",
                                  "normal=8h/4h"])
def test_bad_targets_are_refused(spec):
    with pytest.raises(SlaConfigError):
        parse_targets(spec)


def test_from_settings_overrides_only_what_it_names():
    s = SimpleNamespace(business_hours="mon-fri 09:00-17:00", timezone="Europe/Belgrade",
                        holidays=(), sla_targets="urgent=30m/2h", sla_warning_ratio=0.5)
    p = BusinessHoursSla.from_settings(s)
    assert p.target_for("urgent", None).first_response_seconds == 1800
    assert p.target_for("normal", "any").resolution_seconds == 16 * 3600
    assert p.warning_ratio == 0.5
