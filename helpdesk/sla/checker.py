"""The SLA watch: warns a queue's supervisors before a target passes and records breaches.

`check_sla(svc)` is one pass (the CLI, tests and the background thread call it). The candidates
come from indexed SQL filters on the due times; only those few tickets are looked at in Python.
A breach is recorded once (`sla_breached_at` + an `sla.breached` audit row) in one unit of work;
the live events go out after the commit. A warning is sent once per ticket and due time per
process: a restart may repeat a warning, never a breach.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from helpdesk.background import BackgroundWorker
from helpdesk.events import event, room_for_agent, room_for_queue
from helpdesk.sla.policy import BusinessHoursSla, breach_audit, missed_target
from helpdesk.sla.state import next_due, sla_state

if TYPE_CHECKING:
    from helpdesk.models import Ticket
    from helpdesk.services import Services

log = logging.getLogger(__name__)
RUNNING = ("new", "open")  # pending tickets have their clock stopped
BATCH = 500
MAX_BATCHES = 200
LIVE_WINDOW = timedelta(hours=1)  # breaches older than this when found are not announced


@dataclass
class CheckResult:
    warned: list[str] = field(default_factory=list)
    breached: list[str] = field(default_factory=list)


def _supervisor_rooms(session: Session, queue: str) -> list[str]:
    """The queue's supervisors; every supervisor when the queue has none of its own."""
    from helpdesk.models import Agent, Queue, queue_members

    roles = ("supervisor", "admin")
    ids = session.scalars(
        select(Agent.id)
        .join(queue_members, queue_members.c.agent_id == Agent.id)
        .join(Queue, Queue.id == queue_members.c.queue_id)
        .where(Queue.name == queue, Agent.role.in_(roles), Agent.active.is_(True))
    ).all()
    if not ids:
        ids = session.scalars(select(Agent.id).where(Agent.role.in_(roles), Agent.active.is_(True))).all()
    return [room_for_agent(i) for i in sorted(set(ids))]


def _rooms(session: Session, queue: str) -> list[str]:
    # The queue room lets open consoles highlight the row; the agent rooms reach supervisors.
    return [room_for_queue(queue), *_supervisor_rooms(session, queue)]


def _summary(ticket: Ticket, state: str, which: str | None, due: datetime | None) -> dict[str, Any]:
    return {
        "reference": ticket.reference,
        "subject": ticket.subject,
        "queue": ticket.queue,
        "priority": ticket.priority,
        "status": ticket.status,
        "assignee_id": ticket.assignee_id,
        "sla_state": state,
        "sla_target": which,
        "sla_due_at": due.isoformat() if due else None,
    }


class SlaChecker(BackgroundWorker):
    """A `BackgroundService` running `check()` every `interval` seconds."""

    name = "sla-checker"
    failure_message = "SLA check failed"  # keep watching: one bad pass must not end the service

    def __init__(self, svc: Services, interval: float = 60.0) -> None:
        super().__init__(interval)
        self.svc = svc
        self.interval = interval
        self._warned: set[tuple[int, str]] = set()

    def run_once(self) -> CheckResult:
        return self.check()

    def check(self, now: datetime | None = None) -> CheckResult:
        svc = self.svc
        now = now or svc.clock.now()
        result = CheckResult()
        self._record_breaches(now, result)
        self._send_warnings(now, result)
        return result

    def _record_breaches(self, now: datetime, result: CheckResult) -> None:
        # Batches of BATCH tickets, each its own transaction, so a catch-up after downtime
        # (or a freshly loaded history) neither holds one huge lock nor floods the consoles.
        for _ in range(MAX_BATCHES):
            fetched, recorded = self._record_batch(now, result)
            if fetched < BATCH or recorded == 0:
                break

    def _record_batch(self, now: datetime, result: CheckResult) -> tuple[int, int]:
        from helpdesk.models import Ticket
        from helpdesk.tickets.uow import unit_of_work

        candidates = select(Ticket).where(_running_due_by(now)).order_by(Ticket.id).limit(BATCH)
        # A read first: on most passes nothing has passed its target, and the unit of work below
        # would take SQLite's write lock (every minute, in every process that runs the checker)
        # for nothing, with a citizen's message waiting behind it.
        with self.svc.db.session() as session:
            fetched = session.scalars(candidates).all()
            breached = [t.id for t in fetched if missed_target(t, now) is not None]
        if not breached:
            return len(fetched), 0
        recent = now - max(LIVE_WINDOW, timedelta(seconds=2 * self.interval))
        rooms: dict[str, list[str]] = {}
        recorded = 0
        with unit_of_work(self.svc) as uow:
            # Read again under the lock (another checker may have recorded some meanwhile).
            tickets = uow.session.scalars(
                candidates.where(Ticket.id.in_(breached)).with_for_update(skip_locked=True, of=Ticket)
            ).all()
            for ticket in tickets:
                missed = missed_target(ticket, now)
                if missed is None:
                    continue
                which, due = missed
                ticket.sla_breached_at = due
                uow.session.add(breach_audit(ticket, which, due, now))
                recorded += 1
                result.breached.append(ticket.reference)
                if due < recent:
                    continue  # an old breach found late is recorded, not announced
                if ticket.queue not in rooms:
                    rooms[ticket.queue] = _rooms(uow.session, ticket.queue)
                data = _summary(ticket, "breached", which, due)
                for room in rooms[ticket.queue]:
                    uow.emit(event("sla.breached", room, ticket=data))
        return len(fetched), recorded

    def _send_warnings(self, now: datetime, result: CheckResult) -> None:
        from helpdesk.models import Ticket

        policy = self.svc.sla
        if isinstance(policy, BusinessHoursSla):
            longest = max(t.resolution_seconds for t in policy.targets.values())
            horizon = policy.calendar.add_business_seconds(now, longest * policy.warning_ratio)
        else:
            return  # only the business-hours policy knows its targets
        with self.svc.db.session() as session:
            candidates = session.scalars(select(Ticket).where(_running_due_by(horizon))).all()
            events = []
            for ticket in candidates:
                due = next_due(ticket)
                if due is None or sla_state(policy, ticket, now) != "warning":
                    continue
                key = (ticket.id, due[1].isoformat())
                if key in self._warned:
                    continue
                self._warned.add(key)
                data = _summary(ticket, "warning", *due)
                for room in _rooms(session, ticket.queue):
                    events.append(event("sla.warning", room, ticket=data))
                result.warned.append(ticket.reference)
        for ev in events:
            self.svc.publisher.publish(ev)


def _running_due_by(moment: datetime) -> ColumnElement[bool]:
    """Running tickets, not yet breached, with a target (first response or resolution) by ``moment``."""
    from helpdesk.models import Ticket

    return and_(
        Ticket.status.in_(RUNNING),
        Ticket.sla_breached_at.is_(None),
        Ticket.merged_into_id.is_(None),
        or_(
            and_(Ticket.first_response_at.is_(None), Ticket.first_response_due_at <= moment),
            Ticket.resolution_due_at <= moment,
        ),
    )
