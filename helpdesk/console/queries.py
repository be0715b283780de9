"""Read-only queries behind the console: the filtered ticket list, queue counts, the timeline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from helpdesk.console.access import Viewer, ticket_filter, visible_queues
from helpdesk.models import CHANNELS, OPEN_STATUSES, STATUSES, Agent, Message, Queue, Ticket
from helpdesk.services import Services
from helpdesk.sla import sla_fields

PAGE = 100


@dataclass(frozen=True)
class Filters:
    mine: bool = False
    unassigned: bool = False
    status: str = "active"  # active = new, open or pending; "" = any
    channel: str = ""
    category: str = ""
    queue: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        status = args.get("status", "active")
        channel = args.get("channel", "")
        return cls(
            mine=args.get("mine") == "1",
            unassigned=args.get("unassigned") == "1",
            status=status if status in (*STATUSES, "active", "") else "active",
            channel=channel if channel in CHANNELS else "",
            category=args.get("category", "")[:40],
            queue=args.get("queue", "")[:64],
        )

    def query_string(self) -> dict[str, str]:
        return {
            k: v
            for k, v in {
                "mine": "1" if self.mine else "",
                "unassigned": "1" if self.unassigned else "",
                "status": self.status,
                "channel": self.channel,
                "category": self.category,
                "queue": self.queue,
            }.items()
            if v or k == "status"
        }


def list_tickets(svc: Services, viewer: Viewer, f: Filters) -> list[dict[str, Any]]:
    stmt = select(Ticket, Agent.name).outerjoin(Agent, Agent.id == Ticket.assignee_id)
    stmt = stmt.where(ticket_filter(viewer), Ticket.merged_into_id.is_(None))
    if f.mine:
        stmt = stmt.where(Ticket.assignee_id == viewer.id)
    if f.unassigned:
        stmt = stmt.where(Ticket.assignee_id.is_(None))
    if f.status == "active":
        stmt = stmt.where(Ticket.status.in_(OPEN_STATUSES))
    elif f.status:
        stmt = stmt.where(Ticket.status == f.status)
    if f.channel:
        stmt = stmt.where(Ticket.channel == f.channel)
    if f.category:
        stmt = stmt.where(Ticket.category == f.category)
    if f.queue:
        stmt = stmt.where(Ticket.queue == f.queue)
    stmt = stmt.order_by(Ticket.updated_at.desc(), Ticket.id.desc()).limit(PAGE)
    now = svc.clock.now()  # one instant for the whole page, so rows agree with each other
    with svc.db.session() as s:
        return [
            {
                "reference": t.reference,
                "subject": t.subject,
                "status": t.status,
                "priority": t.priority,
                "channel": t.channel,
                "category": t.category,
                "queue": t.queue,
                "assignee": name,
                "contact": t.contact.name if t.contact else None,
                "updated_at": t.updated_at,
                "resolution_due_at": t.resolution_due_at,
                **sla_fields(svc, t, now),  # sla_state / sla_css: the row's deadline badge
            }
            for t, name in s.execute(stmt).all()
        ]


def queue_counts(svc: Services, viewer: Viewer) -> dict[str, Any]:
    """Open tickets per visible queue, plus the agent's own and the unassigned ones."""
    names = visible_queues(svc, viewer)
    with svc.db.session() as s:
        titles = {name: title for name, title in s.execute(select(Queue.name, Queue.title))}
        active = (Ticket.status.in_(OPEN_STATUSES), Ticket.merged_into_id.is_(None))
        counted = s.execute(
            select(Ticket.queue, func.count(Ticket.id))
            .where(*active, Ticket.queue.in_(names))
            .group_by(Ticket.queue)
        )
        per_queue = {name: count for name, count in counted}
        mine = s.scalar(select(func.count(Ticket.id)).where(*active, Ticket.assignee_id == viewer.id))
        unassigned = s.scalar(
            select(func.count(Ticket.id)).where(*active, Ticket.assignee_id.is_(None), ticket_filter(viewer))
        )
    return {
        "queues": [{"name": n, "title": titles.get(n, n), "open": per_queue.get(n, 0)} for n in names],
        "mine": mine or 0,
        "unassigned": unassigned or 0,
    }


def categories(svc: Services) -> list[str]:
    with svc.db.session() as s:
        found = s.scalars(
            select(Ticket.category).where(Ticket.category.is_not(None)).distinct().limit(200)
        ).all()
    return sorted(c for c in found if c)


def agents(svc: Services) -> list[tuple[int, str]]:
    with svc.db.session() as s:
        stmt = select(Agent.id, Agent.name).where(Agent.active.is_(True)).order_by(Agent.name)
        return [(agent_id, name) for agent_id, name in s.execute(stmt)]


def timeline(svc: Services, ticket_id: int, after: int = 0) -> list[dict[str, Any]]:
    """Every message of the ticket, across channels and including notes, in sequence order."""
    with svc.db.session() as s:
        rows = s.execute(
            select(Message, Agent.name)
            .outerjoin(Agent, Agent.id == Message.agent_id)
            .where(Message.ticket_id == ticket_id, Message.seq > after)
            .order_by(Message.seq)
        ).all()
        return [
            {
                "id": m.id,
                "seq": m.seq,
                "direction": m.direction,
                "kind": m.kind,
                "channel": m.channel,
                "text": m.text,
                "html": m.html,
                "agent": name,
                "created_at": m.created_at,
                "delivery_state": m.delivery_state,
                "delivery_error": m.delivery_error,
                "attachments": [(a.id, a.filename or "attachment", a.size) for a in m.attachments],
            }
            for m, name in rows
        ]
