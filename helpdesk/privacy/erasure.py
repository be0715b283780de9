"""Erasure on request: everything of one contact goes, the office's figures stay.

Every ticket of the contact (and of contacts merged into it) is anonymized whatever its age or
status, and so are its own messages that a ticket merge moved onto another citizen's ticket;
the contact's name, emails and phones go, and so do mail of theirs still waiting or failed in
the spool and their chat sign-ins. The contact row stays as an empty shell (an id the
anonymized tickets point at, with no name, language or identity), so the tickets keep their
figures. A supervisor gives the legal reason; it is audited (``privacy.erased``) and the
erasure is written to the access log. The reason must not name the citizen (the form says so).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, func, or_, select, update

from helpdesk.models import AuditEvent, Contact, ContactIdentity, MailSpoolItem, Ticket
from helpdesk.privacy.access_log import record_access
from helpdesk.privacy.export import NoSuchContact, check_reason
from helpdesk.privacy.scrub import scrub_free_space, secure_delete
from helpdesk.services import Services
from helpdesk.tickets.anonymize import (
    Scrubbed,
    anonymize_messages_of,
    anonymize_tickets,
    forget_contact,
    release_files,
)

BATCH = 200


@dataclass
class Erased:
    scrubbed: Scrubbed = field(default_factory=Scrubbed)
    files_removed: int = 0
    spooled_mail: int = 0

    def summary(self) -> str:
        s = self.scrubbed
        return (
            f"erased contact: {s.tickets} ticket(s), {s.messages} message(s), "
            f"{s.attachments} attachment(s), {self.files_removed} file(s), "
            f"{self.spooled_mail} spooled mail(s)"
        )


def erase_contact(svc: Services, contact_id: int, agent_id: int | None, reason: str) -> Erased:
    reason = check_reason(reason)
    now = svc.clock.now()
    done = Erased()
    with svc.db.session() as s:
        if s.get(Contact, contact_id) is None:
            raise NoSuchContact(contact_id)
        contacts = [contact_id, *s.scalars(select(Contact.id).where(Contact.merged_into_id == contact_id))]
        ticket_ids = list(
            s.scalars(select(Ticket.id).where(Ticket.contact_id.in_(contacts)).order_by(Ticket.id))
        )
    for start in range(0, len(ticket_ids), BATCH):
        with svc.db.transaction() as s:
            done.scrubbed.add(anonymize_tickets(s, ticket_ids[start : start + BATCH], now, "erasure"))
    with svc.db.transaction() as s:
        done.scrubbed.add(anonymize_messages_of(s, contacts))
        secure_delete(s)
        addresses = list(
            s.scalars(select(ContactIdentity.value).where(ContactIdentity.contact_id.in_(contacts)))
        )
        if addresses:
            mine = or_(MailSpoolItem.mail_from.in_(addresses), MailSpoolItem.sender_key.in_(addresses))
            done.spooled_mail = s.scalar(select(func.count()).select_from(MailSpoolItem).where(mine)) or 0
            s.execute(delete(MailSpoolItem).where(mine))
        for cid in contacts:
            forget_contact(s, cid)
        s.execute(update(Contact).where(Contact.id.in_(contacts)).values(language=None, script=None))
        s.add(
            AuditEvent(
                at=now,
                actor_kind="agent" if agent_id is not None else "system",
                actor_agent_id=agent_id,
                actor_name=None if agent_id is not None else "cli",
                action="privacy.erased",
                subject_id=contact_id,
                after={
                    "reason": reason,
                    "tickets": done.scrubbed.tickets,
                    "messages": done.scrubbed.messages,
                    "attachments": done.scrubbed.attachments,
                },
            )
        )
    if done.scrubbed.digests:
        with svc.db.session() as s:
            done.files_removed = release_files(s, svc.attachments, done.scrubbed.digests)
    scrub_free_space(svc)
    record_access(svc, agent_id, "erasure", contact_id=contact_id)
    return done
