"""Reading callbacks: the console's callback queue and a ticket's callbacks. (The weekly figures
are the weekly report's, ``helpdesk.metrics.callbacks``.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from helpdesk.access import Viewer, ticket_filter
from helpdesk.callbacks import accommodations
from helpdesk.models import Agent, Callback, CallbackAttempt, Contact, Ticket
from helpdesk.services import Services

QUEUE_LIMIT = 200


@dataclass(frozen=True)
class QueueItem:
    id: int
    reference: str
    subject: str
    name: str | None
    phone: str
    source: str
    window_start: datetime
    window_end: datetime
    attempts: int
    state: str  # upcoming | due | overdue
    accommodations: list[tuple[str, str]]


def state_of(start: datetime, end: datetime, now: datetime) -> str:
    if now >= end:
        return "overdue"
    return "due" if now >= start else "upcoming"


def pending_queue(svc: Services, viewer: Viewer, limit: int = QUEUE_LIMIT) -> tuple[list[QueueItem], int]:
    """Waiting callbacks of tickets the viewer may see, earliest window first; and their total."""
    now = svc.clock.now()
    where = (Callback.status == "pending", ticket_filter(viewer))
    with svc.db.session() as s:
        rows = s.execute(
            select(Callback, Ticket.reference, Ticket.subject, Contact.name)
            .join(Ticket, Ticket.id == Callback.ticket_id)
            .join(Contact, Contact.id == Callback.contact_id)
            .where(*where)
            .order_by(Callback.window_start, Callback.id)
            .limit(limit)
        ).all()
        total = (
            s.scalar(
                select(func.count(Callback.id)).join(Ticket, Ticket.id == Callback.ticket_id).where(*where)
            )
            or 0
        )
        needs = {c.contact_id: accommodations.of_contact(s, c.contact_id) for c, *_ in rows}
        items = [
            QueueItem(
                id=c.id,
                reference=ref,
                subject=subject,
                name=name,
                phone=c.phone,
                source=c.source,
                window_start=c.window_start,
                window_end=c.window_end,
                attempts=c.attempts,
                state=state_of(c.window_start, c.window_end, now),
                accommodations=accommodations.labels(needs[c.contact_id]),
            )
            for c, ref, subject, name in rows
        ]
    return items, total


def ticket_callbacks(svc: Services, ticket_id: int) -> list[Callback]:
    with svc.db.session() as s:
        found = list(s.scalars(select(Callback).where(Callback.ticket_id == ticket_id).order_by(Callback.id)))
        s.expunge_all()
    return found


def timeline_items(svc: Services, ticket_id: int) -> list[dict[str, Any]]:
    """Each call made on the ticket's callbacks, for the ticket timeline beside its messages."""
    with svc.db.session() as s:
        rows = s.execute(
            select(
                CallbackAttempt.id,
                CallbackAttempt.outcome,
                CallbackAttempt.note,
                CallbackAttempt.at,
                Agent.name,
                Callback.status,
            )
            .join(Callback, Callback.id == CallbackAttempt.callback_id)
            .outerjoin(Agent, Agent.id == CallbackAttempt.agent_id)
            .where(Callback.ticket_id == ticket_id)
            .order_by(CallbackAttempt.at, CallbackAttempt.id)
        ).all()
    return [
        {
            "auto_id": f"cb-{attempt_id}",
            "callback_attempt": True,
            "outcome": outcome,
            "agent": name,
            "note": note,
            "created_at": at,
            "status": status,  # where the callback stands now
        }
        for attempt_id, outcome, note, at, name, status in rows
    ]
