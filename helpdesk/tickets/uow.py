"""A unit of work: one transaction, then the events and wake-ups it produced, only after commit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from helpdesk.db import pipelined
from helpdesk.events import Event
from helpdesk.models import AuditEvent, OutboxItem, Ticket
from helpdesk.services import Services
from helpdesk.tickets.types import Actor


@dataclass
class UnitOfWork:
    svc: Services
    # None: made on first use, bound to ``bind`` (lean_unit_of_work: most inbound writes never
    # touch the ORM, and a Session cost about 5% of a new ticket's CPU)
    _session: Session | None
    now: datetime
    events: list[Event] = field(default_factory=list)
    outbox_queued: bool = False
    # Writes that return nothing, run just before the COMMIT (lean_unit_of_work; see pipelined).
    at_commit: list[Callable[[Connection], None]] = field(default_factory=list)
    bind: Connection | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(bind=self.bind)
        return self._session

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def audit(
        self,
        actor: Actor,
        action: str,
        ticket: Ticket | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        subject_id: int | None = None,
    ) -> None:
        self.session.add(
            AuditEvent(
                at=self.now,
                actor_kind=actor.kind,
                actor_agent_id=actor.id if actor.kind == "agent" else None,
                actor_contact_id=actor.id if actor.kind == "contact" else None,
                actor_name=actor.name,
                action=action,
                ticket_id=ticket.id if ticket is not None else None,
                subject_id=subject_id,
                before=before,
                after=after,
            )
        )

    def queue_outbound(
        self, ticket: Ticket, channel: str, kind: str, message_id: int | None = None, **payload: Any
    ) -> OutboxItem:
        item = OutboxItem(
            channel=channel,
            kind=kind,
            ticket_id=ticket.id,
            message_id=message_id,
            payload=payload,
            next_attempt_at=self.now,
            created_at=self.now,
        )
        self.session.add(item)
        self.outbox_queued = True
        return item


@contextmanager
def lean_unit_of_work(
    svc: Services, conn: Connection | None = None
) -> Iterator[tuple[UnitOfWork, Connection]]:
    """``unit_of_work`` for writers that use Core statements (the inbound path): the same write
    transaction (``BEGIN IMMEDIATE`` on SQLite, rolled back on any error, events after commit)
    on a plain connection, without the ORM session's per-transaction bookkeeping. The session
    it still carries is bound to that connection, for the rare ORM read (``pick_assignee``).
    The caller publishes ``uow.events`` after the block (``inbound.announce``): a batch writer
    hands each message's events to the thread that waits for it.

    ``conn``: a connection the caller keeps between transactions (the chat writer: no pool
    checkout and pre-ping per batch); by default one from the pool for this transaction.
    ``uow.at_commit``: writes that return nothing, run last; on PostgreSQL they go with the
    COMMIT in one round trip (``pipelined``)."""
    if conn is None:
        with svc.db.engine.connect() as own:
            with _lean(svc, own) as pair:
                yield pair
        return
    with _lean(svc, conn) as pair:
        yield pair


@contextmanager
def _lean(svc: Services, conn: Connection) -> Iterator[tuple[UnitOfWork, Connection]]:
    if svc.db.dialect == "sqlite":
        conn.execution_options(sqlite_begin="IMMEDIATE")
    transaction = conn.begin()
    try:
        uow = UnitOfWork(svc, None, svc.clock.now(), bind=conn)
        try:
            yield uow, conn
            if uow._session is not None:  # noqa: SLF001 - ours
                uow._session.flush()  # noqa: SLF001 - what a caller added to it
        finally:
            if uow._session is not None:  # noqa: SLF001
                uow._session.close()  # noqa: SLF001
        with pipelined(conn):
            for write in uow.at_commit:
                write(conn)
            transaction.commit()
    except BaseException:
        if transaction.is_active:
            transaction.rollback()
        else:  # the COMMIT itself failed (a pipelined write refused): end it on the server too
            conn.rollback()
            conn.connection.dbapi_connection.rollback()  # type: ignore[union-attr]
        raise


@contextmanager
def unit_of_work(svc: Services) -> Iterator[UnitOfWork]:
    with svc.db.transaction() as session:
        uow = UnitOfWork(svc, session, svc.clock.now())
        yield uow
    _after_commit(svc, uow)


def _after_commit(svc: Services, uow: UnitOfWork) -> None:
    # Reached only after a successful commit: nothing is announced that was rolled back.
    svc.publisher.publish_all(uow.events)
    if uow.outbox_queued:
        svc.wake_outbox()
