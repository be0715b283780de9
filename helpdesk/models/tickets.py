"""Tickets, their messages and attachments."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.models.base import Base, utcnow
from helpdesk.models.contacts import Contact

STATUSES = ("new", "open", "pending", "resolved", "closed")
OPEN_STATUSES = ("new", "open", "pending")
PRIORITIES = ("low", "normal", "high", "urgent")
CHANNELS = ("email", "chat", "phone", "sms", "web", "viber")
DIRECTIONS = ("inbound", "outbound", "note")
DELIVERY_STATES = ("queued", "sent", "delivered", "failed")


class TicketCounter(Base):
    """The last reference number handed out per year: references are never reused."""

    __tablename__ = "ticket_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_queue_status", "queue", "status"),
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
        Index("ix_tickets_contact_status", "contact_id", "status"),
        # A contact's tickets newest first from the index alone (name search); neither column
        # changes on an ordinary update, so PostgreSQL's HOT updates are not lost to it.
        Index("ix_tickets_contact_id", "contact_id", "id"),
        Index("ix_tickets_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    subject: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12), default="new")
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    channel: Mapped[str] = mapped_column(String(10))
    category: Mapped[str | None] = mapped_column(String(40))
    queue: Mapped[str] = mapped_column(String(64), default="triage")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    language: Mapped[str | None] = mapped_column(String(10))
    script: Mapped[str | None] = mapped_column(String(10))
    triage_confidence: Mapped[float | None]
    complaint: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    first_response_due_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    sla_paused_at: Mapped[datetime | None]
    sla_paused_seconds: Mapped[int] = mapped_column(default=0)
    sla_breached_at: Mapped[datetime | None]
    deflected: Mapped[bool] = mapped_column(default=False)
    kb_suggested: Mapped[bool] = mapped_column(default=False)
    related_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    last_seq: Mapped[int] = mapped_column(default=0)
    reply_token: Mapped[str] = mapped_column(String(32), unique=True)
    csat_score: Mapped[int | None]
    csat_comment: Mapped[str | None] = mapped_column(Text)

    contact: Mapped[Contact] = relationship(lazy="joined")
    messages: Mapped[list[Message]] = relationship(
        back_populates="ticket", order_by="Message.seq", foreign_keys="Message.ticket_id"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        UniqueConstraint("ticket_id", "seq"),
        UniqueConstraint("ticket_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    seq: Mapped[int]
    direction: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(20), default="message")
    channel: Mapped[str] = mapped_column(String(10))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)  # sanitized before storage, never raw
    external_id: Mapped[str | None] = mapped_column(String(300))
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivery_state: Mapped[str | None] = mapped_column(String(10))
    delivery_error: Mapped[str | None] = mapped_column(Text)
    raw_path: Mapped[str | None] = mapped_column(String(300))  # the original (e.g. .eml) by sha256
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="messages", foreign_keys=[ticket_id])
    attachments: Mapped[list[Attachment]] = relationship(back_populates="message")


def new_public_id() -> str:
    """128 random bits: attachment URLs must not be guessable (ids are sequential)."""
    return secrets.token_urlsafe(16)


class Attachment(Base):
    """A file stored content-addressed under the data dir; served only by its random public id,
    and only to whoever may see its ticket (helpdesk.access)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str | None] = mapped_column(String(300))  # metadata only, never a path
    inline: Mapped[bool] = mapped_column(default=False)
    content_id: Mapped[str | None] = mapped_column(String(300))

    message: Mapped[Message] = relationship(back_populates="attachments")
