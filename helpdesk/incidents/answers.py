"""Answering every ticket linked to an incident at once.

One answer becomes one outbound message on each linked ticket (still open or resolved, not merged
away), stored and queued in ONE transaction with the same helpers ``reply_to_ticket`` uses, so
each goes out once, on its ticket's own channel, through that channel's sender and the outbox's
exactly-once claims. Each sender keeps its channel's rules: a number that sent STOP gets nothing
(the SMS sender refuses it and the ticket shows why), as with a single reply. The form's nonce
makes a second submit of the same answer (a double click, a retried POST) send nothing again.

A citizen with several linked tickets that reply to the same address (two emails, an email and a
web form answered by email, two SMS threads) gets the answer once: it is written on every ticket,
each is updated the same way, but only the newest of them queues it; the others' copy is marked
"shared" (delivered with that one), so their timelines say why no message of their own went out.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from helpdesk.access import Viewer, ticket_filter
from helpdesk.incidents.core import IncidentNotFound, lock_open_incident
from helpdesk.incidents.models import Incident, IncidentAnswer, IncidentTicket
from helpdesk.models import Ticket
from helpdesk.outbox import IDENTITY_FOR_CHANNEL, can_reach, delivery_address
from helpdesk.services import Services
from helpdesk.tickets.actions import _add_message, _announce_message, _change_status, _clean_text
from helpdesk.tickets.types import Actor, InvalidChange
from helpdesk.tickets.uow import UnitOfWork, unit_of_work

ANSWERED_STATUSES = ("new", "open", "pending", "resolved")  # closed and merged tickets are done
SHARED = "shared"  # delivery state of a copy that went out with the citizen's other ticket


@dataclass(frozen=True)
class AnswerPreview:
    total: int  # tickets the answer would be written on
    by_channel: dict[str, int] = field(default_factory=dict)
    opted_out: int = 0  # of them, SMS contacts who sent STOP: stored, never sent
    unreachable: int = 0  # no address the ticket's channel can send to
    references: tuple[str, ...] = ()  # the first few, for the page
    messages: int = 0  # messages that go out: one per citizen's address, however many tickets


@dataclass(frozen=True)
class AnswerResult:
    queued: int  # tickets the answer was written on
    messages: int = 0  # of them, the ones that send it (the rest share a citizen's address)
    duplicate: bool = False  # this nonce was answered before: nothing was sent again


def _targets(s: Session, incident_id: int, viewer: Viewer | None, lock: bool = False) -> list[Ticket]:
    stmt = (
        select(Ticket)
        .join(IncidentTicket, IncidentTicket.ticket_id == Ticket.id)
        .where(
            IncidentTicket.incident_id == incident_id,
            Ticket.merged_into_id.is_(None),
            Ticket.status.in_(ANSWERED_STATUSES),
        )
        .order_by(Ticket.id)
    )
    if viewer is not None:  # an agent answers the linked tickets it may see (helpdesk.access)
        stmt = stmt.where(ticket_filter(viewer))
    if lock and s.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Ticket)
    return list(s.scalars(stmt).unique().all())


def _carriers(svc: Services, tickets: list[Ticket]) -> set[int]:
    """The ids of the tickets that send the answer: per delivery address, the newest ticket (the
    conversation the citizen last started); a ticket whose address is unknown sends its own."""
    seen: set[str] = set()
    carriers: set[int] = set()
    for ticket in sorted(tickets, key=lambda t: t.id, reverse=True):
        addresses = {i.kind: i.value for i in ticket.contact.identities}
        where = delivery_address(svc, ticket.channel, addresses)
        if where is None or where not in seen:
            carriers.add(ticket.id)
        if where is not None:
            seen.add(where)
    return carriers


def preview_answer(svc: Services, incident_id: int, viewer: Viewer | None) -> AnswerPreview:
    with svc.db.session() as s:
        if s.get(Incident, incident_id) is None:
            raise IncidentNotFound(incident_id)
        tickets = _targets(s, incident_id, viewer)
        opted_out = unreachable = 0
        for ticket in tickets:
            contact = ticket.contact
            addresses = {i.kind: i.value for i in contact.identities}
            if IDENTITY_FOR_CHANNEL.get(ticket.channel) == "phone" and contact.sms_opt_out:
                opted_out += 1
            elif not can_reach(svc, ticket.channel, addresses):
                unreachable += 1
        return AnswerPreview(
            total=len(tickets),
            by_channel=dict(sorted(Counter(t.channel for t in tickets).items())),
            opted_out=opted_out,
            unreachable=unreachable,
            references=tuple(t.reference for t in tickets[:20]),
            messages=len(_carriers(svc, tickets)),
        )


def answer_incident(
    svc: Services, incident_id: int, actor: Actor, text: str, nonce: str, viewer: Viewer | None
) -> AnswerResult:
    """Answer the linked tickets (those ``viewer`` may see; None: all) with one text."""
    text = _clean_text(text)
    try:
        with unit_of_work(svc) as uow:
            incident = lock_open_incident(uow, incident_id)  # closed: answer tickets one by one
            return queue_answer(uow, incident, actor, text, nonce, "answer", viewer)
    except IntegrityError:  # the same form submitted twice at once: the other one sent it
        return AnswerResult(0, duplicate=True)


def queue_answer(
    uow: UnitOfWork,
    incident: Incident,
    actor: Actor,
    text: str,
    nonce: str | None,
    kind: str,
    viewer: Viewer | None,
) -> AnswerResult:
    """Write ``text`` on every target ticket and queue it, inside the caller's transaction."""
    s = uow.session
    if nonce:
        if s.scalar(select(IncidentAnswer.id).where(IncidentAnswer.nonce == nonce)) is not None:
            return AnswerResult(0, duplicate=True)
    else:
        nonce = secrets.token_hex(16)
    record = IncidentAnswer(
        incident_id=incident.id,
        nonce=nonce[:64],
        kind=kind,
        text=text,
        agent_id=actor.id if actor.kind == "agent" else None,
        created_at=uow.now,
    )
    s.add(record)
    s.flush()  # the unique nonce is claimed first: a concurrent twin waits here, then fails
    tickets = _targets(s, incident.id, viewer, lock=True)
    carriers = _carriers(uow.svc, tickets)
    for ticket in tickets:
        message = _add_message(uow, ticket, actor, "outbound", text, None, "reply")
        if ticket.id in carriers:
            message.delivery_state = "queued"
            uow.queue_outbound(ticket, ticket.channel, "reply", message_id=message.id)
        else:
            message.delivery_state = SHARED
        if ticket.first_response_at is None and actor.kind == "agent":
            ticket.first_response_at = uow.now
        if ticket.status == "new":
            _change_status(uow, ticket, actor, "open")
        s.flush()
        _announce_message(uow, ticket, message)
    record.tickets = len(tickets)
    uow.audit(
        actor,
        f"incident.{kind}",
        None,
        None,
        {"answer": record.id, "tickets": len(tickets), "messages": len(carriers)},
        subject_id=incident.id,
    )
    if not tickets and kind == "answer":
        raise InvalidChange("no linked ticket to answer")
    return AnswerResult(len(tickets), len(carriers))
