"""Showing a sealed JMBG to an agent who may see its ticket, with the reveal audited."""

from __future__ import annotations

from cryptography.fernet import InvalidToken
from sqlalchemy import select

from helpdesk.access import Viewer, require_see
from helpdesk.models import AccessLogEntry, Message, SensitiveValue
from helpdesk.privacy.vault import KIND_JMBG, cipher
from helpdesk.services import Services
from helpdesk.tickets.types import Actor, TicketNotFound
from helpdesk.tickets.uow import unit_of_work


class NothingToReveal(Exception):
    """The message does not exist, is not on that ticket, or holds no sealed number."""


def reveal(svc: Services, viewer: Viewer, message_id: int) -> tuple[str, list[str]]:
    """The full numbers of one message, for an agent the access policy lets see the ticket.

    Returns the ticket's reference and the numbers (an empty string for one the current key
    cannot open). Raises AccessDenied (policy), TicketNotFound or NothingToReveal. The reveal is
    audited in the same transaction, so a number is never shown without its record."""
    with unit_of_work(svc) as uow:
        message = uow.session.get(Message, message_id)
        if message is None:
            raise TicketNotFound(str(message_id))
        require_see(viewer, message.ticket)
        rows = uow.session.scalars(
            select(SensitiveValue).where(SensitiveValue.message_id == message.id).order_by(SensitiveValue.id)
        ).all()
        if not rows:
            raise NothingToReveal(message_id)
        f = cipher(svc.settings)
        numbers = []
        for row in rows:
            try:
                numbers.append(f.decrypt(row.ciphertext.encode()).decode())
            except InvalidToken:
                # The key changed since it was sealed: say so rather than show nothing quietly.
                numbers.append("")
        uow.audit(
            Actor.agent(viewer.id),
            "privacy.revealed",
            message.ticket,
            after={"message_id": message.id, "kind": KIND_JMBG, "count": len(rows)},
        )
        uow.session.add(  # the access log (who saw whose data), in the same transaction
            AccessLogEntry(
                at=uow.now,
                agent_id=viewer.id,
                action="reveal",
                contact_id=message.ticket.contact_id,
                ticket_id=message.ticket_id,
                reference=message.ticket.reference,
            )
        )
        return message.ticket.reference, numbers
