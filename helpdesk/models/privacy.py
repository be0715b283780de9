"""Personal values kept apart from the text they were written in, encrypted (helpdesk.privacy)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.models.base import Base, utcnow
from helpdesk.models.tickets import Message


class SensitiveValue(Base):
    """One full value (a JMBG) a message held: the message's stored text has it masked."""

    __tablename__ = "sensitive_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # jmbg
    ciphertext: Mapped[str] = mapped_column(Text)  # Fernet token (AES-128-CBC + HMAC-SHA256)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    message: Mapped[Message] = relationship()


class RetentionRule(Base):
    """How long a queue's or a category's finished tickets keep their personal data.

    ``days`` NULL: kept (overrides the default from HELPDESK_RETENTION_DAYS for that queue or
    category). When several rules match a ticket the shortest period wins.
    """

    __tablename__ = "retention_rules"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))  # queue | category
    key: Mapped[str] = mapped_column(String(64))
    days: Mapped[int | None]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnonymizedTicket(Base):
    """A ticket whose personal data is gone (its figures stay on the ticket row)."""

    __tablename__ = "anonymized_tickets"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(String(10))  # retention | erasure


class AccessLogEntry(Base):
    """Who looked at which contact's data: a ticket page, a contact page, an export, a reveal.

    No foreign key to the contact or ticket: the record outlives an erasure (it then names only
    numbers, which is what the office must still be able to show)."""

    __tablename__ = "privacy_access_log"
    __table_args__ = (
        Index("ix_privacy_access_log_contact_at", "contact_id", "at"),
        Index("ix_privacy_access_log_agent_at", "agent_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))  # ticket | contact | export | reveal | erasure
    contact_id: Mapped[int | None]
    ticket_id: Mapped[int | None]
    reference: Mapped[str | None] = mapped_column(String(20))
