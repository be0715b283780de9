"""The access log: opening a ticket page is recorded; supervisors search it; agents cannot.
The retention page: admins set and remove rules (audited), in the three languages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from helpdesk.models import AccessLogEntry, AuditEvent, RetentionRule, Ticket
from helpdesk.services import Services
from helpdesk.tickets import Identity, InboundMessage, receive_inbound
from tests.conftest import csrf_token_from, join_every_queue, login


def _ticket(svc: Services) -> tuple[str, int]:
    result = receive_inbound(
        svc,
        InboundMessage("email", Identity("email", "dragan@example.rs"), "Pitanje", "Imam pitanje o porezu."),
    )
    with svc.db.session() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.reference == result.ticket_reference)).one()
        return ticket.reference, ticket.contact_id


def test_a_ticket_view_is_recorded_and_only_supervisors_search_it(app: Any, services: Services) -> None:
    reference, contact_id = _ticket(services)
    agent = app.test_client()
    login(agent, services, "agent", "jelena@helpdesk.localhost")
    join_every_queue(services, "jelena@helpdesk.localhost")

    assert agent.get(f"/console/tickets/{reference}").status_code == 200

    with services.db.session() as s:
        row = s.execute(
            select(AccessLogEntry.action, AccessLogEntry.contact_id, AccessLogEntry.reference)
        ).one()
    assert tuple(row) == ("ticket", contact_id, reference)
    assert agent.get("/supervisor/privacy/access-log").status_code == 403
    assert agent.get(f"/supervisor/privacy/contacts/{contact_id}").status_code == 403
    assert agent.get("/console/tickets/HD-2026-999999").status_code == 404
    with services.db.session() as s:
        assert len(s.scalars(select(AccessLogEntry)).all()) == 1  # a page not shown is not recorded

    supervisor = app.test_client()
    login(supervisor, services, "supervisor", "sara@helpdesk.localhost")
    page = supervisor.get("/supervisor/privacy/access-log", query_string={"contact": "dragan@example.rs"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Jelena" in html and reference in html
    by_agent = supervisor.get(
        "/supervisor/privacy/access-log", query_string={"agent": "sara@helpdesk.localhost", "lang": "en"}
    ).get_data(as_text=True)
    assert reference not in by_agent and "Nothing found." in by_agent
    # The supervisor's own look at the contact is recorded too.
    supervisor.get(f"/supervisor/privacy/contacts/{contact_id}")
    with services.db.session() as s:
        actions = s.scalars(select(AccessLogEntry.action).order_by(AccessLogEntry.id)).all()
    assert actions == ["ticket", "contact"]


def test_admins_set_and_remove_retention_rules(app: Any, services: Services) -> None:
    admin = app.test_client()
    login(admin, services, "admin")
    page = admin.get("/admin/retention?lang=sr-Cyrl").get_data(as_text=True)
    assert "Чување података" in page  # "Retention" in Serbian Cyrillic
    token = csrf_token_from(page)
    bad = admin.post("/admin/retention", data={"csrf_token": token, "target": "queue:payments", "days": "x"})
    assert bad.status_code == 200 and 'aria-invalid="true"' in bad.get_data(as_text=True)
    saved = admin.post(
        "/admin/retention", data={"csrf_token": token, "target": "queue:payments", "days": "90"}
    )
    assert saved.status_code == 302
    kept = admin.post("/admin/retention", data={"csrf_token": token, "target": "category:other", "keep": "1"})
    assert kept.status_code == 302
    with services.db.session() as s:
        rules = {(r.scope, r.key): r.days for r in s.scalars(select(RetentionRule))}
    assert rules == {("queue", "payments"): 90, ("category", "other"): None}
    listing = admin.get("/admin/retention?lang=en").get_data(as_text=True)
    assert "90 days" in listing and "kept" in listing
    removed = admin.post(
        "/admin/retention/remove", data={"csrf_token": token, "scope": "queue", "key": "payments"}
    )
    assert removed.status_code == 302
    with services.db.session() as s:
        assert [r.key for r in s.scalars(select(RetentionRule))] == ["other"]
        actions = s.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("privacy.%")).order_by(AuditEvent.id)
        ).all()
    assert actions == [
        "privacy.retention_rule_set",
        "privacy.retention_rule_set",
        "privacy.retention_rule_removed",
    ]


def test_the_command_says_so_when_nothing_was_viewed(app: Any) -> None:
    from helpdesk.cli.privacy import access_log_command

    # On a fresh install the log is empty: a silent command reads as a broken one.
    listing = app.test_cli_runner().invoke(access_log_command, [])
    assert listing.exit_code == 0 and listing.output == "no views recorded\n"
    filtered = app.test_cli_runner().invoke(access_log_command, ["--reference", "HD-2026-000001"])
    assert "no views recorded for these filters" in filtered.output
