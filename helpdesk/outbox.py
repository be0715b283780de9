"""The outbox in the store: claiming due items safely, building envelopes, recording outcomes.

Claiming is a conditional ``UPDATE ... WHERE status = 'pending'`` (only one claimer sees rowcount 1,
on any database), preceded on PostgreSQL by ``SELECT ... FOR UPDATE SKIP LOCKED`` so that several
workers don't even try the same rows. The write transaction is opened only when a read found an
item due: a poll with nothing to send takes no write lock. A dispatcher claims one item at a time,
just before sending it, so a crash holds only the item that was in flight: at once free again when
the dead process was on this host, after ``STALE_CLAIM`` (about the relay's send timeout) when it
was elsewhere.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from helpdesk.claims import holder_gone
from helpdesk.events import event, room_for_ticket
from helpdesk.models import Agent, AgentSignature, Message, OutboxItem, Ticket
from helpdesk.outbound import Envelope, QuotedMessage, SendResult, TranscriptLine, survey_url
from helpdesk.services import Services
from helpdesk.tickets.serialize import iso, message_dict, ticket_dict
from helpdesk.tickets.types import Actor
from helpdesk.tickets.uow import UnitOfWork, unit_of_work

log = logging.getLogger(__name__)

# A worker that died mid-send: its item is taken again. Twice the relay's 30 s socket timeout, so a
# slow but living send is not taken from under it.
STALE_CLAIM = timedelta(seconds=60)
IDENTITY_FOR_CHANNEL = {
    "email": "email",
    "web": "email",
    "sms": "phone",
    "phone": "phone",
    "chat": "chat",
}


def can_reach(svc: Services, channel: str, addresses: dict[str, str]) -> bool:
    """Whether a reply on ``channel`` can reach a contact with these identities.

    A sender may answer itself (``reaches``: the web form's sender tries email, then SMS);
    otherwise the contact needs the identity the channel sends to.
    """
    sender = svc.senders.get(channel)
    if sender is None:
        return False
    reaches = getattr(sender, "reaches", None)
    if callable(reaches):
        return bool(reaches(addresses))
    return bool(addresses.get(IDENTITY_FOR_CHANNEL.get(channel, "")))


def delivery_address(svc: Services, channel: str, addresses: dict[str, str]) -> str | None:
    """Where a message on ``channel`` to a contact with these identities lands, as one string
    (the kind of address and the address), so two messages that would reach the same inbox or
    phone can be told apart from two that reach different ones. None when the core cannot tell
    (a sender whose address kind it does not know): such messages are never treated as one."""
    sender = svc.senders.get(channel)
    delivers_by = getattr(sender, "delivers_by", None)
    if callable(delivers_by):  # the web form's sender answers by email or SMS
        via = delivers_by(addresses)
        if isinstance(via, str) and via != channel:
            return delivery_address(svc, via, addresses)
    kind = IDENTITY_FOR_CHANNEL.get(channel, "")  # "sms" and "phone" both text the number
    value = addresses.get(kind)
    return f"{kind}:{value.strip().lower()}" if value else None


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min ... capped at one hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def claim_due(svc: Services, worker: str, limit: int = 1) -> list[int]:
    now = svc.clock.now()
    due = or_(
        (OutboxItem.status == "pending") & (OutboxItem.next_attempt_at <= now),
        (OutboxItem.status == "sending") & (OutboxItem.claimed_at < now - STALE_CLAIM),
    )
    candidates = select(OutboxItem.id).where(due).order_by(OutboxItem.id).limit(limit)
    # A read first: an idle poll (every few seconds, in every process that runs a dispatcher) must
    # not take SQLite's write lock, which a citizen's message would wait for. Under WAL a read
    # waits for no writer; the claim below checks again, in the write transaction.
    with svc.db.session() as s:
        if s.scalar(candidates) is None:
            return []
    claimed: list[int] = []
    with svc.db.transaction() as s:
        if svc.db.dialect == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        for item_id in s.scalars(candidates).all():
            result = s.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item_id, due)
                .values(
                    status="sending",
                    claimed_by=worker,
                    claimed_at=now,
                    attempts=OutboxItem.attempts + 1,
                )
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(item_id)
    return claimed


def release_abandoned(svc: Services) -> int:
    """Items in flight in a process on this host that is gone (SIGKILL): due again at once."""
    now = svc.clock.now()
    with svc.db.session() as s:
        sending = s.execute(
            select(OutboxItem.id, OutboxItem.claimed_by, OutboxItem.claimed_at).where(
                OutboxItem.status == "sending"
            )
        ).all()
    dead = [r.id for r in sending if holder_gone(r.claimed_by, r.claimed_at, now, STALE_CLAIM)]
    if not dead:
        return 0
    with svc.db.transaction() as s:
        result = s.execute(
            update(OutboxItem)
            .where(OutboxItem.id.in_(dead), OutboxItem.status == "sending")
            .values(status="pending", next_attempt_at=now, claimed_by=None)
        )
    log.warning("took back %s outbox item(s) of a dispatcher that is gone", len(dead))
    return int(result.rowcount)  # type: ignore[attr-defined]


def fix_external_id(svc: Services, item_id: int, proposed: str) -> str:
    """The item's channel id (Message-ID): the first one ever proposed for it, kept for resends."""
    with svc.db.transaction() as s:
        s.execute(
            update(OutboxItem)
            .where(OutboxItem.id == item_id, OutboxItem.external_id.is_(None))
            .values(external_id=proposed[:255])
        )
        return s.scalar(select(OutboxItem.external_id).where(OutboxItem.id == item_id)) or proposed


def build_envelope(svc: Services, session: Session, item: OutboxItem) -> Envelope:
    ticket = session.get_one(Ticket, item.ticket_id)
    contact = ticket.contact
    addresses = {i.kind: i.value for i in contact.identities}
    message = session.get(Message, item.message_id) if item.message_id else None
    agent = session.get(Agent, message.agent_id) if message and message.agent_id else None
    thread = session.scalars(
        select(Message.external_id)
        .where(
            Message.ticket_id == ticket.id,
            Message.channel == item.channel,
            Message.external_id.is_not(None),
        )
        .order_by(Message.seq)
    ).all()
    links = {"ticket": f"{svc.settings.public_url}/help"}
    if item.kind == "survey":
        # dated when queued (at resolution), so a retried mail carries the very same link
        settings = svc.settings
        links["survey"] = survey_url(settings.public_url, settings.secret_key, ticket.id, item.created_at)
    transcript: tuple[TranscriptLine, ...] = ()
    if item.kind == "transcript":
        transcript = tuple(
            TranscriptLine(_author(session, m, contact.name), iso(m.created_at) or "", m.text)
            for m in ticket.messages
            if m.direction != "note"
        )
    signature, quoted = "", None
    if item.kind == "reply" and message is not None:
        signature = _signature(session, message.agent_id, ticket.language or contact.language, ticket.script)
        quoted = _answered(session, message, contact.name)
    return Envelope(
        item_id=item.id,
        kind=item.kind,
        channel=item.channel,
        ticket_reference=ticket.reference,
        subject=ticket.subject,
        to_address=item.payload.get("to") or addresses.get(IDENTITY_FOR_CHANNEL.get(item.channel, "")),
        to_name=contact.name,
        text=message.text if message else "",
        html=message.html if message else None,
        language=ticket.language or contact.language or "sr",
        script=ticket.script or contact.script or "latn",
        thread_external_ids=tuple(t for t in thread if t),
        message_id=message.id if message else None,
        reply_token=ticket.reply_token,
        agent_name=agent.name if agent else None,
        links=links,
        addresses=addresses,
        payload=dict(item.payload),
        transcript=transcript,
        signature=signature,
        quoted=quoted,
        external_id=item.external_id,
    )


def _signature(session: Session, agent_id: int | None, language: str | None, script: str | None) -> str:
    """The agent's signature for the ticket's language; Cyrillic falls back to the Latin one,
    transliterated, so an agent who wrote one Serbian signature signs in both scripts."""
    if agent_id is None:
        return ""
    wanted = "en" if (language or "sr").startswith("en") else (
        "sr-Cyrl" if (script or "").lower().startswith("cyr") else "sr-Latn"
    )
    found = {
        sig.language: sig.text
        for sig in session.scalars(select(AgentSignature).where(AgentSignature.agent_id == agent_id))
    }
    if wanted in found:
        return found[wanted]
    if wanted == "sr-Cyrl" and "sr-Latn" in found:
        from triage.text import to_cyrillic  # the one owner of Serbian script conversion

        return to_cyrillic(found["sr-Latn"])
    return ""


def _answered(session: Session, reply: Message, contact_name: str | None) -> QuotedMessage | None:
    """The citizen's latest message before this reply (what a mail client quotes)."""
    original = session.scalar(
        select(Message)
        .where(
            Message.ticket_id == reply.ticket_id,
            Message.direction == "inbound",
            Message.seq < reply.seq,
        )
        .order_by(Message.seq.desc())
        .limit(1)
    )
    if original is None or not original.text.strip():
        return None
    return QuotedMessage(contact_name, original.created_at, original.text)


def _author(session: Session, message: Message, contact_name: str | None) -> str:
    if message.agent_id:
        agent = session.get(Agent, message.agent_id)
        return agent.name if agent else "Agent"
    return contact_name or "Citizen" if message.direction == "inbound" else "Helpdesk"


def mark_sent(svc: Services, item_id: int, result: SendResult) -> None:
    with unit_of_work(svc) as uow:
        item = uow.session.get_one(OutboxItem, item_id)
        item.status = "sent"
        item.sent_at = uow.now
        item.last_error = None
        if item.message_id:
            message = uow.session.get_one(Message, item.message_id)
            message.delivery_state = result.state
            if result.external_id:
                message.external_id = result.external_id
            _announce(uow, message)


def mark_failed(svc: Services, item_id: int, error: str, *, retry: bool) -> None:
    """Retry later with backoff, or give up and show the failure on the ticket."""
    with unit_of_work(svc) as uow:
        item = uow.session.get_one(OutboxItem, item_id)
        item.last_error = error[:2000]
        if retry and item.attempts < svc.settings.outbox_max_attempts:
            item.status = "pending"
            item.next_attempt_at = uow.now + backoff(item.attempts)
            return
        item.status = "failed"
        ticket = uow.session.get_one(Ticket, item.ticket_id)
        uow.audit(Actor.system("outbox"), "outbox.failed", ticket, after={"item": item.id, "error": error})
        if item.message_id:
            message = uow.session.get_one(Message, item.message_id)
            message.delivery_state = "failed"
            message.delivery_error = error[:2000]
            _announce(uow, message)


def _announce(uow: UnitOfWork, message: Message) -> None:
    ticket = message.ticket
    uow.emit(
        event(
            "message.updated",
            room_for_ticket(ticket.reference),
            ticket=ticket_dict(ticket),
            message=message_dict(message),
        )
    )
