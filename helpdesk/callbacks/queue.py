"""Reading callbacks: the console's callback queue, a ticket's callbacks and the weekly figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

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


class WeekLike(Protocol):
    @property
    def label(self) -> str: ...

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...


@dataclass(frozen=True)
class CallbackWeek:
    label: str
    requested: int
    reached: int
    no_answer: int
    wrong_number: int


def weekly_figures(svc: Services, weeks: Sequence[WeekLike]) -> list[CallbackWeek]:
    """Callbacks requested, and calls reached / not answered / to a wrong number, per week.

    Two indexed range reads over the weeks asked (requested_at, attempts' at), counted here: the
    callback tables are small beside the tickets, so no rollup is kept for them.
    """
    if not weeks:
        return []
    first, last = min(w.start for w in weeks), max(w.end for w in weeks)
    with svc.db.session() as s:
        requested = list(
            s.scalars(
                select(Callback.requested_at).where(
                    Callback.requested_at >= first, Callback.requested_at < last
                )
            )
        )
        calls = s.execute(
            select(CallbackAttempt.at, CallbackAttempt.outcome).where(
                CallbackAttempt.at >= first, CallbackAttempt.at < last
            )
        ).all()
    result = []
    for w in weeks:
        outcomes = [o for at, o in calls if w.start <= at < w.end]
        result.append(
            CallbackWeek(
                label=w.label,
                requested=sum(1 for at in requested if w.start <= at < w.end),
                reached=outcomes.count("reached"),
                no_answer=outcomes.count("no_answer"),
                wrong_number=outcomes.count("wrong_number"),
            )
        )
    return result
