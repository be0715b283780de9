"""Routing: category -> queue, low confidence -> the triage queue, round-robin assignment.

The category map is the defaults below, overlaid by HELPDESK_TRIAGE_ROUTES
("taxes=payments,other=triage"), overlaid by the rules stored in the database
(`helpdesk triage route CATEGORY QUEUE`, read again within half a minute by every process). A
route is checked against the queues that exist, so a ticket is never routed to a queue nobody can
see. Assignment runs inside the ticket's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpdesk.models import OPEN_STATUSES, Queue, Ticket, TriageRoute

TRIAGE_QUEUE = "triage"
DEFAULT_ROUTES: dict[str, str] = {
    "account_login": "accounts",
    "eid_certificates": "accounts",
    "payments_fees": "payments",
    "taxes": "payments",
    "personal_documents": "documents",
    "social_benefits": "social",
    "health_vaccination": "social",
    "technical_portal": "technical",
    "complaints": "complaints",
    "other": TRIAGE_QUEUE,
}


def parse_routes(spec: str | None) -> dict[str, str]:
    """Defaults overlaid with "category=queue,category=queue" pairs; bad pairs are an error."""
    routes = dict(DEFAULT_ROUTES)
    for pair in (spec or "").split(","):
        if not pair.strip():
            continue
        category, sep, queue = pair.partition("=")
        if not sep or not category.strip() or not queue.strip():
            raise ValueError(f"triage route {pair.strip()!r} is not category=queue")
        routes[category.strip()] = queue.strip()
    return routes


def choose_queue(
    category: str,
    confidence: float,
    in_scope: bool,
    threshold: float,
    routes: Mapping[str, str],
    existing_queues: set[str] | None = None,
) -> str:
    """The queue for a classified inquiry; anything uncertain goes to a person in triage."""
    if not in_scope or confidence < threshold:
        return TRIAGE_QUEUE
    queue = routes.get(category, TRIAGE_QUEUE)
    if existing_queues is not None and queue not in existing_queues:
        return TRIAGE_QUEUE
    return queue


def existing_queues(session: Session) -> set[str]:
    return set(session.scalars(select(Queue.name)))


def stored_routes(session: Session) -> dict[str, str]:
    return {r.category: r.queue for r in session.scalars(select(TriageRoute))}


def set_route(session: Session, category: str, queue: str | None) -> None:
    """Store (or with queue None, remove) the rule for a category; the queue must exist."""
    category = category.strip()
    if not category or len(category) > 40:
        raise ValueError("category must be 1 to 40 characters")
    route = session.get(TriageRoute, category)
    if queue is None:
        if route is not None:
            session.delete(route)
        return
    if queue not in existing_queues(session):
        raise ValueError(f"no queue named {queue!r}")
    if route is None:
        session.add(TriageRoute(category=category, queue=queue))
    else:
        route.queue = queue


def pick_assignee(session: Session, queue_name: str) -> int | None:
    """Round-robin among the queue's active, online agents who are under their capacity.

    The rotation is read from the store (who got the queue's latest assigned ticket), so it
    survives restarts and is shared by every server process. None when nobody can take it.
    """
    queue = session.scalar(select(Queue).where(Queue.name == queue_name))
    if queue is None:
        return None
    members = sorted(
        (a for a in queue.members if a.active and a.online and a.capacity > 0), key=lambda a: a.id
    )
    if not members:
        return None
    ids = [a.id for a in members]
    load = dict(
        session.execute(
            select(Ticket.assignee_id, func.count())
            .where(Ticket.assignee_id.in_(ids), Ticket.status.in_(OPEN_STATUSES))
            .group_by(Ticket.assignee_id)
        ).all()
    )
    available = [a for a in members if load.get(a.id, 0) < a.capacity]
    if not available:
        return None
    last = session.scalar(
        select(Ticket.assignee_id)
        .where(Ticket.queue == queue_name, Ticket.assignee_id.in_(ids))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(1)
    )
    after = [a for a in available if last is not None and a.id > last]
    return (after or available)[0].id
