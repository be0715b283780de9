"""Reopening a resolved or closed ticket when its citizen writes again (within reopen_days)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update

from helpdesk.metrics.changes import REPORT_COLUMNS, TIME_COLUMNS
from helpdesk.models import Ticket
from helpdesk.tickets import inbound_rows as rows
from helpdesk.tickets.types import Actor
from helpdesk.tickets.uow import UnitOfWork

# What a status change may touch: the SLA policy works on these fields of the ticket it is given.
SLA_COLUMNS = (
    "first_response_at",
    "first_response_due_at",
    "resolution_due_at",
    "sla_paused_at",
    "sla_paused_seconds",
    "sla_breached_at",
)
_SHELL_COLUMNS = ("id", "created_at", "priority", "queue", "status", "resolved_at", "closed_at")


def reopen(
    uow: UnitOfWork,
    conn: Connection,
    pending: rows.Pending,
    ticket: dict[str, Any],
    contact_id: int,
) -> dict[str, Any]:
    """Set the ticket open again, with the SLA's fresh resolution target, audit and change log."""
    before = ticket["status"]
    # A transient ticket for the SLA policy, which changes the object it is given.
    shell = Ticket(**{c: ticket[c] for c in (*_SHELL_COLUMNS, *SLA_COLUMNS)})
    shell.status = "open"
    shell.resolved_at = None
    shell.closed_at = None
    uow.svc.sla.on_status_change(shell, before, "open", uow.now)
    changed = {
        c: getattr(shell, c)
        for c in ("status", "resolved_at", "closed_at", *SLA_COLUMNS)
        if getattr(shell, c) != ticket[c]
    }
    if not changed:
        return ticket
    conn.execute(update(rows.TICKETS).where(rows.TICKETS.c.id == ticket["id"]).values(**changed))
    if any(c in changed for c in REPORT_COLUMNS):
        # As the ORM hook logs it: every old and new value of the columns a week is joined by.
        pending.report_times += _times(ticket) + _times(changed)
    ticket = {**ticket, **changed}
    pending.add_audit(
        Actor.contact(contact_id), "ticket.reopened", ticket["id"], {"status": before}, {"status": "open"}
    )
    return ticket


def _times(values: dict[str, Any]) -> list[datetime]:
    return [v for c in TIME_COLUMNS if isinstance(v := values.get(c), datetime)]
