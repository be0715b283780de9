"""A new ticket's row and what follows its insert (index, report change, audit): shared by the
message-by-message path (``inbound``) and the batch path (``inbound_batch``)."""

from __future__ import annotations

import secrets
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Connection

from helpdesk.models import Ticket
from helpdesk.privacy import jmbg
from helpdesk.routing import pick_assignee
from helpdesk.tickets import inbound_rows as rows
from helpdesk.tickets.inbound_contacts import ContactRow
from helpdesk.tickets.inbound_prepare import Prepared
from helpdesk.tickets.types import Actor
from helpdesk.tickets.uow import UnitOfWork

MAX_SUBJECT = 300


def ticket_values(
    uow: UnitOfWork,
    conn: Connection,
    pending: rows.Pending,
    item: Prepared,
    contact: ContactRow,
    reference: str,
) -> dict[str, Any]:
    """A new ticket's row (no id yet, no related ticket) for ``item``'s first message."""
    msg, decision = item.msg, item.decision
    subject = jmbg.mask(" ".join(msg.subject.split())[:MAX_SUBJECT] or _subject_from(msg.text))
    created_at = msg.received_at or uow.now
    values = {
        "reference": reference,
        "subject": subject,
        "status": "new",
        "priority": decision.priority,
        "channel": msg.channel,
        "category": decision.category,
        "queue": decision.queue,
        # round-robin among the queue's online agents with room, inside this transaction
        "assignee_id": decision.assignee_id or _assignee(uow, conn, pending, decision.queue),
        "contact_id": contact.id,
        "language": msg.language or decision.language,
        "script": msg.script or decision.script,
        "triage_confidence": decision.confidence,
        "complaint": decision.complaint,
        "created_at": created_at,
        "updated_at": uow.now,
        "first_response_at": None,
        "resolved_at": None,
        "closed_at": None,
        "first_response_due_at": None,
        "resolution_due_at": None,
        "sla_paused_at": None,
        "sla_paused_seconds": 0,
        "sla_breached_at": None,
        "deflected": False,
        "kb_suggested": False,
        "related_ticket_id": None,
        "merged_into_id": None,
        "last_seq": 1,  # the message that opens it
        "reply_token": secrets.token_hex(12),
    }
    # The SLA policy sets its due times on the ticket it is given: a plain object with the new
    # row's columns (a transient ORM Ticket cost ~40 us of attribute instrumentation per create).
    shell = SimpleNamespace(id=None, **values)
    uow.svc.sla.on_open(cast(Ticket, shell), created_at)
    for column in _SLA_COLUMNS:
        values[column] = getattr(shell, column)
    values["sla_paused_seconds"] = values["sla_paused_seconds"] or 0
    return values


_SLA_COLUMNS = (
    "first_response_due_at",
    "resolution_due_at",
    "sla_paused_at",
    "sla_paused_seconds",
    "sla_breached_at",
)


def ticket_opened(pending: rows.Pending, values: dict[str, Any]) -> None:
    """A new ticket's index row, report change and audit, once it has its id."""
    rows.index_ticket(pending, values)
    times = (values["created_at"], values["resolution_due_at"])
    pending.report_times += [t for t in times if t is not None]
    pending.add_audit(
        Actor.contact(values["contact_id"]),
        "ticket.created",
        values["id"],
        after={
            "channel": values["channel"],
            "category": values["category"],
            "queue": values["queue"],
            "priority": values["priority"],
            "triage_confidence": values["triage_confidence"],
        },
    )


def _assignee(uow: UnitOfWork, conn: Connection, pending: rows.Pending, queue: str) -> int | None:
    if not pending.new_ticket_checks(conn, queue).anyone:
        return None
    return pick_assignee(uow.session, queue)


def _subject_from(text: str) -> str:
    first = " ".join(text.split())
    return (first[:77] + "...") if len(first) > 80 else (first or "(no subject)")
