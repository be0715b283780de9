"""Routes (ticket category -> queue), audited, and what they do to the tickets that exist."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from helpdesk.administration.common import N_, AdminError, check_key
from helpdesk.models import OPEN_STATUSES, Category, Ticket
from helpdesk.routing import TRIAGE_QUEUE, existing_queues, parse_routes, set_route, stored_routes
from helpdesk.services import Services
from helpdesk.tickets import Actor
from helpdesk.tickets.uow import unit_of_work


@dataclass(frozen=True)
class RouteEffect:
    category: str
    queue: str  # where a new ticket of this category goes
    stored: bool  # set by an administrator (else the default or HELPDESK_TRIAGE_ROUTES)
    open_tickets: int  # open tickets of this category now
    open_elsewhere: int  # ... of which sit in another queue (a route change does not move them)


def change_route(svc: Services, actor: Actor, category: str, queue: str | None) -> None:
    """Send new tickets of `category` to `queue` (None: back to the default rule)."""
    category = check_key(category)
    with unit_of_work(svc) as uow:
        before = stored_routes(uow.session).get(category)
        if queue is not None and queue not in existing_queues(uow.session):
            raise AdminError(N_("There is no queue %(key)s."), key=queue)
        set_route(uow.session, category, queue)
        if before != queue:
            uow.audit(actor, "route.changed", before={"category": category, "queue": before},
                      after={"category": category, "queue": queue})


def current_routes(svc: Services) -> dict[str, tuple[str, bool]]:
    """category -> (queue, stored?) for every category that is named, routed or configured."""
    with svc.db.session() as s:
        stored = stored_routes(s)
        known = set(s.scalars(select(Category.key)))
    routes = parse_routes(svc.settings.triage_routes)
    out = {c: (routes.get(c, TRIAGE_QUEUE), False) for c in known | set(routes)}
    out.update({c: (q, True) for c, q in stored.items()})
    return out


def route_effects(svc: Services) -> list[RouteEffect]:
    """Each category's route with the open tickets it concerns, for the admin page."""
    routes = current_routes(svc)
    with svc.db.session() as s:
        counted = s.execute(
            select(Ticket.category, Ticket.queue, func.count())
            .where(Ticket.status.in_(OPEN_STATUSES), Ticket.merged_into_id.is_(None),
                   Ticket.category.is_not(None))
            .group_by(Ticket.category, Ticket.queue)
        ).all()
    total: dict[str, int] = {}
    elsewhere: dict[str, int] = {}
    for category, queue, count in counted:
        if category is None:
            continue
        total[category] = total.get(category, 0) + count
        if category in routes and queue != routes[category][0]:
            elsewhere[category] = elsewhere.get(category, 0) + count
    return [
        RouteEffect(c, q, stored, total.get(c, 0), elsewhere.get(c, 0))
        for c, (q, stored) in sorted(routes.items())
    ]
