"""The SLA watch records breaches once (ticket + audit row), tells the queue's supervisors live."""

from __future__ import annotations

from metrics_scenario import local
from sqlalchemy import func, select

from helpdesk.models import Agent, AuditEvent, Queue, Ticket
from helpdesk.sla import SlaChecker, sla_fields


def add_people(db):
    with db.transaction() as s:
        boss = Agent(email="boss@x.test", name="Boss", role="supervisor", password_hash="-")
        other = Agent(email="other@x.test", name="Other", role="supervisor", password_hash="-")
        agent = Agent(email="agent@x.test", name="Agent", role="agent", password_hash="-")
        s.add_all([boss, other, agent])
        s.add(Queue(name="finance", title="Finance", members=[boss, agent]))
        s.flush()
        return boss.id, other.id


def test_breaches_are_recorded_once_and_announced(scenario_db, metrics_svc):
    boss_id, other_id = add_people(scenario_db)
    svc = metrics_svc
    checker = SlaChecker(svc)
    result = checker.check(local(10, 30, 10, 30))  # half an hour after T6's first response was due
    ids = scenario_db.ticket_ids
    with scenario_db.session() as s:
        t6 = s.get(Ticket, ids["T6"])
        t6_ref = t6.reference
        assert result.breached == [t6_ref]  # T7 is pending: its clock is stopped
        assert t6.sla_breached_at == local(10, 30, 10)  # the first response target passed first
        audits = s.scalars(select(AuditEvent).where(AuditEvent.action == "sla.breached")).all()
        by_ticket = {a.ticket_id: a for a in audits}
        assert by_ticket[ids["T6"]].after["target"] == "first_response"
        # T9 was resolved late: the policy recorded it at resolution, before any check ran.
        assert by_ticket[ids["T9"]].after["target"] == "resolution"
        assert s.get(Ticket, ids["T9"]).sla_breached_at == local(11, 13, 15)
        assert s.get(Ticket, ids["T7"]).sla_breached_at is None
    rooms = [(e.type, e.room) for e in svc.publisher.events]
    # the finance queue's own supervisor, not the other one, and the queue room for consoles
    assert rooms == [("sla.breached", "queue:finance"), ("sla.breached", f"agent:{boss_id}")]
    assert svc.publisher.events[0].data["ticket"]["reference"] == t6_ref

    again = checker.check()  # NOW, two weeks later: T7 is pending, nothing new
    assert again.breached == [] and len(svc.publisher.events) == 2


def test_close_to_breach_warns_once_and_marks_the_console_row(scenario_db, metrics_svc):
    boss_id, _ = add_people(scenario_db)
    svc = metrics_svc
    with scenario_db.transaction() as s:
        t6 = s.get(Ticket, scenario_db.ticket_ids["T6"])
        t = Ticket(reference="HD-2026-000099", subject="Soon due", status="open",
                   priority="normal", channel="email", queue="finance",
                   contact_id=t6.contact_id, created_at=local(11, 16, 8, 30),
                   reply_token="soon")
        svc.sla.on_open(t, t.created_at)  # first response due 12:30
        s.add(t)
    checker = SlaChecker(svc)
    result = checker.check()
    assert result.warned == ["HD-2026-000099"]
    # T6 passed its target two weeks ago: recorded now, but too old to announce live
    assert result.breached == ["HD-2026-000007"]
    assert "sla.breached" not in svc.publisher.types()
    warnings = [e for e in svc.publisher.events if e.type == "sla.warning"]
    assert {e.room for e in warnings} == {"queue:finance", f"agent:{boss_id}"}
    assert checker.check().warned == []  # told once
    with scenario_db.session() as s:
        t = s.scalars(select(Ticket).where(Ticket.reference == "HD-2026-000099")).one()
        fields = sla_fields(svc, t)
        assert fields["sla_state"] == "warning" and fields["sla_css"] == "sla-warning"
        assert fields["sla_target"] == "first_response"
        assert sla_fields(svc, t, local(11, 16, 12, 30))["sla_state"] == "breached"
        t6 = s.get(Ticket, scenario_db.ticket_ids["T6"])
        assert sla_fields(svc, t6)["sla_state"] == "breached"


def test_a_large_catch_up_is_recorded_in_batches(scenario_db, metrics_svc, monkeypatch):
    import helpdesk.sla.checker as checker_module

    monkeypatch.setattr(checker_module, "BATCH", 2)
    with scenario_db.transaction() as s:
        t6 = s.get(Ticket, scenario_db.ticket_ids["T6"])
        for n in range(5):
            t = Ticket(reference=f"HD-2026-0009{n:02d}", subject="Old", status="open",
                       priority="normal", channel="web", queue="triage",
                       contact_id=t6.contact_id, created_at=local(11, 2, 9), reply_token=f"old{n}")
            metrics_svc.sla.on_open(t, t.created_at)
            s.add(t)
    result = SlaChecker(metrics_svc).check()
    assert len(result.breached) == 6  # T6 and the five, over three batches
    with scenario_db.session() as s:
        count = s.scalar(select(func.count()).select_from(AuditEvent)
                         .where(AuditEvent.action == "sla.breached"))
        assert count == 8  # the six, plus T5 (late first answer) and T9 (late), at resolution
