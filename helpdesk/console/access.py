"""Who may see and change which ticket in the console: role first, then queue membership."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select, true

from helpdesk.models import Agent, Queue, Ticket, queue_members
from helpdesk.services import Services

TRIAGE_QUEUE = "triage"


@dataclass(frozen=True)
class Viewer:
    """The acting agent as the console sees them, loaded fresh for every request and event."""

    id: int
    name: str
    role: str
    queues: frozenset[str]  # the queues they work; supervisors and admins see every queue

    @property
    def sees_all(self) -> bool:
        return self.role in ("supervisor", "admin")

    def may_assign_others(self) -> bool:
        return self.sees_all


def load_viewer(svc: Services, agent_id: int) -> Viewer | None:
    with svc.db.session() as s:
        agent = s.get(Agent, agent_id)
        if agent is None or not agent.active or agent.role not in ("agent", "supervisor", "admin"):
            return None
        names = s.scalars(
            select(Queue.name)
            .join(queue_members, queue_members.c.queue_id == Queue.id)
            .where(queue_members.c.agent_id == agent.id)
        ).all()
        return Viewer(agent.id, agent.name, agent.role, frozenset(names))


def all_queue_names(svc: Services) -> list[str]:
    with svc.db.session() as s:
        names = list(s.scalars(select(Queue.name).order_by(Queue.name)).all())
    return names if TRIAGE_QUEUE in names else [TRIAGE_QUEUE, *names]


def visible_queues(svc: Services, viewer: Viewer) -> list[str]:
    names = all_queue_names(svc)
    return names if viewer.sees_all else [n for n in names if n in viewer.queues]


def ticket_filter(viewer: Viewer) -> ColumnElement[bool]:
    """SQL condition: the tickets this agent may see."""
    if viewer.sees_all:
        return true()
    conditions: list[ColumnElement[bool]] = [Ticket.assignee_id == viewer.id]
    if viewer.queues:
        conditions.append(Ticket.queue.in_(sorted(viewer.queues)))
    return or_(*conditions) if conditions else false()


def can_access(viewer: Viewer, ticket: Ticket) -> bool:
    return viewer.sees_all or ticket.assignee_id == viewer.id or ticket.queue in viewer.queues
