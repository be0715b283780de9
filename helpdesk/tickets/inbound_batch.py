"""A batch of inbound messages written with one statement per kind, not several per message.

Why (issue 14, bench/chat/run.py on PostgreSQL): a chat batch cost ~5 statements per message,
each a round trip, and after each round trip the writer thread must win the GIL back from the
Socket.IO threads; with the process busy (50 citizens connecting) that wait is up to the switch
interval, 5 ms. 50 citizens' first messages were ~350 round trips: about a second, the p95.
Here the same batch is ~12 statements whatever its size: the senders' contacts, their latest
tickets, then INSERT ... RETURNING (executemany) for new contacts, tickets and messages, one
UPDATE ... RETURNING for the message numbers of open tickets, one counter update for all the
new tickets' references (without gaps, in the batch's order).

Only the common case comes here: messages of one channel from different contacts, each opening
a ticket or continuing its open one, without attachments, sealed numbers or extra identities,
threaded by nothing or by "latest on channel" (chat). ``write_together`` answers None for any
other batch before writing anything, and ``inbound.write_prepared`` stores it message by
message as before. The rows, audit, index, acknowledgements and events are the same as that
path writes (tests/core/test_inbound_batch.py compares them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, tuple_

from helpdesk import db
from helpdesk.models import OPEN_STATUSES
from helpdesk.tickets import inbound, inbound_new_ticket
from helpdesk.tickets import inbound_contacts as contacts
from helpdesk.tickets import inbound_rows as rows
from helpdesk.tickets.inbound_prepare import Prepared, Stored
from helpdesk.tickets.references import NEXT_MESSAGE_ID, insert_numbered, numbers_with_insert, take_references
from helpdesk.tickets.uow import UnitOfWork

T, C, IDS = rows.TICKETS, contacts.CONTACTS, contacts.IDENTITIES

CONTACTS_BY_IDENTITY = (
    select(IDS.c.kind, IDS.c.value, C.c.id, C.c.name, C.c.language, C.c.script, C.c.merged_into_id)
    .join(C, C.c.id == IDS.c.contact_id)
    .where(tuple_(IDS.c.kind, IDS.c.value).in_(bindparam("pairs", expanding=True)))
)
LATEST_ON_CHANNEL = rows.TICKET_ROW.where(
    T.c.id.in_(
        select(func.max(T.c.id))
        .where(T.c.contact_id.in_(bindparam("contacts", expanding=True)), T.c.channel == bindparam("channel"))
        .group_by(T.c.contact_id)
    )
)
INSERT_CONTACTS = contacts.INSERT_CONTACT.returning(C.c.id, sort_by_parameter_order=True)
INSERT_TICKETS = rows.INSERT_TICKET.returning(T.c.id, sort_by_parameter_order=True)
INSERT_MESSAGES = rows.INSERT_MESSAGE.returning(rows.MESSAGES.c.id, sort_by_parameter_order=True)
BUMP_SEQUENCES = (
    T.update()
    .where(T.c.id.in_(bindparam("b_tickets", expanding=True)))
    .values(last_seq=T.c.last_seq + 1, updated_at=bindparam("b_now"))
    .returning(T.c.id, T.c.last_seq)
)
BUMP_SEQUENCES_RESERVING = (  # PostgreSQL: a message id reserved per ticket (rows.messages_with_commit)
    T.update()
    .where(T.c.id.in_(bindparam("b_tickets", expanding=True)))
    .values(last_seq=T.c.last_seq + 1, updated_at=bindparam("b_now"))
    .returning(T.c.id, T.c.last_seq, NEXT_MESSAGE_ID)
)


def write_together(
    uow: UnitOfWork, conn: Connection, pending: rows.Pending, items: Sequence[Prepared]
) -> list[Stored] | None:
    """Store ``items`` in the caller's transaction, a statement per kind; None (nothing written)
    when the batch needs the message-by-message path."""
    if len(items) < 2 or not all(_plain(item) for item in items):
        return None
    channel = items[0].msg.channel
    senders = [item.sender for item in items]
    if any(item.msg.channel != channel for item in items) or len(set(senders)) < len(senders):
        return None
    pairs = [(s.kind, s.value) for s in senders]
    found = {(r.kind, r.value): r for r in conn.execute(CONTACTS_BY_IDENTITY, {"pairs": pairs})}
    if any(r.merged_into_id is not None for r in found.values()):
        return None
    if len({r.id for r in found.values()}) < len(found):  # two identities of one contact
        return None
    threaded = [
        found[p].id
        for p, item in zip(pairs, items, strict=True)
        if p in found and item.msg.hints.latest_on_channel
    ]
    latest: dict[int, dict[str, Any]] = {}
    if threaded:
        for row in conn.execute(LATEST_ON_CHANNEL, {"contacts": threaded, "channel": channel}):
            latest[row.contact_id] = dict(row._mapping)
    if any(t["merged_into_id"] is not None or t["status"] not in OPEN_STATUSES for t in latest.values()):
        return None  # a merged or finished ticket: reopened or followed one by one

    for item, p in zip(items, pairs, strict=True):  # round-robin reads the tickets before it
        may_open = p not in found or found[p].id not in latest
        if may_open and item.decision.assignee_id is None:
            if pending.new_ticket_checks(conn, item.decision.queue).anyone:
                return None

    contacts = _contacts(uow, conn, items, [found.get(p) for p in pairs])
    continued = [
        latest.get(c.id) if item.msg.hints.latest_on_channel else None
        for c, item in zip(contacts, items, strict=True)
    ]
    created = [t is None for t in continued]
    reserved = _number_messages(uow, conn, [t for t in continued if t is not None])
    # Numbered last but one: the year's counter row stays locked (PostgreSQL) to the commit.
    new_tickets, reserved_new = _open_tickets(uow, conn, pending, items, contacts, created)
    opened = iter(new_tickets)
    tickets = [t if t is not None else next(opened) for t in continued]
    messages = [
        inbound.message_values(uow, item, t["id"], t["last_seq"], c.id)
        for item, t, c in zip(items, tickets, contacts, strict=True)
    ]
    if rows.messages_with_commit(conn):
        # Ids reserved by the statements above, given in the batch's order; the rows go with
        # the COMMIT, unless the incidents hook (ORM) is to see them first.
        ids = sorted(reserved + reserved_new)
        for message, message_id in zip(messages, ids, strict=True):
            message["id"] = message_id
        opening = [t for t, new in zip(tickets, created, strict=True) if new]
        if any(pending.new_ticket_checks(conn, t["queue"]).incident for t in opening):
            db.run_many(conn, rows.INSERT_MESSAGE_ROW, messages)
        else:
            uow.at_commit.append(lambda c: db.run_many(c, rows.INSERT_MESSAGE_ROW, messages))
    else:
        ids = list(conn.execute(INSERT_MESSAGES, messages).scalars().all())
    stored = []
    for item, ticket, message, message_id, new in zip(items, tickets, messages, ids, created, strict=True):
        message["id"] = message_id
        uow.events, uow.outbox_queued = [], False
        if new:
            inbound_new_ticket.ticket_opened(pending, ticket)
        result = inbound.stored_message(uow, conn, pending, item, ticket, message, [], new, False)
        stored.append(Stored(result, uow.events, uow.outbox_queued))
    return stored


def _plain(item: Prepared) -> bool:
    msg, hints = item.msg, item.msg.hints
    elsewhere = hints.ticket_reference or hints.in_reply_to or hints.reply_token or hints.continue_open
    return not (item.extra or item.sealed or msg.attachments or elsewhere)


def _contacts(
    uow: UnitOfWork, conn: Connection, items: Sequence[Prepared], found: list[Any]
) -> list[contacts.ContactRow]:
    """The senders' contacts: the known ones filled in (as ``contacts.fill_contact``), the others
    made with one INSERT ... RETURNING and one identities insert."""
    out: list[contacts.ContactRow | None] = []
    new: list[tuple[int, Prepared, dict[str, Any]]] = []
    for i, (item, row) in enumerate(zip(items, found, strict=True)):
        msg = item.msg
        language = msg.language or item.decision.language
        script = msg.script or item.decision.script
        if row is not None:
            contact = contacts.ContactRow(row.id, row.name, row.language, row.script)
            contacts.fill_contact(conn, contact, msg.sender_name, language, script)
            out.append(contact)
        else:
            values = {"name": msg.sender_name, "language": language, "script": script, "created_at": uow.now}
            new.append((i, item, values))
            out.append(None)
    if new:
        ids = conn.execute(INSERT_CONTACTS, [v for _, _, v in new]).scalars().all()
        identities = [
            {"contact_id": cid, "kind": it.sender.kind, "value": it.sender.value, "created_at": uow.now}
            for (_, it, _), cid in zip(new, ids, strict=True)
        ]
        names = [(cid, v["name"]) for (_, _, v), cid in zip(new, ids, strict=True) if v["name"]]
        later = uow.at_commit if rows.messages_with_commit(conn) else None
        contacts.write_identities(conn, identities, names, later)
        for (i, _, v), cid in zip(new, ids, strict=True):
            out[i] = contacts.ContactRow(cid, v["name"], v["language"], v["script"])
    return [c for c in out if c is not None]


def _open_tickets(
    uow: UnitOfWork,
    conn: Connection,
    pending: rows.Pending,
    items: Sequence[Prepared],
    contacts: list[contacts.ContactRow],
    created: list[bool],
) -> tuple[list[dict[str, Any]], list[int]]:
    """The new tickets, numbered in the batch's order, inserted with one statement; and the
    message ids their INSERT reserved (PostgreSQL)."""
    count = sum(created)
    if not count:
        return [], []
    values = [
        inbound_new_ticket.ticket_values(uow, conn, pending, item, contact, "")
        for item, contact, new in zip(items, contacts, created, strict=True)
        if new
    ]
    # Numbered as late as the tickets' rows allow, after their values (the SLA policy, the
    # checks): the year's counter row stays locked (PostgreSQL) from here to the COMMIT. On
    # PostgreSQL the numbers are taken by the tickets' own INSERT (no round trip between them).
    reserved: list[int] = []
    if numbers_with_insert(conn):
        reserved = insert_numbered(conn, uow.now, values)
    else:
        for v, reference in zip(values, take_references(conn, uow.now, count), strict=True):
            v["reference"] = reference
        ids = conn.execute(INSERT_TICKETS, values).scalars().all()
        for v, ticket_id in zip(values, ids, strict=True):
            v["id"] = ticket_id
    names = {c.id: c.name for c in contacts}
    for v in values:
        v["contact_name"] = names[v["contact_id"]]
        v["related_reference"] = None
    return values, reserved


def _number_messages(uow: UnitOfWork, conn: Connection, tickets: list[dict[str, Any]]) -> list[int]:
    """Each open ticket's next message number, with one UPDATE ... RETURNING (row locks as
    ``rows.bump_sequence`` takes them, so concurrent writers never get the same number); and
    a message id reserved per ticket by the same statement (PostgreSQL)."""
    if not tickets:
        return []
    by_id = {t["id"]: t for t in tickets}
    reserving = rows.messages_with_commit(conn)
    statement = BUMP_SEQUENCES_RESERVING if reserving else BUMP_SEQUENCES
    reserved = []
    for row in conn.execute(statement, {"b_tickets": list(by_id), "b_now": uow.now}):
        by_id[row[0]]["last_seq"] = row[1]
        by_id[row[0]]["updated_at"] = uow.now
        if reserving:
            reserved.append(int(row[2]))
    return reserved
