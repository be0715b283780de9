"""The core operations agents (and the system) use on existing tickets."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from helpdesk.events import CONSOLE_ROOM, event, room_for_agent, room_for_queue, room_for_ticket
from helpdesk.models import (
    PRIORITIES,
    STATUSES,
    Agent,
    Contact,
    Message,
    OutboxItem,
    Queue,
    Ticket,
)
from helpdesk.privacy.vault import seal
from helpdesk.services import Services
from helpdesk.tickets.contacts import move_contact
from helpdesk.tickets.serialize import message_dict, ticket_dict
from helpdesk.tickets.types import Actor, InvalidChange, MessageRef, TicketNotFound
from helpdesk.tickets.uow import UnitOfWork, unit_of_work

MAX_TEXT = 100_000


def get_ticket(session: Session, reference: str, *, for_update: bool = False) -> Ticket:
    stmt = select(Ticket).where(Ticket.reference == reference)
    if for_update and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Ticket)
    ticket = session.scalar(stmt)
    if ticket is None:
        raise TicketNotFound(reference)
    return ticket


def reply_to_ticket(
    svc: Services,
    reference: str,
    actor: Actor,
    text: str,
    html: str | None = None,
    kind: str = "reply",
) -> MessageRef:
    """Answer the citizen on the ticket's own channel: stored now, delivered by the outbox."""
    text = _clean_text(text)
    with unit_of_work(svc) as uow:
        ticket = get_ticket(uow.session, reference, for_update=True)
        message = _add_message(uow, ticket, actor, "outbound", text, html, kind)
        message.delivery_state = "queued"
        item = uow.queue_outbound(ticket, ticket.channel, kind, message_id=message.id)
        if ticket.first_response_at is None and actor.kind == "agent":
            ticket.first_response_at = uow.now
        if ticket.status == "new":
            _change_status(uow, ticket, actor, "open")
        uow.session.flush()
        _announce_message(uow, ticket, message)
        return MessageRef(ticket.reference, message.id, message.seq, item.id)


def add_note(svc: Services, reference: str, actor: Actor, text: str) -> MessageRef:
    """An internal note: visible to agents only, never sent."""
    text = _clean_text(text)
    with unit_of_work(svc) as uow:
        ticket = get_ticket(uow.session, reference, for_update=True)
        message = _add_message(uow, ticket, actor, "note", text, None, "note")
        uow.session.flush()
        _announce_message(uow, ticket, message)
        return MessageRef(ticket.reference, message.id, message.seq)


def assign_ticket(svc: Services, reference: str, actor: Actor, agent_id: int | None) -> None:
    with unit_of_work(svc) as uow:
        ticket = get_ticket(uow.session, reference, for_update=True)
        if agent_id is not None:
            agent = uow.session.get(Agent, agent_id)
            if agent is None or not agent.active:
                raise InvalidChange("no such active agent")
        _change(uow, ticket, actor, "assignee_id", agent_id, "ticket.assigned")
        if agent_id is not None:
            uow.emit(event("ticket.assigned", room_for_agent(agent_id), ticket=ticket_dict(ticket)))


def set_status(svc: Services, reference: str, actor: Actor, status: str) -> None:
    if status not in STATUSES:
        raise InvalidChange(f"status must be one of {', '.join(STATUSES)}")
    with unit_of_work(svc) as uow:
        ticket = get_ticket(uow.session, reference, for_update=True)
        before = ticket.status
        if before == status:
            return
        _change_status(uow, ticket, actor, status)
        if status == "resolved" and ticket.channel in uow.svc.senders:
            uow.queue_outbound(ticket, ticket.channel, "survey")
        _announce_ticket(uow, ticket)


def set_priority(svc: Services, reference: str, actor: Actor, priority: str) -> None:
    if priority not in PRIORITIES:
        raise InvalidChange(f"priority must be one of {', '.join(PRIORITIES)}")
    _set_field(svc, reference, actor, "priority", priority, "ticket.priority_changed")


def set_category(svc: Services, reference: str, actor: Actor, category: str) -> None:
    """A category an agent sets is also a training label for triage (read from the audit trail)."""
    category = category.strip()
    if not category or len(category) > 40:
        raise InvalidChange("category must be 1 to 40 characters")
    _set_field(svc, reference, actor, "category", category, "ticket.category_changed")


def set_queue(svc: Services, reference: str, actor: Actor, queue: str) -> None:
    with svc.db.session() as s:
        if s.scalar(select(Queue.id).where(Queue.name == queue)) is None:
            raise InvalidChange(f"no queue named {queue!r}")
    _set_field(svc, reference, actor, "queue", queue, "ticket.queue_changed")


def merge_tickets(svc: Services, source_ref: str, target_ref: str, actor: Actor) -> None:
    """Move every message of ``source`` onto ``target`` (renumbered after it) and close ``source``."""
    if source_ref == target_ref:
        raise InvalidChange("a ticket cannot be merged into itself")
    with unit_of_work(svc) as uow:
        s = uow.session
        source = get_ticket(s, source_ref, for_update=True)
        target = get_ticket(s, target_ref, for_update=True)
        if source.merged_into_id is not None:
            raise InvalidChange("that ticket is already merged")
        moved = s.scalars(select(Message).where(Message.ticket_id == source.id).order_by(Message.seq)).all()
        # Step aside first so the (ticket_id, seq) unique key never sees two equal pairs.
        s.execute(update(Message).where(Message.ticket_id == source.id).values(seq=-Message.seq))
        for message in moved:
            target.last_seq += 1
            message.ticket_id = target.id
            message.seq = target.last_seq
        s.execute(update(OutboxItem).where(OutboxItem.ticket_id == source.id).values(ticket_id=target.id))
        source.merged_into_id = target.id
        before = source.status
        source.status = "closed"
        source.closed_at = uow.now
        target.updated_at = uow.now
        uow.audit(
            actor,
            "ticket.merged",
            source,
            {"status": before},
            {"status": "closed", "merged_into": target.reference, "messages": len(moved)},
        )
        uow.audit(actor, "ticket.merged_from", target, after={"merged_from": source.reference})
        data = {"source": source.reference, "target": target.reference}
        for room in (room_for_ticket(source.reference), room_for_queue(source.queue)):
            uow.emit(event("ticket.merged", room, **data, ticket=ticket_dict(source)))
        _announce_ticket(uow, target)


def merge_contacts(svc: Services, source_id: int, target_id: int, actor: Actor) -> None:
    with unit_of_work(svc) as uow:
        source = uow.session.get(Contact, source_id)
        target = uow.session.get(Contact, target_id)
        if source is None or target is None:
            raise InvalidChange("no such contact")
        if source.merged_into_id is not None:
            raise InvalidChange("that contact is already merged")
        move_contact(uow.session, source, target)
        uow.audit(
            actor,
            "contact.merged",
            None,
            {"contact": source.id},
            {"merged_into": target.id},
            subject_id=source.id,
        )


def record_delivery(
    svc: Services,
    message_id: int,
    state: str,
    error: str | None = None,
    external_id: str | None = None,
) -> None:
    """A channel reports what became of an outbound message (sent, delivered, failed, bounced)."""
    with unit_of_work(svc) as uow:
        message = uow.session.get(Message, message_id)
        if message is None:
            raise InvalidChange("no such message")
        before = {"delivery_state": message.delivery_state}
        message.delivery_state = state
        message.delivery_error = error
        if external_id:
            message.external_id = external_id
        ticket = message.ticket
        uow.audit(
            Actor.system(message.channel),
            "message.delivery",
            ticket,
            before,
            {"delivery_state": state, "message_id": message.id, "error": error},
        )
        uow.emit(
            event(
                "message.updated",
                room_for_ticket(ticket.reference),
                ticket=ticket_dict(ticket),
                message=message_dict(message),
            )
        )


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidChange("the message is empty")
    if len(text) > MAX_TEXT:
        raise InvalidChange(f"the message is longer than {MAX_TEXT} characters")
    return text


def _add_message(
    uow: UnitOfWork,
    ticket: Ticket,
    actor: Actor,
    direction: str,
    text: str,
    html: str | None,
    kind: str,
) -> Message:
    ticket.last_seq += 1
    ticket.updated_at = uow.now
    message = Message(
        ticket_id=ticket.id,
        seq=ticket.last_seq,
        direction=direction,
        kind=kind,
        channel=ticket.channel,
        agent_id=actor.id if actor.kind == "agent" else None,
        text=text,
        html=html,
        created_at=uow.now,
    )
    uow.session.add(message)
    uow.session.add_all(seal(uow.svc.settings, message))  # an agent pasting a citizen's JMBG
    uow.session.flush()
    uow.audit(actor, f"message.{direction}", ticket, after={"message_id": message.id, "kind": kind})
    return message


def _change_status(uow: UnitOfWork, ticket: Ticket, actor: Actor, status: str) -> None:
    before = ticket.status
    ticket.status = status
    ticket.updated_at = uow.now
    if status == "resolved":
        ticket.resolved_at = uow.now
    elif status == "closed":
        ticket.closed_at = uow.now
        ticket.resolved_at = ticket.resolved_at or uow.now
    else:
        ticket.resolved_at = None
        ticket.closed_at = None
    uow.svc.sla.on_status_change(ticket, before, status, uow.now)
    uow.audit(actor, "ticket.status_changed", ticket, {"status": before}, {"status": status})


def _set_field(svc: Services, reference: str, actor: Actor, name: str, value: Any, action: str) -> None:
    with unit_of_work(svc) as uow:
        ticket = get_ticket(uow.session, reference, for_update=True)
        _change(uow, ticket, actor, name, value, action)


def _change(uow: UnitOfWork, ticket: Ticket, actor: Actor, name: str, value: Any, action: str) -> None:
    before = getattr(ticket, name)
    if before == value:
        return
    old_queue = ticket.queue
    setattr(ticket, name, value)
    ticket.updated_at = uow.now
    uow.audit(actor, action, ticket, {name: before}, {name: value})
    if name == "queue":  # the old queue's consoles must drop it too
        uow.emit(event("ticket.updated", room_for_queue(old_queue), ticket=ticket_dict(ticket)))
    _announce_ticket(uow, ticket)


def _announce_ticket(uow: UnitOfWork, ticket: Ticket) -> None:
    data = ticket_dict(ticket)
    for room in (room_for_ticket(ticket.reference), room_for_queue(ticket.queue), CONSOLE_ROOM):
        uow.emit(event("ticket.updated", room, ticket=data))


def _announce_message(uow: UnitOfWork, ticket: Ticket, message: Message) -> None:
    agent = uow.session.get(Agent, message.agent_id) if message.agent_id else None
    data = ticket_dict(ticket)
    payload = message_dict(message, agent)
    for room in (room_for_ticket(ticket.reference), room_for_queue(ticket.queue)):
        uow.emit(event("message.created", room, ticket=data, message=payload))


def note_kb_suggested(svc: Services, reference: str, actor: Actor, article_ids: list[int]) -> None:
    """The citizen was shown knowledge-base answers on this ticket (the first time is audited)."""
    with unit_of_work(svc) as uow:
        ticket = get_ticket(uow.session, reference, for_update=True)
        if ticket.kb_suggested:
            return
        ticket.kb_suggested = True
        uow.audit(
            actor,
            "ticket.kb_suggested",
            ticket,
            {"kb_suggested": False},
            {"kb_suggested": True, "articles": article_ids[:10]},
        )


def close_by_citizen(svc: Services, reference: str, actor: Actor) -> bool:
    """The citizen ends the conversation; returns whether it counts as deflected.

    Deflected: answers from the knowledge base were suggested and no agent had answered, so the
    citizen found the answer alone. The ticket is resolved either way; a later message reopens it.
    """
    with unit_of_work(svc) as uow:
        ticket = get_ticket(uow.session, reference, for_update=True)
        if actor.kind == "contact" and ticket.contact_id != actor.id:
            raise InvalidChange("not your conversation")
        if not ticket.is_open:
            return ticket.deflected
        answered = uow.session.scalar(
            select(func.count(Message.id)).where(
                Message.ticket_id == ticket.id,
                Message.direction == "outbound",
                Message.agent_id.is_not(None),
            )
        )
        ticket.deflected = bool(ticket.kb_suggested and not answered)
        _change_status(uow, ticket, actor, "resolved")
        uow.audit(actor, "ticket.closed_by_citizen", ticket, after={"deflected": ticket.deflected})
        _announce_ticket(uow, ticket)
        return ticket.deflected
