"""The core operation that takes the personal data out of tickets and keeps their figures.

Called by the privacy jobs (retention and erasure, ``helpdesk.privacy``) inside their unit of
work. What goes: the subject, every message's text, HTML, meta (an email's full text and
headers), delivery errors and external ids, the attachments and recordings (rows here; the files
once no row needs them, after commit: see ``release_files``), the raw .eml reference, the sealed
JMBGs, the search-index rows, the outbox payloads, the CSAT comment, callback numbers and notes,
personal keys of the audit rows, and the contact's name, identities and accommodations when
none of its tickets keeps data any more.

What stays is every column the weekly figures and the SLA read (times, status, channel, queue,
category, priority, CSAT score, deflection): those are Core UPDATEs of other columns, so the
rollups see no change and the figures before and after are identical (tests/privacy).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, select, text, update
from sqlalchemy.orm import Session

from helpdesk.attachments import AttachmentStore
from helpdesk.models import (
    AnonymizedTicket,
    Attachment,
    AuditEvent,
    Callback,
    CallbackAttempt,
    ChatVisitor,
    Contact,
    ContactAccommodation,
    ContactIdentity,
    Message,
    OutboxItem,
    SensitiveValue,
    Ticket,
)
from helpdesk.name_index import drop_names
from helpdesk.ticket_index import index_table, row_key
from helpdesk.ticket_search import index_available

# Audit rows keep what happened; these keys could hold what a citizen wrote or who they are.
PERSONAL_AUDIT_KEYS = frozenset(
    {"subject", "text", "body", "name", "email", "phone", "value", "identity", "identities", "comment"}
)


@dataclass
class Scrubbed:
    tickets: int = 0
    messages: int = 0
    attachments: int = 0
    contacts: int = 0
    digests: set[str] = field(default_factory=set)  # files that may now be unreferenced

    def add(self, other: Scrubbed) -> None:
        self.tickets += other.tickets
        self.messages += other.messages
        self.attachments += other.attachments
        self.contacts += other.contacts
        self.digests |= other.digests


def anonymize_tickets(session: Session, ticket_ids: Sequence[int], now: datetime, reason: str) -> Scrubbed:
    """Anonymize these tickets (already anonymized ones are skipped) in the caller's transaction."""
    done = Scrubbed()
    ids = list(
        session.scalars(
            select(Ticket.id).where(
                Ticket.id.in_(ticket_ids),
                ~exists().where(AnonymizedTicket.ticket_id == Ticket.id),
            )
        )
    )
    if not ids:
        return done
    _secure_delete(session)
    contact_ids = set(session.scalars(select(Ticket.contact_id).where(Ticket.id.in_(ids))))
    message_ids = list(session.scalars(select(Message.id).where(Message.ticket_id.in_(ids))))
    done.tickets, done.messages = len(ids), len(message_ids)
    _scrub_messages(session, message_ids, done)
    session.execute(update(Ticket).where(Ticket.id.in_(ids)).values(subject="", csat_comment=None))
    session.execute(
        update(OutboxItem).where(OutboxItem.ticket_id.in_(ids)).values(payload={}, last_error=None)
    )
    # A send still waiting would go out empty: it is ended instead (it was for a finished ticket).
    session.execute(
        update(OutboxItem)
        .where(OutboxItem.ticket_id.in_(ids), OutboxItem.status.in_(("pending", "sending")))
        .values(status="failed", last_error="anonymized")
    )
    # Callbacks stay counted (their times and outcomes are figures); the number and notes go.
    callbacks = select(Callback.id).where(Callback.ticket_id.in_(ids)).scalar_subquery()
    session.execute(update(Callback).where(Callback.ticket_id.in_(ids)).values(phone=""))
    session.execute(
        update(CallbackAttempt).where(CallbackAttempt.callback_id.in_(callbacks)).values(note=None)
    )
    _scrub_audit(session, select(AuditEvent).where(AuditEvent.ticket_id.in_(ids)))
    _drop_search_rows(session, ids)
    session.add_all(AnonymizedTicket(ticket_id=i, at=now, reason=reason) for i in ids)
    session.flush()
    for contact_id in contact_ids:
        if not has_retained_tickets(session, contact_id):
            done.contacts += forget_contact(session, contact_id)
    return done


def anonymize_messages_of(session: Session, contact_ids: Sequence[int]) -> Scrubbed:
    """The contacts' own messages on tickets of other contacts (moved there by a ticket merge):
    their text and files go, the ticket (someone else's) keeps the rest."""
    done = Scrubbed()
    rows = session.execute(
        select(Message.id, Message.ticket_id, Message.seq)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(Message.contact_id.in_(contact_ids), Ticket.contact_id.not_in(contact_ids))
    ).all()
    if not rows:
        return done
    _secure_delete(session)
    _scrub_messages(session, [r.id for r in rows], done)
    done.messages = len(rows)
    conn = session.connection()
    if index_available(conn):
        table, key = index_table(conn)
        conn.execute(
            text(f"DELETE FROM {table} WHERE {key} = :k"),  # noqa: S608 - constant names
            [{"k": row_key(r.ticket_id, r.seq)} for r in rows],
        )
    return done


def _secure_delete(session: Session) -> None:
    if session.connection().dialect.name == "sqlite":
        # Freed space overwritten with zeros: the old text must not stay readable in the file
        # (helpdesk.privacy.scrub finishes the job after commit).
        session.connection().exec_driver_sql("PRAGMA secure_delete=ON")


def _scrub_messages(session: Session, message_ids: list[int], done: Scrubbed) -> None:
    raw = session.scalars(select(Message.raw_path).where(Message.id.in_(message_ids)))
    done.digests |= {digest for digest in raw if digest}
    if not message_ids:
        return
    files = session.scalars(select(Attachment.sha256).where(Attachment.message_id.in_(message_ids)))
    done.digests |= set(files)
    done.attachments += (
        session.scalar(
            select(func.count()).select_from(Attachment).where(Attachment.message_id.in_(message_ids))
        )
        or 0
    )
    session.execute(delete(Attachment).where(Attachment.message_id.in_(message_ids)))
    session.execute(delete(SensitiveValue).where(SensitiveValue.message_id.in_(message_ids)))
    session.execute(
        update(Message)
        .where(Message.id.in_(message_ids))
        .values(text="", html=None, meta={}, delivery_error=None, external_id=None, raw_path=None)
    )


def has_retained_tickets(session: Session, contact_id: int) -> bool:
    """Whether any of the contact's tickets still keeps its data (then its address is needed)."""
    return (
        session.scalar(
            select(Ticket.id)
            .where(
                Ticket.contact_id == contact_id,
                ~exists().where(AnonymizedTicket.ticket_id == Ticket.id),
            )
            .limit(1)
        )
        is not None
    )


def forget_contact(session: Session, contact_id: int) -> int:
    """Blank the contact's name and drop its identities (and chat sign-ins under its email)."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        return 0
    emails = list(
        session.scalars(
            select(ContactIdentity.value).where(
                ContactIdentity.contact_id == contact_id, ContactIdentity.kind == "email"
            )
        )
    )
    if emails:
        session.execute(delete(ChatVisitor).where(ChatVisitor.email.in_(emails)))
    session.execute(delete(ContactIdentity).where(ContactIdentity.contact_id == contact_id))
    # What the citizen needs from us (plain language, a call rather than mail) is about them.
    session.execute(delete(ContactAccommodation).where(ContactAccommodation.contact_id == contact_id))
    session.execute(update(Contact).where(Contact.id == contact_id).values(name=None))
    drop_names(session.connection(), [contact_id])  # a Core update: the flush hook does not see it
    _scrub_audit(
        session, select(AuditEvent).where(AuditEvent.subject_id == contact_id, AuditEvent.ticket_id.is_(None))
    )
    session.expire(contact)
    return 1


def _scrub_audit(session: Session, rows: Any) -> None:
    for row in session.scalars(rows):
        for name in ("before", "after"):
            value = getattr(row, name)
            if isinstance(value, dict) and PERSONAL_AUDIT_KEYS & value.keys():
                setattr(row, name, {k: v for k, v in value.items() if k not in PERSONAL_AUDIT_KEYS})


def _drop_search_rows(session: Session, ticket_ids: Iterable[int]) -> None:
    conn = session.connection()
    if not index_available(conn):
        return
    table, key = index_table(conn)
    conn.execute(
        text(f"DELETE FROM {table} WHERE {key} >= :lo AND {key} < :hi"),  # noqa: S608 - constant names
        [{"lo": row_key(t), "hi": row_key(t + 1)} for t in ticket_ids],
    )


def release_files(session: Session, store: AttachmentStore, digests: Iterable[str]) -> int:
    """Delete the stored files no attachment or raw message refers to any more (after commit:
    the store is content-addressed, so another ticket may hold the same bytes)."""
    removed = 0
    for digest in sorted(set(digests)):
        used = session.scalar(select(Attachment.id).where(Attachment.sha256 == digest).limit(1))
        used = used or session.scalar(select(Message.id).where(Message.raw_path == digest).limit(1))
        if used is not None:
            continue
        try:
            path = store.path(digest)
        except ValueError:  # not a digest (an old raw_path): nothing of ours to remove
            continue
        if path.exists():
            path.unlink()
            removed += 1
    return removed
