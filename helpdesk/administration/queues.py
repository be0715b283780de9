"""Queues and ticket categories: create, rename in three languages, list; every change audited."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select

from helpdesk.administration.common import N_, AdminError, check_key, check_names
from helpdesk.administration.defaults import DEFAULT_QUEUE_NAMES, TRIAGE_QUEUE, default_names
from helpdesk.metrics.open_counts import read_open_counts
from helpdesk.models import Category, Queue, queue_members
from helpdesk.services import Services
from helpdesk.tickets import Actor
from helpdesk.tickets.uow import unit_of_work


@dataclass(frozen=True)
class QueueInfo:
    name: str
    names: dict[str, str]
    members: int
    open_tickets: int


def create_queue(svc: Services, actor: Actor, name: str, names: Mapping[str, str | None]) -> None:
    """A new queue `name` (the internal key) with its display names."""
    name = check_key(name)
    clean = check_names(names)
    with unit_of_work(svc) as uow:
        if uow.session.scalar(select(Queue.id).where(Queue.name == name)) is not None:
            raise AdminError(N_("A queue with the key %(key)s exists already."), key=name)
        queue = Queue(name=name, title=clean["sr-Latn"], names=clean)
        uow.session.add(queue)
        uow.session.flush()
        uow.audit(actor, "queue.created", after={"name": name, "names": clean}, subject_id=queue.id)


def rename_queue(svc: Services, actor: Actor, name: str, names: Mapping[str, str | None]) -> None:
    """Set the queue's names in every language given (an empty one falls back to sr-Latn)."""
    clean = check_names(names)
    with unit_of_work(svc) as uow:
        queue = uow.session.scalar(select(Queue).where(Queue.name == name))
        if queue is None:
            raise AdminError(N_("There is no queue %(key)s."), key=name)
        before = dict(queue.names or {})
        if before == clean and queue.title == clean["sr-Latn"]:
            return
        queue.names = clean
        queue.title = clean["sr-Latn"]
        uow.audit(actor, "queue.renamed", before={"names": before}, after={"names": clean},
                  subject_id=queue.id)


def list_queues(svc: Services) -> list[QueueInfo]:
    with svc.db.session() as s:
        members: dict[int, int] = dict(
            s.execute(select(queue_members.c.queue_id, func.count()).group_by(queue_members.c.queue_id)).all()
        )
        rows = s.execute(select(Queue.id, Queue.name, Queue.title, Queue.names).order_by(Queue.name)).all()
    # The kept counts (open, not merged away: the console's definition), not a count of the open
    # tickets themselves, which grows with them.
    counts = read_open_counts(svc.db)
    per_queue: dict[str, int] = {}
    for (queue, _assignee), n in counts.items():
        per_queue[queue] = per_queue.get(queue, 0) + n
    return [
        QueueInfo(name, dict(names or {"sr-Latn": title}), members.get(qid, 0), per_queue.get(name, 0))
        for qid, name, title, names in rows
    ]


def ensure_triage_queue(svc: Services) -> bool:
    """A fresh install gets the triage queue, where every uncertain inquiry lands; True if made now."""
    with svc.db.session() as s:
        if s.scalar(select(Queue.id).where(Queue.name == TRIAGE_QUEUE)) is not None:
            return False
    try:
        create_queue(svc, Actor.system("install"), TRIAGE_QUEUE,
                     default_names(DEFAULT_QUEUE_NAMES[TRIAGE_QUEUE], TRIAGE_QUEUE))
    except AdminError:  # another process made it a moment ago
        return False
    return True


def set_category_names(
    svc: Services, actor: Actor, key: str, names: Mapping[str, str | None]
) -> bool:
    """Name a ticket category (creating it when new); True when it was created."""
    key = check_key(key)
    clean = check_names(names)
    with unit_of_work(svc) as uow:
        category = uow.session.get(Category, key)
        created = category is None
        before = {} if category is None else dict(category.names or {})
        if category is None:
            category = Category(key=key, names=clean, updated_at=uow.now)
            uow.session.add(category)
        elif before == clean:
            return False
        category.names = clean
        category.updated_at = uow.now
        uow.audit(actor, "category.created" if created else "category.renamed",
                  before={"key": key, "names": before}, after={"key": key, "names": clean})
    return created


def list_categories(svc: Services) -> list[tuple[str, dict[str, str]]]:
    with svc.db.session() as s:
        return [(c.key, dict(c.names or {})) for c in s.scalars(select(Category).order_by(Category.key))]
