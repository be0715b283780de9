"""receive_inbound: every channel's way into the store."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpdesk.events import CONSOLE_ROOM, event, room_for_queue, room_for_ticket
from helpdesk.incidents.linking import acknowledge_new_ticket
from helpdesk.models import OPEN_STATUSES, Attachment, Contact, Message, Ticket
from helpdesk.privacy import jmbg
from helpdesk.privacy.vault import seal
from helpdesk.routing import pick_assignee
from helpdesk.services import Services, TriageDecision
from helpdesk.tickets.contacts import add_identity, find_or_create_contact, normalize_identity
from helpdesk.tickets.references import next_reference
from helpdesk.tickets.serialize import message_dict, ticket_dict
from helpdesk.tickets.types import Actor, Identity, InboundMessage, InboundResult
from helpdesk.tickets.uow import UnitOfWork, unit_of_work

MAX_SUBJECT = 300
RETRIES = 3  # a unique-key race (the same message delivered twice at once) is retried


def receive_inbound(svc: Services, msg: InboundMessage) -> InboundResult:
    """Store an inbound message: find the contact, thread it or open a ticket, commit once."""
    sender = normalize_identity(msg.sender)
    # Classify before taking the write lock: the model must not hold up other writers.
    decision = (
        svc.triage.triage(msg.subject, msg.text)
        if msg.content is None
        else svc.triage.triage("", msg.content)  # a placeholder is no evidence for routing
    )
    raw_digest = svc.attachments.put(msg.raw) if msg.raw else None
    digests = [svc.attachments.put(a.data) for a in msg.attachments]
    for attempt in range(RETRIES):
        try:
            with unit_of_work(svc) as uow:
                return _receive(uow, msg, sender, decision, raw_digest, digests)
        except IntegrityError:
            if attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _receive(
    uow: UnitOfWork,
    msg: InboundMessage,
    sender: Identity,
    decision: TriageDecision,
    raw_digest: str | None,
    digests: list[str],
) -> InboundResult:
    s = uow.session
    if msg.external_id:
        known = s.scalar(
            select(Message).where(
                Message.channel == msg.channel, Message.external_id == msg.external_id
            )
        )
        if known is not None:
            return _duplicate(known)
    contact, _ = find_or_create_contact(s, sender, msg.sender_name)
    for extra in msg.extra_identities:
        add_identity(s, contact, extra)
    contact.language = contact.language or msg.language or decision.language
    contact.script = contact.script or msg.script or decision.script

    ticket, reopened, related_id = _thread(uow, msg, contact)
    created = ticket is None
    if ticket is None:
        ticket = _open_ticket(uow, msg, contact, decision, related_id)
    elif msg.client_id:
        known = s.scalar(
            select(Message).where(
                Message.ticket_id == ticket.id, Message.client_id == msg.client_id
            )
        )
        if known is not None:
            return _duplicate(known)

    ticket.last_seq += 1
    ticket.updated_at = uow.now
    message = Message(
        ticket_id=ticket.id,
        seq=ticket.last_seq,
        direction="inbound",
        channel=msg.channel,
        contact_id=contact.id,
        text=msg.text,
        html=msg.html,
        external_id=msg.external_id,
        client_id=msg.client_id,
        created_at=msg.received_at or uow.now,
        raw_path=raw_digest,
        meta=msg.meta,
        # Built with the message so one flush writes both and no reload is needed for the event.
        attachments=[
            Attachment(
                sha256=digest,
                size=len(attachment.data),
                content_type=attachment.content_type,
                filename=attachment.filename,
                inline=attachment.inline,
                content_id=attachment.content_id,
            )
            for attachment, digest in zip(msg.attachments, digests, strict=True)
        ],
    )
    s.add(message)
    # Before the flush, so the search index and every later reader get the text masked.
    s.add_all(seal(uow.svc.settings, message, msg.subject))
    s.flush()

    actor = Actor.contact(contact.id)
    uow.audit(
        actor, "message.received", ticket, after={"message_id": message.id, "seq": message.seq}
    )
    if created:  # the usual ack, or an open incident's notice (linked in this transaction)
        acknowledge_new_ticket(uow, ticket, msg)
    data = ticket_dict(ticket)
    if created:
        for room in (CONSOLE_ROOM, room_for_queue(ticket.queue)):
            uow.emit(event("ticket.created", room, ticket=data))
    elif reopened:
        uow.emit(event("ticket.updated", room_for_queue(ticket.queue), ticket=data))
    for room in (room_for_ticket(ticket.reference), room_for_queue(ticket.queue)):
        uow.emit(event("message.created", room, ticket=data, message=message_dict(message)))
    return InboundResult(
        ticket_reference=ticket.reference,
        ticket_id=ticket.id,
        message_id=message.id,
        seq=message.seq,
        created=created,
        reopened=reopened,
    )


def _duplicate(message: Message) -> InboundResult:
    return InboundResult(
        ticket_reference=message.ticket.reference,
        ticket_id=message.ticket_id,
        message_id=message.id,
        seq=message.seq,
        created=False,
        duplicate=True,
    )


def _thread(
    uow: UnitOfWork, msg: InboundMessage, contact: Contact
) -> tuple[Ticket | None, bool, int | None]:
    """Find the conversation this message continues, using only the sender's own tickets.

    Returns (ticket, reopened, related ticket id). A reply to a resolved or closed ticket reopens
    it within ``reopen_days``; later, it opens a new ticket linked to the old one.
    """
    ticket = _match_hints(uow.session, msg, contact)
    if ticket is None:
        return None, False, None
    while ticket.merged_into_id is not None:
        ticket = uow.session.get_one(Ticket, ticket.merged_into_id)
    if ticket.status in OPEN_STATUSES:
        return ticket, False, None
    finished = ticket.closed_at or ticket.resolved_at or ticket.updated_at
    if uow.now - finished <= timedelta(days=uow.svc.settings.reopen_days):
        before = ticket.status
        ticket.status = "open"
        ticket.resolved_at = None
        ticket.closed_at = None
        uow.svc.sla.on_status_change(ticket, before, "open", uow.now)
        uow.audit(
            Actor.contact(contact.id),
            "ticket.reopened",
            ticket,
            {"status": before},
            {"status": "open"},
        )
        return ticket, True, None
    return None, False, ticket.id


def _match_hints(s: Session, msg: InboundMessage, contact: Contact) -> Ticket | None:
    hints = msg.hints
    own = Ticket.contact_id == contact.id
    if hints.ticket_reference:
        ticket = s.scalar(select(Ticket).where(own, Ticket.reference == hints.ticket_reference))
        if ticket is not None:
            return ticket
    if hints.in_reply_to:
        ticket = s.scalar(
            select(Ticket)
            .join(Message, Message.ticket_id == Ticket.id)
            .where(own, Message.external_id.in_(hints.in_reply_to))
            .order_by(Message.id.desc())
            .limit(1)
        )
        if ticket is not None:
            return ticket
    if hints.reply_token:
        ticket = s.scalar(select(Ticket).where(own, Ticket.reply_token == hints.reply_token))
        if ticket is not None:
            return ticket
    if hints.continue_open:
        return s.scalar(
            select(Ticket)
            .where(own, Ticket.channel == msg.channel, Ticket.status.in_(OPEN_STATUSES))
            .order_by(Ticket.id.desc())
            .limit(1)
        )
    return None


def _open_ticket(
    uow: UnitOfWork,
    msg: InboundMessage,
    contact: Contact,
    decision: TriageDecision,
    related_id: int | None,
) -> Ticket:
    subject = jmbg.mask(" ".join(msg.subject.split())[:MAX_SUBJECT] or _subject_from(msg.text))
    ticket = Ticket(
        reference=next_reference(uow.session, uow.now),
        subject=subject,
        status="new",
        priority=decision.priority,
        channel=msg.channel,
        category=decision.category,
        queue=decision.queue,
        # round-robin among the queue's online agents with room, inside this transaction
        assignee_id=decision.assignee_id or pick_assignee(uow.session, decision.queue),
        contact_id=contact.id,
        language=msg.language or decision.language,
        script=msg.script or decision.script,
        triage_confidence=decision.confidence,
        complaint=decision.complaint,
        created_at=msg.received_at or uow.now,
        updated_at=uow.now,
        reply_token=secrets.token_hex(12),
        related_ticket_id=related_id,
    )
    uow.svc.sla.on_open(ticket, ticket.created_at)
    uow.session.add(ticket)
    uow.session.flush()
    uow.audit(
        Actor.contact(contact.id),
        "ticket.created",
        ticket,
        after={
            "channel": ticket.channel,
            "category": ticket.category,
            "queue": ticket.queue,
            "priority": ticket.priority,
            "triage_confidence": ticket.triage_confidence,
        },
    )
    return ticket


def _subject_from(text: str) -> str:
    first = " ".join(text.split())
    return (first[:77] + "...") if len(first) > 80 else (first or "(no subject)")
