"""The rows one inbound write touches, read and written with SQLAlchemy Core (issue 14).

The ORM's identity map and flush bought nothing on this path (every row is written once and never
read back), yet cost most of the time: five flushes per new ticket. Here each statement is a
cached, compiled Core statement, and the rows that can wait for the end of the transaction (audit,
search index, report change log) are written there in one executemany each.

Every statement is built once, at import, with bind parameters: building a select() per call
cost five times more than executing it (480 vs 85 us measured on the loaded machine).

What the ORM flush hooks do for other writers is done here by hand, in the same transaction:
the search index rows (``helpdesk.ticket_index.write_rows``, the statement the flush hook uses
too) and the rollups' change log (``helpdesk.metrics.changes.record_times``).
tests/core/test_inbound_lean.py checks both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    Connection,
    CursorResult,
    Table,
    bindparam,
    exists,
    insert,
    select,
    update,
)

from helpdesk import db
from helpdesk.incidents.models import Incident
from helpdesk.metrics.changes import record_times
from helpdesk.models import (
    OPEN_STATUSES,
    Agent,
    Attachment,
    AuditEvent,
    Message,
    OutboxItem,
    Queue,
    SensitiveValue,
    Ticket,
    queue_members,
)
from helpdesk.ticket_index import Row, row_key
from helpdesk.ticket_index import write_rows as write_index  # tests break it to fail late
from helpdesk.ticket_search import index_available, subject_document
from helpdesk.tickets.inbound_contacts import CONTACTS, MERGE_HOPS, ContactRow
from helpdesk.tickets.references import NEXT_MESSAGE_ID
from helpdesk.tickets.types import Actor, Identity

if TYPE_CHECKING:
    from helpdesk.tickets.uow import UnitOfWork

TICKETS = cast(Table, Ticket.__table__)
MESSAGES = cast(Table, Message.__table__)
AUDIT = cast(Table, AuditEvent.__table__)
OUTBOX = cast(Table, OutboxItem.__table__)
SEALED = cast(Table, SensitiveValue.__table__)
ATTACHMENTS = cast(Table, Attachment.__table__)
_RELATED = TICKETS.alias("related")

# A ticket as the events need it: its columns, its contact's name, its related reference.
TICKET_ROW = (
    select(
        TICKETS,
        CONTACTS.c.name.label("contact_name"),
        _RELATED.c.reference.label("related_reference"),
    )
    .join(CONTACTS, CONTACTS.c.id == TICKETS.c.contact_id)
    .outerjoin(_RELATED, _RELATED.c.id == TICKETS.c.related_ticket_id)
)
_OWN = TICKETS.c.contact_id == bindparam("contact_id")
_NEWEST = (TICKETS.c.id.desc(),)
TICKET_BY_ID = TICKET_ROW.where(TICKETS.c.id == bindparam("ticket_id"))
OWN_BY_REFERENCE = TICKET_ROW.where(_OWN, TICKETS.c.reference == bindparam("reference"))
OWN_BY_REPLY_TOKEN = TICKET_ROW.where(_OWN, TICKETS.c.reply_token == bindparam("token"))
OWN_LATEST_ON_CHANNEL = (
    TICKET_ROW.where(_OWN, TICKETS.c.channel == bindparam("channel")).order_by(*_NEWEST).limit(1)
)
OWN_OPEN_ON_CHANNEL = (
    TICKET_ROW.where(
        _OWN,
        TICKETS.c.channel == bindparam("channel"),
        TICKETS.c.status.in_(OPEN_STATUSES),
    )
    .order_by(*_NEWEST)
    .limit(1)
)
_REPLIED = TICKETS.alias("replied")  # not correlated with the outer query's tickets
OWN_REPLIED_TO = TICKET_ROW.where(
    TICKETS.c.id
    == select(MESSAGES.c.ticket_id)
    .join(_REPLIED, _REPLIED.c.id == MESSAGES.c.ticket_id)
    .where(
        _REPLIED.c.contact_id == bindparam("contact_id"),
        MESSAGES.c.external_id.in_(bindparam("ids", expanding=True)),
    )
    .order_by(MESSAGES.c.id.desc())
    .limit(1)
    .scalar_subquery()
)
REFERENCE_OF = select(TICKETS.c.reference).where(TICKETS.c.id == bindparam("ticket_id"))

INSERT_TICKET = insert(TICKETS)
INSERT_MESSAGE = insert(MESSAGES)
INSERT_AUDIT = insert(AUDIT).inline()  # no RETURNING of ids nobody reads (pipelined at commit)
INSERT_OUTBOX = insert(OUTBOX).inline()  # no RETURNING: an acknowledgement goes with the COMMIT
_QUEUES = cast(Table, Queue.__table__)
_AGENTS = cast(Table, Agent.__table__)
INCIDENTS = cast(Table, Incident.__table__)
# The two questions a new ticket asks, in one statement (a statement costs more in Python than
# both answers in the database). "anyone": could someone in the queue take it? Round-robin
# assignment (helpdesk.routing.pick_assignee, an ORM walk over the queue's members) is asked
# only then: most tickets arrive with nobody online. "incident": is an incident open? Then the
# incidents hook decides the acknowledgement.
NEW_TICKET_CHECKS = select(
    exists()
    .where(
        _QUEUES.c.name == bindparam("queue"),
        queue_members.c.queue_id == _QUEUES.c.id,
        _AGENTS.c.id == queue_members.c.agent_id,
        _AGENTS.c.active.is_(True),
        _AGENTS.c.online.is_(True),
        _AGENTS.c.capacity > 0,
    )
    .label("anyone"),
    exists()
    .where(INCIDENTS.c.status == "open", INCIDENTS.c.starts_at <= bindparam("b_now"))
    .label("incident"),
)
# The bind names must differ from column names: UPDATE reserves those for its SET values.
BUMP_SEQUENCE = (
    update(TICKETS)
    .where(TICKETS.c.id == bindparam("b_ticket"))
    .values(last_seq=TICKETS.c.last_seq + 1, updated_at=bindparam("b_now"))
    .returning(TICKETS.c.last_seq)
)
# PostgreSQL: the message's id reserved by the same statement (``messages_with_commit``).
BUMP_SEQUENCE_RESERVING = (
    update(TICKETS)
    .where(TICKETS.c.id == bindparam("b_ticket"))
    .values(last_seq=TICKETS.c.last_seq + 1, updated_at=bindparam("b_now"))
    .returning(TICKETS.c.last_seq, NEXT_MESSAGE_ID)
)
# A message row whose id is given (reserved): nothing to read back, so it may go with the COMMIT.
INSERT_MESSAGE_ROW = insert(MESSAGES).inline()


@dataclass(frozen=True)
class NewTicketChecks:
    anyone: bool  # someone in the queue could take a new ticket
    incident: bool  # an incident is open


@dataclass
class Pending:
    """What a transaction writes at its end, one statement per kind (audit, index, change log)."""

    now: datetime
    audit: list[dict[str, Any]] = field(default_factory=list)
    index: list[Row] = field(default_factory=list)
    report_times: list[datetime] = field(default_factory=list)
    checks: dict[str, NewTicketChecks] = field(default_factory=dict)
    made: dict[Identity, ContactRow] = field(
        default_factory=dict
    )  # contacts whose identity goes with the COMMIT

    def new_ticket_checks(self, conn: Connection, queue: str) -> NewTicketChecks:
        """``NEW_TICKET_CHECKS`` for a new ticket in ``queue``: asked once per queue and
        transaction (neither answer can change inside it), not once per new ticket of a batch."""
        found = self.checks.get(queue)
        if found is None:
            row = db.first(conn, NEW_TICKET_CHECKS, {"queue": queue, "b_now": self.now})
            assert row is not None
            found = self.checks[queue] = NewTicketChecks(bool(row[0]), bool(row[1]))
        return found

    def add_audit(
        self,
        actor: Actor,
        action: str,
        ticket_id: int | None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        self.audit.append(
            {
                "at": self.now,
                "actor_kind": actor.kind,
                "actor_agent_id": actor.id if actor.kind == "agent" else None,
                "actor_contact_id": actor.id if actor.kind == "contact" else None,
                "actor_name": actor.name,
                "action": action,
                "ticket_id": ticket_id,
                "subject_id": None,
                "before": before,
                "after": after,
            }
        )

    def write_audit(self, conn: Connection) -> None:
        if self.audit:
            db.run_many(conn, INSERT_AUDIT, self.audit)
            self.audit = []

    def write(self, conn: Connection, index: bool | None = None) -> None:
        """``index``: whether the search index exists, when the caller asked already."""
        self.write_audit(conn)
        if self.index and (index if index is not None else index_available(conn)):
            write_index(conn, self.index)
        if self.report_times:
            record_times(conn, self.report_times)

    def finish(self, uow: UnitOfWork, conn: Connection) -> None:
        """``write`` at the unit of work's end (``uow.at_commit``: with the COMMIT in one round
        trip on PostgreSQL), after the one read it needs (whether the index exists)."""
        index = bool(self.index) and index_available(conn)
        uow.at_commit.append(lambda c: self.write(c, index))


def new_id(result: CursorResult[Any]) -> int:
    """The primary key a single-row INSERT gave its row (lastrowid / RETURNING, no re-read)."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


# -- tickets --------------------------------------------------------------------------------


def ticket_row(conn: Connection, query: Any, **params: Any) -> dict[str, Any] | None:
    """One of the prebuilt ticket queries above, as a dict of the ticket's columns."""
    row = conn.execute(query, params).first()
    return dict(row._mapping) if row is not None else None


def follow_merges(conn: Connection, ticket: dict[str, Any]) -> dict[str, Any]:
    for _ in range(MERGE_HOPS):
        if ticket["merged_into_id"] is None:
            break
        found = ticket_row(conn, TICKET_BY_ID, ticket_id=ticket["merged_into_id"])
        if found is None:
            break
        ticket = found
    return ticket


def messages_with_commit(conn: Connection) -> bool:
    """True where a new message's id is reserved by the statement that numbers it (the ticket's
    INSERT or its sequence UPDATE) and its row is sent with the COMMIT (PostgreSQL: psycopg's
    pipeline, ``uow.at_commit``), not waited for on its own. Nothing in the transaction reads the
    row back; a unique-key refusal (a redelivered message) fails the COMMIT and the write is
    retried with the duplicate checks, which insert at once. SQLite: inserted where it is made
    (in-process, no round trip to save)."""
    return conn.dialect.name == "postgresql"


def bump_sequence(conn: Connection, ticket: dict[str, Any], now: datetime) -> tuple[int, int | None]:
    """Take the ticket's next message number in one atomic UPDATE ... RETURNING: concurrent
    writers on PostgreSQL wait for the row lock and get the next number, never the same one.
    Also a reserved id for that message where ``messages_with_commit``, else None."""
    reserving = messages_with_commit(conn)
    statement = BUMP_SEQUENCE_RESERVING if reserving else BUMP_SEQUENCE
    row = db.first(conn, statement, {"b_ticket": ticket["id"], "b_now": now})
    assert row is not None
    seq = int(row[0])
    ticket["last_seq"] = seq
    ticket["updated_at"] = now
    return seq, (int(row[1]) if reserving else None)


def index_ticket(pending: Pending, ticket: dict[str, Any]) -> None:
    pending.index.append(
        (row_key(ticket["id"]), ticket["id"], subject_document(ticket["reference"], ticket["subject"]))
    )


def index_message(pending: Pending, ticket_id: int, seq: int, document: str) -> None:
    pending.index.append((row_key(ticket_id, seq), ticket_id, document))


def queue_ack(conn: Connection, ticket_id: int, channel: str, now: datetime) -> None:
    db.run(
        conn,
        INSERT_OUTBOX,
        {
            "channel": channel,
            "kind": "ack",
            "ticket_id": ticket_id,
            "message_id": None,
            "payload": {},
            "next_attempt_at": now,
            "created_at": now,
        },
    )
