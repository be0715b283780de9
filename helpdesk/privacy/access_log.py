"""The access log: who viewed which contact's data (DESIGN.md §7).

A row per ticket page, contact page, full-mail page, export and JMBG reveal, with the agent,
the contact and the ticket. Page views are recorded by an ``after_request`` hook on the
endpoints that show a contact's data (only when the page was shown, 200), so the console's
views need not know about it; exports and reveals record themselves. Supervisors search it on
/supervisor/privacy/access-log. Rows name numbers (agent, contact, ticket), never a person's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, Response, request
from flask_login import current_user
from sqlalchemy import select

from helpdesk.models import AccessLogEntry, Agent, Message, Ticket
from helpdesk.services import Services, current_services

ACTIONS = ("ticket", "contact", "mail", "export", "reveal", "erasure")
PAGE_SIZE = 100


def record_access(
    svc: Services,
    agent_id: int | None,
    action: str,
    *,
    contact_id: int | None = None,
    ticket_id: int | None = None,
    reference: str | None = None,
) -> None:
    with svc.db.transaction() as s:
        s.add(
            AccessLogEntry(
                at=svc.clock.now(),
                agent_id=agent_id,
                action=action,
                contact_id=contact_id,
                ticket_id=ticket_id,
                reference=reference,
            )
        )


def record_ticket(svc: Services, agent_id: int, action: str, ticket_id: int) -> None:
    with svc.db.session() as s:
        row = s.execute(select(Ticket.contact_id, Ticket.reference).where(Ticket.id == ticket_id)).first()
    if row is not None:
        record_access(svc, agent_id, action, contact_id=row[0], ticket_id=ticket_id, reference=row[1])


def _ticket_by_reference(svc: Services, reference: str) -> int | None:
    with svc.db.session() as s:
        return s.scalar(select(Ticket.id).where(Ticket.reference == reference))


def _ticket_of_message(svc: Services, message_id: int) -> int | None:
    with svc.db.session() as s:
        return s.scalar(select(Message.ticket_id).where(Message.id == message_id))


def _after_request(response: Response) -> Response:
    """Record the console pages that show a contact's data, once shown."""
    endpoint = request.endpoint
    if endpoint not in WATCHED or response.status_code != 200 or request.method != "GET":
        return response
    if not getattr(current_user, "is_authenticated", False):
        return response
    svc = current_services()
    agent_id = int(current_user.id)
    args: dict[str, Any] = request.view_args or {}
    action = WATCHED[endpoint]
    if action == "contact":
        record_access(svc, agent_id, "contact", contact_id=int(args["contact_id"]))
        return response
    if action == "ticket":
        ticket_id = _ticket_by_reference(svc, str(args.get("reference", "")))
    else:  # the full mail: its message id
        ticket_id = _ticket_of_message(svc, int(args.get("message_id", 0)))
    if ticket_id is not None:
        record_ticket(svc, agent_id, action, ticket_id)
    return response


# endpoint -> what it shows
WATCHED = {
    "console.ticket_view": "ticket",
    "console.merge_contact": "contact",
    "privacy_pages.contact": "contact",
    "email_console.message_view": "mail",
}


@dataclass(frozen=True)
class AccessRow:
    at: datetime
    agent: str | None
    action: str
    contact_id: int | None
    reference: str | None


def search(
    svc: Services,
    *,
    agent_email: str | None = None,
    contact_id: int | None = None,
    reference: str | None = None,
    action: str | None = None,
    limit: int = PAGE_SIZE,
) -> list[AccessRow]:
    stmt = (
        select(AccessLogEntry, Agent.name)
        .outerjoin(Agent, Agent.id == AccessLogEntry.agent_id)
        .order_by(AccessLogEntry.at.desc(), AccessLogEntry.id.desc())
        .limit(limit)
    )
    if agent_email:
        stmt = stmt.where(Agent.email == agent_email.strip().lower())
    if contact_id is not None:
        stmt = stmt.where(AccessLogEntry.contact_id == contact_id)
    if reference:
        stmt = stmt.where(AccessLogEntry.reference == reference.strip().upper())
    if action in ACTIONS:
        stmt = stmt.where(AccessLogEntry.action == action)
    with svc.db.session() as s:
        return [
            AccessRow(row.at, name, row.action, row.contact_id, row.reference)
            for row, name in s.execute(stmt)
        ]


def init_app(app: Flask) -> None:
    app.after_request(_after_request)
