"""The one access policy: who may see or change which ticket, and set which field to which value.

Every door asks here: the console pages and its Socket.IO events, the REST API, attachments and
recordings, the email and SMS outboxes, the full-mail page and the supervisor exports. A view
parses its input, asks the policy, and delegates to the core operations; it never re-implements a
rule. The rules:

* supervisors and admins see and change every ticket, and assign tickets to anyone;
* an agent sees the tickets of the queues it is a member of, plus the tickets assigned to it
  (so an agent with no queue sees only its own tickets);
* an agent moves a ticket only into a queue it is a member of;
* an agent assigns a ticket only to itself (a ticket it may see) or hands back its own;
* files, recordings, outbox items and mails belong to their ticket: whoever may see the ticket
  may open them, nobody else;
* the reports (dashboard, weekly figures, CSV exports) are for supervisors and admins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from helpdesk.models import Agent, Queue, Ticket, queue_members
from helpdesk.services import Services

TRIAGE_QUEUE = "triage"
STAFF_ROLES = ("agent", "supervisor", "admin")
ALL_SEEING_ROLES = ("supervisor", "admin")
# The supervisor dashboard, weekly figures API and exports (roles_required ranks admin above it).
REPORTS_ROLE = "supervisor"
# A citizen's data export and erasure, and the access log of who viewed whose data.
PRIVACY_ROLE = "supervisor"
# The retention schedule (how long finished tickets keep personal data): an administration page.
RETENTION_ROLE = "admin"


class AccessDenied(Exception):
    """The policy's "no", with a stable code and a message for the person asking."""

    def __init__(self, code: str, message: object) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = str(message)  # lazy text: translated for the request that asks


@dataclass(frozen=True)
class Viewer:
    """The acting agent, loaded fresh for every request and event (a role or queue change made a
    moment ago counts at once)."""

    id: int
    name: str
    role: str
    queues: frozenset[str]  # the queues they work; supervisors and admins see every queue

    @property
    def sees_all(self) -> bool:
        return self.role in ALL_SEEING_ROLES

    def may_assign_others(self) -> bool:
        return self.sees_all


def load_viewer(svc: Services, agent_id: int | None) -> Viewer | None:
    """The viewer for an agent id, or None for an unknown, deactivated or role-less account."""
    if agent_id is None:
        return None
    with svc.db.session() as s:
        return viewer_of(s, s.get(Agent, agent_id))


def viewer_of(s: Session, agent: Agent | None) -> Viewer | None:
    """``load_viewer`` for an agent already read in ``s`` (its queues are read here)."""
    if agent is None or not agent.active or agent.role not in STAFF_ROLES:
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


def settable_queues(svc: Services, viewer: Viewer) -> list[str]:
    """The queues this viewer may move a ticket into (the console's queue menu)."""
    return visible_queues(svc, viewer)


# -- seeing a ticket ---------------------------------------------------------------------------


def ticket_filter(viewer: Viewer) -> ColumnElement[bool]:
    """SQL condition: the tickets this viewer may see (lists and counts use it, so totals agree)."""
    if viewer.sees_all:
        return true()
    conditions: list[ColumnElement[bool]] = [Ticket.assignee_id == viewer.id]
    if viewer.queues:
        conditions.append(Ticket.queue.in_(sorted(viewer.queues)))
    return or_(*conditions) if conditions else false()


def sees(viewer: Viewer, queue: str, assignee_id: int | None) -> bool:
    """``ticket_filter`` in Python: whether this viewer sees a ticket of this queue and assignee."""
    return viewer.sees_all or assignee_id == viewer.id or queue in viewer.queues


def can_see(viewer: Viewer | None, ticket: Ticket) -> bool:
    return viewer is not None and sees(viewer, ticket.queue, ticket.assignee_id)


can_access = can_see  # the console's older name


def require_see(viewer: Viewer | None, ticket: Ticket) -> None:
    if not can_see(viewer, ticket):
        raise AccessDenied("forbidden", _l("This ticket is not in your queues."))


def visible_references(
    svc: Services, viewer: Viewer | None, references: Iterable[str | None]
) -> set[str]:
    """Of these ticket references, the ones the viewer may see (outbox pages filter with it)."""
    wanted = {r for r in references if isinstance(r, str) and r}
    if viewer is None or not wanted:
        return set()
    with svc.db.session() as s:
        found = s.scalars(
            select(Ticket.reference).where(Ticket.reference.in_(sorted(wanted)), ticket_filter(viewer))
        ).all()
    return set(found)


# -- changing a ticket -------------------------------------------------------------------------


def may_set_queue(viewer: Viewer, ticket: Ticket, queue: str) -> bool:
    """Agents move tickets only into queues they work (keeping the current one is no move)."""
    if not can_see(viewer, ticket):
        return False
    return viewer.sees_all or queue == ticket.queue or queue in viewer.queues


def may_assign(viewer: Viewer, ticket: Ticket, target: int | None) -> bool:
    """Agents take work (a ticket they may see) or hand back their own; supervisors assign anyone."""
    if not can_see(viewer, ticket):
        return False
    if viewer.may_assign_others():
        return True
    if target == viewer.id:
        return True
    return target is None and ticket.assignee_id == viewer.id


def require_change(viewer: Viewer, ticket: Ticket, field: str, value: object) -> None:
    """Raise AccessDenied unless the viewer may set ``field`` of ``ticket`` to ``value``.

    ``value`` is the parsed value: a queue name for "queue", an agent id or None for "assignee".
    Fields without a rule of their own (status, priority, category, messages and notes) need only
    the right to see the ticket.
    """
    require_see(viewer, ticket)
    if field == "queue" and not may_set_queue(viewer, ticket, str(value)):
        raise AccessDenied("forbidden", _l("You can only move tickets into your own queues."))
    if field == "assignee":
        target = value if isinstance(value, int) and not isinstance(value, bool) else None
        if not may_assign(viewer, ticket, target):
            raise AccessDenied(
                "forbidden", _l("Only a supervisor can assign tickets to others.")
            )


# -- pages that are not one ticket -------------------------------------------------------------


def may_see_unlinked_outbox(viewer: Viewer | None) -> bool:
    """Outbox items that belong to no ticket (a call-back log line without one): supervisors."""
    return viewer is not None and viewer.sees_all
