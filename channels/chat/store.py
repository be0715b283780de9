"""What the chat channel reads and writes besides the core operations (visitors, history)."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from helpdesk.models import Agent, ContactIdentity, Message, Ticket
from helpdesk.models.chat import ChatVisitor
from helpdesk.services import Services
from helpdesk.tickets.serialize import iso

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
PRESENCE = timedelta(seconds=90)  # a connected page heartbeats every 30 s
AGENT_PRESENCE = timedelta(minutes=2)
LANGUAGES = {"sr-Latn": ("sr", "latn"), "sr-Cyrl": ("sr", "cyrl"), "en": ("en", "latn")}


def new_token() -> str:
    return secrets.token_urlsafe(32)


def valid_token(token: object) -> bool:
    return isinstance(token, str) and TOKEN_RE.match(token) is not None


def token_hash(token: str) -> str:
    # Only the hash is stored: a database reader cannot take over a citizen's conversation.
    return hashlib.sha256(token.encode()).hexdigest()


def room_for_visitor(hashed: str) -> str:
    return f"visitor:{hashed}"


def current_ticket(svc: Services, hashed: str) -> Ticket | None:
    """The visitor's latest chat ticket (following merges), or None before the first message."""
    with svc.db.session() as s:
        ticket = s.scalar(
            select(Ticket)
            .join(ContactIdentity, ContactIdentity.contact_id == Ticket.contact_id)
            .where(
                ContactIdentity.kind == "chat",
                ContactIdentity.value == hashed,
                Ticket.channel == "chat",
            )
            .order_by(Ticket.id.desc())
            .limit(1)
        )
        for _ in range(10):
            if ticket is None or ticket.merged_into_id is None:
                break
            ticket = s.get(Ticket, ticket.merged_into_id)
        if ticket is not None:
            s.expunge(ticket)
        return ticket


def citizen_message(msg: Message, reference: str, author: str | None) -> dict[str, Any]:
    """The shape a citizen sees: no internal fields, no agent ids."""
    return {
        "id": msg.id,
        "seq": msg.seq,
        "reference": reference,
        "direction": "inbound" if msg.direction == "inbound" else "outbound",
        "kind": msg.kind,
        "text": msg.text,
        "author": author,
        "created_at": iso(msg.created_at),
        "client_id": msg.client_id if msg.direction == "inbound" else None,
    }


def history(svc: Services, ticket_id: int, reference: str, after: int) -> list[dict[str, Any]]:
    """Messages the citizen may see, after sequence number ``after`` (notes are never included)."""
    with svc.db.session() as s:
        rows = s.execute(
            select(Message, Agent.name)
            .outerjoin(Agent, Agent.id == Message.agent_id)
            .where(
                Message.ticket_id == ticket_id,
                Message.seq > after,
                Message.direction.in_(("inbound", "outbound")),
            )
            .order_by(Message.seq)
            .limit(1000)
        ).all()
        return [citizen_message(m, reference, name) for m, name in rows]


def message_for_citizen(svc: Services, message_id: int) -> dict[str, Any] | None:
    with svc.db.session() as s:
        row = s.execute(
            select(Message, Agent.name, Ticket.reference)
            .join(Ticket, Ticket.id == Message.ticket_id)
            .outerjoin(Agent, Agent.id == Message.agent_id)
            .where(Message.id == message_id)
        ).first()
        if row is None or row[0].direction == "note":
            return None
        return citizen_message(row[0], row[2], row[1])


def last_agent_name(svc: Services, ticket_id: int) -> str | None:
    with svc.db.session() as s:
        return s.scalar(
            select(Agent.name)
            .join(Message, Message.agent_id == Agent.id)
            .where(Message.ticket_id == ticket_id, Message.direction == "outbound")
            .order_by(Message.seq.desc())
            .limit(1)
        )


def agents_online(svc: Services, now: datetime) -> bool:
    with svc.db.session() as s:
        count = s.scalar(
            select(func.count(Agent.id)).where(
                Agent.active.is_(True),
                Agent.online.is_(True),
                Agent.last_seen_at >= now - AGENT_PRESENCE,
            )
        )
        return bool(count)


def touch_visitor(
    svc: Services,
    hashed: str,
    now: datetime,
    *,
    present: bool | None = True,
    create: bool = True,
    name: str | None = None,
    email: str | None = None,
    language: str | None = None,
) -> None:
    """Create or update the visitor row; ``present=False`` marks the page gone.

    Skips the write when nothing would change (presence is refreshed at most every 30 s), so a
    chatty citizen costs one write transaction per message, not two.
    """
    with svc.db.session() as s:
        known = s.get(ChatVisitor, hashed)
        if known is None and not create:
            return
        if known is not None and not _changes(known, now, present, name, email, language):
            return
    with svc.db.transaction() as s:
        visitor = s.get(ChatVisitor, hashed)
        if visitor is None:
            if not create:
                return
            visitor = ChatVisitor(token_hash=hashed, created_at=now)
            s.add(visitor)
        if present is True:
            visitor.present_until = now + PRESENCE
        elif present is False:
            visitor.present_until = None
        visitor.name = name or visitor.name
        visitor.email = email or visitor.email
        visitor.language = language or visitor.language
        visitor.updated_at = now


def _changes(
    v: ChatVisitor,
    now: datetime,
    present: bool | None,
    name: str | None,
    email: str | None,
    language: str | None,
) -> bool:
    if (name and name != v.name) or (email and email != v.email):
        return True
    if language and language != v.language:
        return True
    if present is False:
        return v.present_until is not None
    if present is True:
        return v.present_until is None or v.present_until < now + PRESENCE - timedelta(seconds=30)
    return False


def visitors_of_ticket(svc: Services, reference: str) -> tuple[list[ChatVisitor], str | None]:
    """The chat visitors who own a ticket, and an email address the contact left (if any)."""
    with svc.db.session() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.reference == reference))
        if ticket is None:
            return [], None
        hashes = s.scalars(
            select(ContactIdentity.value).where(
                ContactIdentity.contact_id == ticket.contact_id, ContactIdentity.kind == "chat"
            )
        ).all()
        visitors = list(s.scalars(select(ChatVisitor).where(ChatVisitor.token_hash.in_(hashes))).all())
        for v in visitors:
            s.expunge(v)
        email = next(
            (v.email for v in sorted(visitors, key=lambda v: v.updated_at, reverse=True) if v.email),
            None,
        )
        if email is None:
            email = s.scalar(
                select(ContactIdentity.value).where(
                    ContactIdentity.contact_id == ticket.contact_id, ContactIdentity.kind == "email"
                )
            )
        return visitors, email
