"""The hook ``receive_inbound`` calls for a new ticket: link it to an open incident it matches and
acknowledge it, inside the ticket's own transaction (one commit, nothing half-done).

A ticket matches an open, started incident when triage gave it the incident's category, or when
one of the incident's keywords is in what the citizen wrote (compared normalized: either script,
with or without diacritics). A linked ticket's acknowledgement is the incident's notice in the
ticket's language, stored on the ticket as an outbound message and sent through the outbox by
the channel's own sender; an unlinked ticket gets the usual acknowledgement, as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.events import event, room_for_queue, room_for_ticket
from helpdesk.incidents.models import Incident, IncidentTicket
from helpdesk.incidents.texts import matching_keyword, notice_language, notice_text
from helpdesk.models import Message, Ticket
from helpdesk.services import Services

if TYPE_CHECKING:
    from helpdesk.tickets.types import Actor, InboundMessage
    from helpdesk.tickets.uow import UnitOfWork

# helpdesk.tickets imports this module (receive_inbound calls the hook), so what this module
# needs from helpdesk.tickets is imported where it is used: either package may be imported first.
NOTICE_KIND = "incident"  # the outbox kind and message kind of an incident notice


def acknowledge_new_ticket(uow: UnitOfWork, ticket: Ticket, msg: InboundMessage) -> None:
    """Link ``ticket`` (just created from ``msg``) to a matching incident and send its notice, or
    queue the usual acknowledgement when the adapter asked for one."""
    said = msg.content if msg.content is not None else f"{msg.subject}\n{msg.text}"
    match = match_incident(uow.session, uow, ticket.category, said)
    if match is None:
        if msg.wants_acknowledgement:
            uow.queue_outbound(ticket, msg.channel, "ack")
        return
    incident, matched_by = match
    uow.session.add(
        IncidentTicket(ticket_id=ticket.id, incident_id=incident.id, linked_at=uow.now, matched_by=matched_by)
    )
    from helpdesk.tickets.types import Actor

    uow.audit(
        Actor.system("incidents"),
        "incident.linked",
        ticket,
        after={"incident": incident.id, "matched_by": matched_by},
    )
    # A live channel (chat) has no acknowledgement of its own, but its citizen needs the notice
    # too; mail that must not be answered automatically (list mail) gets neither.
    if msg.wants_acknowledgement or _live(uow.svc, ticket.channel):
        text = notice_text(
            incident.notice_sr_latn,
            incident.notice_sr_cyrl,
            incident.notice_en,
            notice_language(ticket.language, ticket.script),
        )
        send_notice(uow, ticket, text)


def match_incident(
    s: Session, uow: UnitOfWork, category: str | None, said: str
) -> tuple[Incident, str] | None:
    """The open incident this inquiry is about (the newest wins) and how it matched."""
    found = s.scalars(
        select(Incident)
        .where(Incident.status == "open", Incident.starts_at <= uow.now)
        .order_by(Incident.id.desc())
    ).all()
    for incident in found:
        if category and incident.category == category:
            return incident, "category"
    for incident in found:
        if incident.keywords and matching_keyword(incident.keywords, said):
            return incident, "keyword"
    return None


def send_notice(uow: UnitOfWork, ticket: Ticket, text: str) -> Message:
    """Store the notice on the ticket (the console and the chat page show it) and queue it."""
    ticket.last_seq += 1
    ticket.updated_at = uow.now
    message = Message(
        ticket_id=ticket.id,
        seq=ticket.last_seq,
        direction="outbound",
        kind=NOTICE_KIND,
        channel=ticket.channel,
        text=text,
        created_at=uow.now,
        delivery_state="queued",
        attachments=[],  # none: the event below needs no lazy load for them
    )
    uow.session.add(message)
    uow.session.flush()
    uow.queue_outbound(ticket, ticket.channel, NOTICE_KIND, message_id=message.id)
    from helpdesk.tickets.serialize import message_dict, ticket_dict

    data, payload = ticket_dict(ticket), message_dict(message)
    for room in (room_for_ticket(ticket.reference), room_for_queue(ticket.queue)):
        uow.emit(event("message.created", room, ticket=data, message=payload))
    return message


def _live(svc: Services, channel: str) -> bool:
    """Whether the channel's sender delivers to a page the citizen has open (it says so itself:
    the core knows no channel by name)."""
    return bool(getattr(svc.senders.get(channel), "live", False))


def incident_of_ticket(svc: Services, ticket_id: int) -> tuple[int, str, str] | None:
    """(id, title, status) of the incident a ticket is linked to, for the console."""
    with svc.db.session() as s:
        row = s.execute(
            select(Incident.id, Incident.title, Incident.status)
            .join(IncidentTicket, IncidentTicket.incident_id == Incident.id)
            .where(IncidentTicket.ticket_id == ticket_id)
        ).first()
        return None if row is None else (row[0], row[1], row[2])


def link_ticket(svc: Services, incident_id: int, reference: str, actor: Actor) -> bool:
    """An agent links an existing ticket to an open incident (no notice is sent: the agent saw
    it is about the outage). False when it was linked to this incident already."""
    from helpdesk.incidents.core import lock_open_incident
    from helpdesk.tickets.actions import get_ticket
    from helpdesk.tickets.types import InvalidChange
    from helpdesk.tickets.uow import unit_of_work

    with unit_of_work(svc) as uow:
        lock_open_incident(uow, incident_id)
        ticket = get_ticket(uow.session, reference, for_update=True)
        link = uow.session.get(IncidentTicket, ticket.id)
        if link is not None:
            if link.incident_id == incident_id:
                return False
            raise InvalidChange("that ticket is linked to another incident")
        uow.session.add(
            IncidentTicket(
                ticket_id=ticket.id, incident_id=incident_id, linked_at=uow.now, matched_by="agent"
            )
        )
        uow.audit(actor, "incident.linked", ticket, after={"incident": incident_id, "matched_by": "agent"})
        _report_changed(uow, ticket)
        return True


def unlink_ticket(svc: Services, incident_id: int, reference: str, actor: Actor) -> None:
    """Take a ticket out of an incident (matched by mistake): bulk answers no longer reach it."""
    from helpdesk.tickets.actions import get_ticket
    from helpdesk.tickets.types import InvalidChange
    from helpdesk.tickets.uow import unit_of_work

    with unit_of_work(svc) as uow:
        ticket = get_ticket(uow.session, reference, for_update=True)
        link = uow.session.get(IncidentTicket, ticket.id)
        if link is None or link.incident_id != incident_id:
            raise InvalidChange("that ticket is not linked to this incident")
        uow.session.delete(link)
        uow.audit(actor, "incident.unlinked", ticket, before={"incident": incident_id})
        _report_changed(uow, ticket)


def _report_changed(uow: UnitOfWork, ticket: Ticket) -> None:
    """A link made or undone after its ticket's creation moves that week's incident-linked count:
    log the change so a stored weekly rollup of that week is recomputed (helpdesk.metrics)."""
    from helpdesk.metrics.changes import record_change

    record_change(uow.session.connection(), ticket.created_at, ticket.created_at)
