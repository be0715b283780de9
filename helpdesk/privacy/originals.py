"""Opening a sealed original (an attachment or raw mail that holds a JMBG) for an agent.

The store keeps such a file encrypted (``helpdesk.attachments``). An agent the access policy lets
see the ticket gets the original as the citizen sent it, and that is a reveal of the number:
audited (``privacy.revealed`` with the attachment's id, never the number) and written to the
access log in one transaction before the bytes are handed out. A file in clear is opened as
before, with nothing recorded.
"""

from __future__ import annotations

from helpdesk.access import Viewer, require_see
from helpdesk.models import AccessLogEntry, Attachment
from helpdesk.services import Services
from helpdesk.tickets.types import Actor, TicketNotFound
from helpdesk.tickets.uow import unit_of_work

KIND_FILE = "file"


def open_attachment(svc: Services, viewer: Viewer, attachment_id: int) -> bytes:
    """The attachment's original bytes; raises AccessDenied, TicketNotFound or
    SealedFileUnreadable (the privacy key changed since it was sealed)."""
    with svc.db.session() as s:
        row = s.get(Attachment, attachment_id)
        if row is None:
            raise TicketNotFound(str(attachment_id))
        require_see(viewer, row.message.ticket)
        digest = row.sha256
    if not svc.attachments.is_sealed(digest):
        return svc.attachments.get(digest)
    data = svc.attachments.get(digest)  # before the record: a file that cannot open is no reveal
    with unit_of_work(svc) as uow:
        row = uow.session.get_one(Attachment, attachment_id)
        ticket = row.message.ticket
        uow.audit(
            Actor.agent(viewer.id),
            "privacy.revealed",
            ticket,
            after={"message_id": row.message_id, "attachment_id": row.id, "kind": KIND_FILE},
        )
        uow.session.add(
            AccessLogEntry(
                at=uow.now,
                agent_id=viewer.id,
                action="reveal",
                contact_id=ticket.contact_id,
                ticket_id=ticket.id,
                reference=ticket.reference,
            )
        )
    return data
