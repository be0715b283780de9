"""Read-only queries behind the console: queue counts, the timeline (the list: listing.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text

from helpdesk.access import Viewer, sees, ticket_filter, visible_queues
from helpdesk.administration.names import load_names, name_from
from helpdesk.i18n import current_language
from helpdesk.metrics.open_counts import read_open_counts
from helpdesk.models import Agent, Category, Message, OutboxItem, Ticket
from helpdesk.services import Services


def queue_counts(svc: Services, viewer: Viewer) -> dict[str, Any]:
    """Open tickets per visible queue, plus the agent's own and the unassigned ones.

    Summed from the open counts the ticket triggers keep (``helpdesk.metrics.open_counts``): a
    few hundred rows, however many tickets are open. Counting the open tickets themselves, even
    from the covering index ix_tickets_open_counts, grew with them (15-25 ms at a million
    tickets on PostgreSQL, three index scans: bench/README.md, helper metricsq)."""
    names = visible_queues(svc, viewer)
    language = current_language()
    counts = read_open_counts(svc.db)
    with svc.db.session() as s:
        titles = load_names(s, "queue")  # once, not a read per queue outside a request
    per_queue: dict[str, int] = {}
    mine = unassigned = 0
    for (queue, assignee_id), n in counts.items():
        per_queue[queue] = per_queue.get(queue, 0) + n
        if assignee_id is not None and assignee_id == viewer.id:
            mine += n
        elif assignee_id is None and sees(viewer, queue, None):
            unassigned += n
    return {
        "queues": [
            {"name": n, "title": name_from(titles, n, language), "open": per_queue.get(n, 0)}
            for n in names
        ],
        "mine": mine,
        "unassigned": unassigned,
    }


# The tickets' distinct categories, one step of ix_tickets_category per category (a "loose index
# scan", the same on SQLite and PostgreSQL; ``category || ''`` is how that index holds them,
# helpdesk.models.list_indexes): a DISTINCT read every ticket, 1.5 s of every console and ticket
# page at a million tickets (bench/README.md, helper anyview).
TICKET_CATEGORIES = text(
    """
    WITH RECURSIVE seen(category) AS (
        SELECT (SELECT category || '' FROM tickets WHERE category || '' IS NOT NULL
                ORDER BY category || '' LIMIT 1)
        UNION ALL
        SELECT (SELECT t.category || '' FROM tickets t WHERE t.category || '' > seen.category
                ORDER BY t.category || '' LIMIT 1)
        FROM seen WHERE seen.category IS NOT NULL
    )
    SELECT category FROM seen WHERE category IS NOT NULL LIMIT 200
    """
)


def categories(svc: Services) -> list[str]:
    with svc.db.session() as s:
        found = s.scalars(TICKET_CATEGORIES).all()
        managed = s.scalars(select(Category.key)).all()  # named by an administrator
    return sorted({c for c in found if c} | set(managed))


def agents(svc: Services) -> list[tuple[int, str]]:
    with svc.db.session() as s:
        stmt = select(Agent.id, Agent.name).where(Agent.active.is_(True)).order_by(Agent.name)
        return [(agent_id, name) for agent_id, name in s.execute(stmt)]


AUTOMATIC_KINDS = ("ack", "survey", "transcript")
OUTBOX_STATE = {"pending": "queued", "sending": "queued", "sent": "sent", "failed": "failed"}


def automatic_messages(svc: Services, ticket_id: int) -> list[dict[str, Any]]:
    """What the helpdesk sent by itself (acknowledgement, survey, transcript): no Message row of
    their own, but the agent must see on the timeline that the citizen got them."""
    with svc.db.session() as s:
        rows = s.execute(
            select(OutboxItem.id, OutboxItem.kind, OutboxItem.channel, OutboxItem.status,
                   OutboxItem.created_at, OutboxItem.last_error)
            .where(
                OutboxItem.ticket_id == ticket_id,
                OutboxItem.message_id.is_(None),
                OutboxItem.kind.in_(AUTOMATIC_KINDS),
            )
            .order_by(OutboxItem.created_at, OutboxItem.id)
        ).all()
    return [
        {
            "auto_id": item_id,
            "kind": kind,
            "channel": channel,
            "created_at": created_at,
            "delivery_state": OUTBOX_STATE.get(status, status),
            "delivery_error": error if status == "failed" else None,
        }
        for item_id, kind, channel, status, created_at, error in rows
    ]


def timeline(svc: Services, ticket_id: int, after: int = 0) -> list[dict[str, Any]]:
    """Every message of the ticket, across channels and including notes, in sequence order."""
    with svc.db.session() as s:
        rows = s.execute(
            select(Message, Agent.name)
            .outerjoin(Agent, Agent.id == Message.agent_id)
            .where(Message.ticket_id == ticket_id, Message.seq > after)
            # By time, not number: a merged ticket's messages join the timeline where they happened.
            .order_by(Message.created_at, Message.seq)
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
                "attachments": [
                    (a.public_id, a.filename or "attachment", a.size) for a in m.attachments
                ],
            }
            for m, name in rows
        ]


def contact_tickets(
    svc: Services, viewer: Viewer, contact_id: int, exclude_id: int, limit: int = 20
) -> tuple[list[dict[str, Any]], int]:
    """The contact's other tickets on every channel, newest first: the ones this agent may open,
    and how many more there are in queues they don't work (said as a number, not shown)."""
    base = (Ticket.contact_id == contact_id, Ticket.id != exclude_id, Ticket.merged_into_id.is_(None))
    with svc.db.session() as s:
        rows = s.execute(
            select(Ticket.reference, Ticket.subject, Ticket.channel, Ticket.status, Ticket.updated_at)
            .where(*base, ticket_filter(viewer))
            .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
            .limit(limit)
        ).all()
        everything = s.scalar(select(func.count(Ticket.id)).where(*base)) or 0
        visible = s.scalar(select(func.count(Ticket.id)).where(*base, ticket_filter(viewer))) or 0
    tickets = [
        {"reference": r, "subject": subj, "channel": ch, "status": st, "updated_at": at}
        for r, subj, ch, st, at in rows
    ]
    return tickets, everything - visible


def timeline_with_automatic(svc: Services, ticket_id: int, after: int = 0) -> list[dict[str, Any]]:
    """The timeline with the automatic messages in their place in time."""
    from helpdesk.callbacks.queue import timeline_items  # calls made on the ticket's callbacks

    items = timeline(svc, ticket_id, after) + automatic_messages(svc, ticket_id)
    items += timeline_items(svc, ticket_id)
    # An acknowledgement is queued in the same instant as the message it answers: after it.
    return sorted(items, key=lambda m: (m["created_at"], m.get("seq", 1 << 30)))
