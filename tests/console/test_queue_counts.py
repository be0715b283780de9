"""The console's queue counts (open tickets per queue, mine, unassigned) are kept by triggers on
the tickets (migration 0034) and summed, not counted per request; so are the console list's totals
of its open-ticket views (all, mine, unassigned, one queue). After every random change (a
ticket created, assigned, requeued, closed, reopened, merged, erased, deleted, a bulk update)
they must equal a recount of the tickets themselves, for a supervisor and for agents who see
only some queues, on SQLite and PostgreSQL; compacting the kept rows changes nothing.
"""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from helpdesk.access import Viewer
from helpdesk.console.filters import Filters
from helpdesk.console.listing import list_page
from helpdesk.console.queries import queue_counts
from helpdesk.metrics.open_counts import compact
from helpdesk.models import (
    OPEN_STATUSES,
    AnonymizedTicket,
    Contact,
    Message,
    OpenTicketCount,
    Queue,
    Ticket,
)
from helpdesk.privacy.erasure import erase_contact
from helpdesk.tickets import Identity, InboundMessage, receive_inbound
from helpdesk.tickets.actions import assign_ticket, merge_tickets, set_queue, set_status
from helpdesk.tickets.types import Actor, InvalidChange
from tests.conftest import add_agent

QUEUES = ("triage", "accounts", "payments", "documents")


def _recount(svc: Any, viewer: Viewer) -> dict[str, Any]:
    """What the console must show, from every ticket row (the rules of access.ticket_filter)."""
    with svc.db.session() as s:
        rows = s.execute(select(Ticket.status, Ticket.merged_into_id, Ticket.queue, Ticket.assignee_id)).all()
        names = sorted(s.scalars(select(Queue.name)))
    active = [(q, a) for status, merged, q, a in rows if status in OPEN_STATUSES and merged is None]
    shown = names if viewer.sees_all else [n for n in names if n in viewer.queues]
    return {
        "queues": {n: sum(1 for q, _ in active if q == n) for n in shown},
        "mine": sum(1 for _, a in active if a == viewer.id),
        "unassigned": sum(1 for q, a in active if a is None and (viewer.sees_all or q in viewer.queues)),
    }


def _listed_totals(svc: Any, viewer: Viewer) -> tuple[dict[str, int], dict[str, int]]:
    """The console list's totals of the open-ticket views (summed from the kept counts), and the
    same views recounted from every ticket row."""
    with svc.db.session() as s:
        rows = s.execute(select(Ticket.status, Ticket.merged_into_id, Ticket.queue, Ticket.assignee_id)).all()
    active = [
        (q, a) for status, merged, q, a in rows if status in OPEN_STATUSES and merged is None
        and (viewer.sees_all or a == viewer.id or q in viewer.queues)
    ]
    views: dict[str, tuple[dict[str, Any], Any]] = {
        "all": ({}, lambda q, a: True),
        "mine": ({"mine": True}, lambda q, a: a == viewer.id),
        "unassigned": ({"unassigned": True}, lambda q, a: a is None),
        **{q: ({"queue": q}, lambda q_, a, q=q: q_ == q) for q in QUEUES},
    }
    listed = {name: list_page(svc, viewer, Filters(**f), per_page=1).total for name, (f, _) in views.items()}
    recounted = {name: sum(1 for q, a in active if keep(q, a)) for name, (_, keep) in views.items()}
    return listed, recounted


def _shown(svc: Any, viewer: Viewer) -> dict[str, Any]:
    counts = queue_counts(svc, viewer)
    return {
        "queues": {q["name"]: q["open"] for q in counts["queues"]},
        "mine": counts["mine"],
        "unassigned": counts["unassigned"],
    }


def _references(svc: Any, merged: bool = False) -> list[str]:
    with svc.db.session() as s:
        stmt = select(Ticket.reference).order_by(Ticket.id)
        if not merged:
            stmt = stmt.where(Ticket.merged_into_id.is_(None))
        return list(s.scalars(stmt))


def _create(svc: Any, rng: random.Random, n: int) -> None:
    sender = f"citizen{rng.randrange(12)}@example.rs"
    msg = InboundMessage(
        channel="email", sender=Identity("email", sender), subject=f"Pitanje {n}",
        text=f"Poruka broj {n}", external_id=f"<counts-{n}@example.rs>",
    )
    receive_inbound(svc, msg)  # a new ticket, or the sender's open one threaded (or reopened)


def _delete_one(svc: Any, rng: random.Random, n: int) -> None:
    """A ticket without messages written by a Core INSERT (past the ORM), and one such deleted."""
    with svc.db.transaction() as s:
        contact_id = s.scalar(select(Contact.id).limit(1))
        if contact_id is not None:
            s.execute(insert(Ticket).values(
                reference=f"HD-2026-9{n:05d}", subject="Bare", channel="web", contact_id=contact_id,
                status=rng.choice(("new", "open", "resolved")), queue=rng.choice(QUEUES),
                reply_token=f"bare{n:08d}",
            ))
        target = aliased(Ticket)
        bare = s.scalars(
            select(Ticket.id).where(
                Ticket.subject == "Bare",
                ~exists().where(target.merged_into_id == Ticket.id),
                ~exists().where(Message.ticket_id == Ticket.id),
                ~exists().where(AnonymizedTicket.ticket_id == Ticket.id),
            )
        ).all()
        for ticket_id in rng.sample(bare, len(bare)):
            try:
                with s.begin_nested():  # one that an audit row or the like still points at stays
                    s.execute(delete(Ticket).where(Ticket.id == ticket_id))
                return
            except IntegrityError:
                continue


def _step(svc: Any, rng: random.Random, n: int, agents: list[int], supervisor: int) -> str:
    actor = Actor.agent(supervisor)
    refs = _references(svc)
    kind = rng.choice(("create", "create", "assign", "assign", "status", "status", "queue",
                       "merge", "erase", "delete", "bulk")) if refs else "create"
    ref = rng.choice(refs) if refs else ""
    if kind == "create":
        _create(svc, rng, n)
    elif kind == "assign":
        assign_ticket(svc, ref, actor, rng.choice([*agents, None]))
    elif kind == "status":  # closing, resolving, reopening
        set_status(svc, ref, actor, rng.choice(("new", "open", "pending", "resolved", "closed")))
    elif kind == "queue":
        set_queue(svc, ref, actor, rng.choice(QUEUES))
    elif kind == "merge" and len(refs) > 1:
        source, target = rng.sample(refs, 2)
        merge_tickets(svc, source, target, actor)
    elif kind == "erase":
        with svc.db.session() as s:
            contact_id = s.scalar(select(Ticket.contact_id).where(Ticket.reference == ref))
        erase_contact(svc, contact_id, supervisor, "citizen asked for erasure")
    elif kind == "delete":
        _delete_one(svc, rng, n)
    elif kind == "bulk":  # a Core statement over many rows, past the ORM
        source, target = rng.sample(QUEUES, 2)
        with svc.db.transaction() as s:
            s.execute(update(Ticket).where(Ticket.queue == source).values(queue=target, assignee_id=None))
    return kind


def test_queue_counts_equal_a_recount_after_random_changes(store: Any) -> None:
    svc = store
    rng = random.Random(20261130)
    supervisor = add_agent(svc, "sara@example.rs", role="supervisor", name="Sara")
    agents = [add_agent(svc, f"agent{i}@example.rs", name=f"Agent {i}") for i in range(3)]
    viewers = [
        Viewer(supervisor, "Sara", "supervisor", frozenset()),
        Viewer(agents[0], "Agent 0", "agent", frozenset({"accounts", "triage"})),
        Viewer(agents[1], "Agent 1", "agent", frozenset({"payments"})),
        Viewer(agents[2], "Agent 2", "agent", frozenset()),
    ]
    kinds: set[str] = set()
    for n in range(160):
        try:
            kinds.add(_step(svc, rng, n, agents, supervisor))
        except InvalidChange:
            continue  # e.g. a merge into a ticket already merged away
        if n % 40 == 39:
            compact(svc.db)
            c = OpenTicketCount.__table__.c
            with svc.db.session() as s:
                rows = s.scalar(select(func.count()).select_from(OpenTicketCount))
                keys = select(c.queue, c.assignee_id).group_by(c.queue, c.assignee_id).subquery()
                assert rows == s.scalar(select(func.count()).select_from(keys))  # one row a key
        for viewer in viewers:
            assert _shown(svc, viewer) == _recount(svc, viewer), (n, viewer.name)
            if n % 8 == 7:
                listed, recounted = _listed_totals(svc, viewer)
                assert listed == recounted, (n, viewer.name)
    assert kinds >= {"create", "assign", "status", "queue", "merge", "erase", "delete", "bulk"}
    assert sum(_recount(svc, viewers[0])["queues"].values()) > 5  # tickets stayed open to count
