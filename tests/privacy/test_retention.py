"""Retention: `helpdesk privacy run` anonymizes finished tickets past their period and keeps the
weekly figures exactly as they were."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from helpdesk.cli.privacy import run_command, schedule_list, schedule_set
from helpdesk.models import AnonymizedTicket, Attachment, AuditEvent, ContactIdentity, OutboxItem, Ticket
from helpdesk.privacy.retention import RetentionJob, load_schedule
from tests.privacy.world import (
    citizen_writes,
    close_everything,
    demo_settings,
    demo_world,
    personal_needles,
    scan,
    weekly_json,
)

ADDRESS = "Bulevar kralja Aleksandra 73, Beograd"


def test_a_zero_day_run_leaves_no_personal_text_and_the_same_figures(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path, retention_days="0")
    svc, app = demo_world(settings)
    pdf = b"%PDF-1.4 licna karta Milan Rakic " + b"x" * 2000
    citizen_writes(svc, "milan.rakic@example.rs", "Milan Rakić", ADDRESS, pdf)
    close_everything(svc)
    needles = personal_needles(svc) | {ADDRESS, "Milan Rakić", "milan.rakic@example.rs", "licna karta Milan"}
    assert scan(settings.data_dir, needles)  # the scan finds what is there
    with svc.db.session() as s:
        digest = s.scalars(select(Attachment.sha256)).one()
    assert svc.attachments.path(digest).exists()
    before = weekly_json(app)

    result = app.test_cli_runner().invoke(run_command, [])

    assert result.exit_code == 0, result.output
    with svc.db.session() as s:
        total = s.scalar(select(func.count()).select_from(Ticket))
        assert f"anonymized {total} ticket(s)" in result.output
        assert "1 attachment(s)" in result.output and "removed 2 file(s)" in result.output  # pdf + .eml
        assert s.scalar(select(func.count()).select_from(ContactIdentity)) == 0
        assert s.scalar(text("SELECT count(*) FROM ticket_fts")) == 0
        s.execute(text("CREATE VIRTUAL TABLE temp.words USING fts5vocab(main, ticket_fts, row)"))
        assert s.scalar(text("SELECT count(*) FROM temp.words")) == 0  # no word left in the index
        assert s.scalar(text("SELECT count(*) FROM sensitive_values")) == 0
        assert all(item.payload == {} for item in s.scalars(select(OutboxItem)))
        run = s.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.retention_run")).one()
        assert run.after is not None and run.after["tickets"] == total
    assert not svc.attachments.path(digest).exists()
    assert scan(settings.data_dir, needles) == []
    assert weekly_json(app) == before

    again = app.test_cli_runner().invoke(run_command, [])
    assert "anonymized 0 ticket(s)" in again.output
    svc.db.dispose()


def test_rules_per_queue_and_category_and_the_daily_job(tmp_path: Path) -> None:
    svc, app = demo_world(demo_settings(tmp_path), tickets=30)
    runner = app.test_cli_runner()
    assert "default: kept" in runner.invoke(schedule_list, []).output
    # Nothing is due without a default or a rule (and the daily job writes nothing then).
    job = RetentionJob(svc)
    first = job.run_if_due()
    assert first is not None and first.scrubbed.tickets == 0
    with svc.db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0
    with svc.db.session() as s:  # the queue and category with the most finished tickets
        queue, category = s.execute(
            select(Ticket.queue, Ticket.category)
            .where(Ticket.status.in_(("resolved", "closed")), Ticket.queue != "triage")
            .group_by(Ticket.queue, Ticket.category)
            .order_by(func.count().desc())
        ).first()  # type: ignore[misc]
    assert runner.invoke(schedule_set, ["--queue", queue, "--days", "30"]).exit_code == 0
    assert runner.invoke(schedule_set, ["--category", category, "--days", "7"]).exit_code == 0
    assert runner.invoke(schedule_set, ["--queue", "triage", "--keep"]).exit_code == 0
    bad = runner.invoke(schedule_set, ["--queue", "triage"])
    assert bad.exit_code != 0 and "--days N or --keep" in bad.output
    listing = runner.invoke(schedule_list, []).output
    assert f"queue     {queue}" in listing and "30 days" in listing and "kept" in listing

    schedule = load_schedule(svc)
    assert schedule.days_for(queue, category) == 7  # the shortest wins
    assert schedule.days_for(queue, "no-such-category") == 30
    assert schedule.days_for("triage", "no-such-category") is None
    assert schedule.days_for("elsewhere", "no-such-category") is None  # no default
    now = svc.clock.now()
    assert job.run_if_due() is not None
    assert job.run_if_due() is None  # once a day, read from the audit trail
    svc.clock.advance(days=1)  # type: ignore[attr-defined]
    assert job.run_if_due() is not None
    with svc.db.session() as s:
        done = set(s.scalars(select(AnonymizedTicket.ticket_id)))
        rows = s.execute(
            select(Ticket.id, Ticket.queue, Ticket.category, Ticket.status).add_columns(
                Ticket.resolved_at, Ticket.closed_at
            )
        ).all()
    assert done  # the demo has finished tickets older than a week
    for ticket_id, queue, category, status, resolved, closed in rows:
        ended = closed or resolved
        period = schedule.days_for(queue, category)
        due = (
            status in ("resolved", "closed")
            and period is not None
            and ended is not None
            and ended <= svc.clock.now() - timedelta(days=period)
        )
        assert (ticket_id in done) == due, (queue, category, status, ended, now)
    svc.db.dispose()
