"""receive_inbound: every channel's way into the store.

One transaction per call (``receive_inbound``) or per batch (``receive_inbound_many``), with
the statements it needs and no more (issue 14): Core statements instead of ORM flushes, the
ticket's message number taken with one ``UPDATE ... RETURNING``, no re-read after an insert,
audit / search-index / change-log rows written once at the end of the transaction.

Idempotency is optimistic: the unique keys (channel, external_id) and (ticket_id, client_id)
refuse a duplicate; the transaction is then rolled back (nothing of it is kept, not even the
ticket number, so references stay without gaps) and retried with the duplicate checks on, which
answer the message stored the first time. A redelivery costs a retry; every other message
saves two SELECTs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from helpdesk import db
from helpdesk.events import CONSOLE_ROOM, event, room_for_queue, room_for_ticket
from helpdesk.incidents.linking import acknowledge_new_ticket
from helpdesk.models import Ticket
from helpdesk.services import Services
from helpdesk.tickets import inbound_batch
from helpdesk.tickets import inbound_contacts as contacts
from helpdesk.tickets import inbound_rows as rows
from helpdesk.tickets.inbound_new_ticket import ticket_opened, ticket_values
from helpdesk.tickets.inbound_prepare import Prepared, Stored, prepare
from helpdesk.tickets.inbound_thread import find_thread
from helpdesk.tickets.references import insert_numbered, next_reference, numbers_with_insert
from helpdesk.tickets.serialize import message_row_dict, ticket_row_dict
from helpdesk.tickets.types import Actor, InboundMessage, InboundResult
from helpdesk.tickets.uow import UnitOfWork, lean_unit_of_work

RETRIES = 3  # a unique-key race (the same message delivered twice at once) is retried
T = rows.TICKETS
M = rows.MESSAGES

# Runs inside the write transaction, before the messages: a channel's own row that must commit
# or roll back with them (the chat visitor's presence and details).
InTransaction = Callable[[Connection], None]


def receive_inbound(
    svc: Services, msg: InboundMessage, *, in_transaction: InTransaction | None = None
) -> InboundResult:
    """Store an inbound message: find the contact, thread it or open a ticket, commit once."""
    return store_prepared(svc, [prepare(svc, msg)], in_transaction=in_transaction)[0]


def receive_inbound_ticket(svc: Services, msg: InboundMessage) -> tuple[InboundResult, dict[str, Any] | None]:
    """``receive_inbound``, also giving the ticket as the events show it (``ticket_dict``'s
    shape), so a caller that answers with the ticket needs no re-read. None for a duplicate."""
    stored = write_prepared(svc, [prepare(svc, msg)])[0]
    announce(svc, stored)
    ticket = next((e.data["ticket"] for e in stored.events if e.type == "message.created"), None)
    return stored.result, ticket


def receive_inbound_many(
    svc: Services, msgs: Sequence[InboundMessage], *, in_transaction: InTransaction | None = None
) -> list[InboundResult]:
    """Store several inbound messages in ONE transaction, in order, each idempotent on its own
    (a message already stored answers ``duplicate=True``; two equal ones in the batch store one).

    All or nothing: if any message fails, none is stored (and no event is sent); the caller may
    then store them one by one to find the culprit. Preparation (triage, blobs) runs first,
    outside the write lock; an unusable sender raises InvalidChange before anything is written.
    Events are published after the commit, in order.
    """
    return store_prepared(svc, [prepare(svc, m) for m in msgs], in_transaction=in_transaction)


def store_prepared(
    svc: Services, items: Sequence[Prepared], *, in_transaction: InTransaction | None = None
) -> list[InboundResult]:
    """The write half: one transaction for all ``items``, then their events."""
    stored = write_prepared(svc, items, in_transaction=in_transaction)
    for one in stored:
        announce(svc, one)
    return [one.result for one in stored]


def announce(svc: Services, stored: Stored) -> None:
    """Publish a committed message's events (and wake the outbox): any thread may do it."""
    svc.publisher.publish_all(stored.events)
    if stored.wake_outbox:
        svc.wake_outbox()


def write_prepared(
    svc: Services,
    items: Sequence[Prepared],
    *,
    in_transaction: InTransaction | None = None,
    at_commit: InTransaction | None = None,
    conn: Connection | None = None,
) -> list[Stored]:
    """One transaction for all ``items``; returns, once committed, what each must announce
    (the caller calls ``announce``: the chat writer lets each citizen's thread do it).

    ``at_commit``: like ``in_transaction`` but run last and it must only write (no rows back):
    on PostgreSQL it is sent with the audit, index and change-log rows and the COMMIT in one
    round trip. ``conn``: the caller's own connection (``lean_unit_of_work``)."""
    for attempt in range(RETRIES):
        check = attempt > 0  # after a unique-key refusal: look for the duplicate first
        try:
            with lean_unit_of_work(svc, conn) as (uow, tx):
                if in_transaction is not None:
                    in_transaction(tx)
                pending = rows.Pending(uow.now)
                # A statement per kind for the whole batch when it is the common case; after a
                # unique-key refusal, one by one with the duplicate checks.
                stored = None if check else inbound_batch.write_together(uow, tx, pending, items)
                if stored is None:
                    stored = []
                    for item in items:
                        uow.events, uow.outbox_queued = [], False
                        result = _receive(uow, tx, pending, item, check)
                        stored.append(Stored(result, uow.events, uow.outbox_queued))
                pending.finish(uow, tx)
                if at_commit is not None:
                    uow.at_commit.append(at_commit)
            return stored  # committed
        except IntegrityError:
            if attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _receive(
    uow: UnitOfWork, conn: Connection, pending: rows.Pending, item: Prepared, check: bool
) -> InboundResult:
    msg, decision = item.msg, item.decision
    if check and msg.external_id:
        known = _known(conn, KNOWN_EXTERNAL, channel=msg.channel, external_id=msg.external_id)
        if known is not None:
            return known
    # A contact this transaction made, whose identity row waits for the COMMIT, else the stored one.
    contact = pending.made.get(item.sender) or contacts.find_contact(conn, item.sender)
    language = msg.language or decision.language
    script = msg.script or decision.script
    new_contact = contact is None
    if contact is None:
        deferred = uow.at_commit if rows.messages_with_commit(conn) and not check else None
        contact = contacts.create_contact(
            conn, item.sender, msg.sender_name, language, script, uow.now, deferred
        )
        if deferred is not None:
            pending.made[item.sender] = contact
    else:
        contacts.fill_contact(conn, contact, msg.sender_name, language, script)
    for extra in item.extra:
        if contacts.find_contact(conn, extra) is None:  # never take an identity from someone else
            contacts.add_identity(conn, contact.id, extra, uow.now)

    # A contact made just now has no ticket to continue: no lookup (a citizen's first chat
    # message, a new sender's first mail: one round trip fewer).
    ticket, reopened, related_id = (
        (None, False, None) if new_contact else find_thread(uow, conn, pending, msg, contact.id)
    )
    created = ticket is None
    reserved: int | None = None  # the message's id, where the statement numbering it reserved one
    if ticket is None:
        ticket, reserved = _open_ticket(uow, conn, pending, item, contact, related_id)
    elif check and msg.client_id:
        known = _known(conn, KNOWN_CLIENT, ticket_id=ticket["id"], client_id=msg.client_id)
        if known is not None:
            return known

    # A new ticket is inserted holding its first message's number: no UPDATE needed.
    if created:
        seq = 1
    else:
        seq, reserved = rows.bump_sequence(conn, ticket, uow.now)
    # With the COMMIT unless something in this transaction needs the row first: its sealed
    # values and attachments (keys to it), the incidents hook (ORM, on a new ticket), or a retry
    # after a unique-key refusal (the duplicate checks of a later message must see it).
    later = not (check or item.sealed or msg.attachments or (created and _incident(conn, pending, ticket)))
    message = _insert_message(uow, conn, item, ticket["id"], seq, contact.id, reserved, later)
    attachments = _insert_attachments(conn, item, message["id"])
    return stored_message(uow, conn, pending, item, ticket, message, attachments, created, reopened)


def stored_message(
    uow: UnitOfWork,
    conn: Connection,
    pending: rows.Pending,
    item: Prepared,
    ticket: dict[str, Any],
    message: dict[str, Any],
    attachments: list[dict[str, Any]],
    created: bool,
    reopened: bool,
) -> InboundResult:
    """What follows a message's insert: its index row, audit, the new ticket's acknowledgement,
    and the events (one batch statement per kind does the same for several, inbound_batch)."""
    seq = message["seq"]
    rows.index_message(pending, ticket["id"], seq, item.index_doc)
    pending.add_audit(
        Actor.contact(message["contact_id"]),
        "message.received",
        ticket["id"],
        after={"message_id": message["id"], "seq": seq},
    )
    if created:  # the usual ack, or an open incident's notice (linked in this transaction)
        _acknowledge(uow, conn, pending, ticket, item.msg)
    data = ticket_row_dict(ticket)
    if created:
        for room in (CONSOLE_ROOM, room_for_queue(ticket["queue"])):
            uow.emit(event("ticket.created", room, ticket=data))
    elif reopened:
        uow.emit(event("ticket.updated", room_for_queue(ticket["queue"]), ticket=data))
    payload = message_row_dict(message, attachments)
    for room in (room_for_ticket(ticket["reference"]), room_for_queue(ticket["queue"])):
        uow.emit(event("message.created", room, ticket=data, message=payload))
    return InboundResult(
        ticket_reference=ticket["reference"],
        ticket_id=ticket["id"],
        message_id=message["id"],
        seq=seq,
        created=created,
        reopened=reopened,
    )


_KNOWN = select(M.c.id, M.c.seq, M.c.ticket_id, T.c.reference).join(T, T.c.id == M.c.ticket_id)
KNOWN_EXTERNAL = _KNOWN.where(
    M.c.channel == bindparam("channel"), M.c.external_id == bindparam("external_id")
)
KNOWN_CLIENT = _KNOWN.where(M.c.ticket_id == bindparam("ticket_id"), M.c.client_id == bindparam("client_id"))
INSERT_SEALED = insert(rows.SEALED)
INSERT_ATTACHMENT = insert(rows.ATTACHMENTS)


def _acknowledge(
    uow: UnitOfWork,
    conn: Connection,
    pending: rows.Pending,
    ticket: dict[str, Any],
    msg: InboundMessage,
) -> None:
    """The usual acknowledgement in one Core insert; while an incident is open, the incidents
    hook (ORM, on the same connection) decides, as it does for every new ticket."""
    if not pending.new_ticket_checks(conn, ticket["queue"]).incident:
        if msg.wants_acknowledgement:
            # with the COMMIT (it returns nothing): no round trip while the counter row is locked
            ticket_id, channel, now = ticket["id"], msg.channel, uow.now
            uow.at_commit.append(lambda c: rows.queue_ack(c, ticket_id, channel, now))
            uow.outbox_queued = True
        return
    pending.write_audit(conn)  # the hook's audit rows come after this ticket's own
    orm_ticket = uow.session.get_one(Ticket, ticket["id"])
    acknowledge_new_ticket(uow, orm_ticket, msg)
    uow.session.flush()
    ticket["last_seq"], ticket["updated_at"] = orm_ticket.last_seq, orm_ticket.updated_at


def _known(conn: Connection, query: Any, **params: Any) -> InboundResult | None:
    row = conn.execute(query, params).first()
    if row is None:
        return None
    return InboundResult(
        ticket_reference=row.reference,
        ticket_id=row.ticket_id,
        message_id=row.id,
        seq=row.seq,
        created=False,
        duplicate=True,
    )


def _incident(conn: Connection, pending: rows.Pending, ticket: dict[str, Any]) -> bool:
    return pending.new_ticket_checks(conn, ticket["queue"]).incident  # asked before the ticket's INSERT


def _insert_message(
    uow: UnitOfWork,
    conn: Connection,
    item: Prepared,
    ticket_id: int,
    seq: int,
    contact_id: int,
    reserved: int | None = None,
    later: bool = False,
) -> dict[str, Any]:
    """The message's row; with a ``reserved`` id and ``later``, sent with the COMMIT."""
    values = message_values(uow, item, ticket_id, seq, contact_id)
    if reserved is None:
        values["id"] = db.insert_id(conn, rows.INSERT_MESSAGE, values)
    else:
        values["id"] = reserved
        if later:
            uow.at_commit.append(lambda c: db.run(c, rows.INSERT_MESSAGE_ROW, values))
        else:
            db.run(conn, rows.INSERT_MESSAGE_ROW, values)
    if item.sealed:
        db.run_many(
            conn,
            INSERT_SEALED,
            [
                {"message_id": values["id"], "kind": k, "ciphertext": c, "created_at": uow.now}
                for k, c in item.sealed
            ],
        )
    return values


def message_values(
    uow: UnitOfWork, item: Prepared, ticket_id: int, seq: int, contact_id: int
) -> dict[str, Any]:
    msg = item.msg
    return {
        "ticket_id": ticket_id,
        "seq": seq,
        "direction": "inbound",
        "kind": "message",
        "channel": msg.channel,
        "contact_id": contact_id,
        "text": item.text,
        "html": item.html,
        "external_id": msg.external_id,
        "client_id": msg.client_id,
        "created_at": msg.received_at or uow.now,
        "raw_path": item.raw_digest,
        "meta": item.meta,
    }


def _insert_attachments(conn: Connection, item: Prepared, message_id: int) -> list[dict[str, Any]]:
    out = []
    for attachment, digest in zip(item.msg.attachments, item.digests, strict=True):
        values: dict[str, Any] = {
            "message_id": message_id,
            "sha256": digest,
            "size": len(attachment.data),
            "content_type": attachment.content_type,
            "filename": attachment.filename,
            "inline": attachment.inline,
            "content_id": attachment.content_id,
        }
        values["id"] = rows.new_id(conn.execute(INSERT_ATTACHMENT, values))
        out.append(values)
    return out


def _open_ticket(
    uow: UnitOfWork,
    conn: Connection,
    pending: rows.Pending,
    item: Prepared,
    contact: contacts.ContactRow,
    related_id: int | None,
) -> tuple[dict[str, Any], int | None]:
    """The new ticket's row, and its first message's id where its INSERT reserved one."""
    values = ticket_values(uow, conn, pending, item, contact, "")  # assignee, SLA: reads first
    values["related_ticket_id"] = related_id
    values["contact_name"] = contact.name
    values["related_reference"] = (
        conn.execute(rows.REFERENCE_OF, {"ticket_id": related_id}).scalar()
        if related_id is not None
        else None
    )
    pending.new_ticket_checks(conn, values["queue"])  # asked now, not while the counter is held
    # Numbered as late as the ticket's row allows: the year's counter row stays locked
    # (PostgreSQL) from here to the COMMIT, and every other new ticket waits for it. On
    # PostgreSQL the number is taken by the ticket's own INSERT (no round trip between them).
    reserved = None
    if numbers_with_insert(conn):
        [reserved] = insert_numbered(conn, uow.now, [values])
    else:
        values["reference"] = next_reference(conn, uow.now)
        values["id"] = db.insert_id(conn, rows.INSERT_TICKET, values)
    ticket_opened(pending, values)
    return values, reserved
