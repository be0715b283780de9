"""Before a merge: what would move (read only), and linking related tickets (a core write).

Every door that merges (console, API, CLI) shows the same preview first, so an agent knows what
the merge does before it does it: how many messages, files and pending deliveries move, whether
the two tickets belong to different citizens, and which ticket is left pointing to which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from helpdesk.events import event, room_for_ticket
from helpdesk.models import Attachment, Contact, ContactIdentity, Message, OutboxItem, Ticket
from helpdesk.services import Services
from helpdesk.tickets.actions import get_ticket
from helpdesk.tickets.serialize import ticket_dict
from helpdesk.tickets.types import Actor, InvalidChange
from helpdesk.tickets.uow import unit_of_work


@dataclass(frozen=True)
class TicketMergePreview:
    source: str
    target: str
    source_subject: str
    target_subject: str
    messages: int
    attachments: int
    pending_deliveries: int
    same_contact: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "messages": self.messages,
            "attachments": self.attachments,
            "pending_deliveries": self.pending_deliveries,
            "same_contact": self.same_contact,
            "source_after": {"status": "closed", "merged_into": self.target},
        }


def preview_ticket_merge(svc: Services, source_ref: str, target_ref: str) -> TicketMergePreview:
    """What merge_tickets(source, target) would move; raises as the merge itself would."""
    if source_ref == target_ref:
        raise InvalidChange("a ticket cannot be merged into itself")
    with svc.db.session() as s:
        source = get_ticket(s, source_ref)
        target = get_ticket(s, target_ref)
        for ticket in (source, target):
            if ticket.merged_into_id is not None:
                raise InvalidChange(f"{ticket.reference} is already merged")
        messages = s.scalar(select(func.count(Message.id)).where(Message.ticket_id == source.id)) or 0
        files = s.scalar(
            select(func.count(Attachment.id))
            .join(Message, Message.id == Attachment.message_id)
            .where(Message.ticket_id == source.id)
        )
        pending = s.scalar(
            select(func.count(OutboxItem.id)).where(
                OutboxItem.ticket_id == source.id, OutboxItem.status == "pending"
            )
        )
        return TicketMergePreview(
            source.reference,
            target.reference,
            source.subject,
            target.subject,
            messages,
            files or 0,
            pending or 0,
            source.contact_id == target.contact_id,
        )


@dataclass(frozen=True)
class ContactMergePreview:
    source_id: int
    target_id: int
    source_name: str | None
    target_name: str | None
    identities: list[tuple[str, str]]  # (kind, value) that move; chat tokens are counted only
    tickets: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source_id,
            "target": self.target_id,
            "identities": len(self.identities),
            "tickets": self.tickets,
        }


def preview_contact_merge(svc: Services, source_id: int, target_id: int) -> ContactMergePreview:
    if source_id == target_id:
        raise InvalidChange("a contact cannot be merged into itself")
    with svc.db.session() as s:
        source, target = s.get(Contact, source_id), s.get(Contact, target_id)
        if source is None or target is None:
            raise InvalidChange("no such contact")
        if source.merged_into_id is not None or target.merged_into_id is not None:
            raise InvalidChange("that contact is already merged")
        identities = [
            (kind, value)
            for kind, value in s.execute(
                select(ContactIdentity.kind, ContactIdentity.value)
                .where(ContactIdentity.contact_id == source.id)
                .order_by(ContactIdentity.id)
            )
        ]
        tickets = list(
            s.scalars(select(Ticket.reference).where(Ticket.contact_id == source.id).order_by(Ticket.id))
        )
        return ContactMergePreview(source.id, target.id, source.name, target.name, identities, tickets)


def link_tickets(svc: Services, reference: str, related_ref: str | None, actor: Actor) -> None:
    """Point a ticket at a related one (same problem, another citizen), or clear the link."""
    with unit_of_work(svc) as uow:
        ticket = get_ticket(uow.session, reference, for_update=True)
        related = get_ticket(uow.session, related_ref) if related_ref else None
        if related is not None and related.id == ticket.id:
            raise InvalidChange("a ticket cannot be related to itself")
        before = ticket.related_ticket_id
        after = related.id if related is not None else None
        if before == after:
            return
        old = uow.session.get(Ticket, before) if before else None
        ticket.related_ticket_id = after
        ticket.updated_at = uow.now
        uow.audit(
            actor,
            "ticket.linked" if related is not None else "ticket.unlinked",
            ticket,
            {"related": old.reference if old is not None else None},
            {"related": related.reference if related is not None else None},
        )
        uow.emit(event("ticket.updated", room_for_ticket(ticket.reference), ticket=ticket_dict(ticket)))
