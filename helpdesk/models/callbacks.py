"""Callbacks (a citizen asked us to phone them in a time window) and contacts' accommodations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.models.base import Base, JSONType, utcnow

# pending: in the callback queue; the others are finished (no_answer: the attempts ran out).
CALLBACK_STATES = ("pending", "reached", "no_answer", "wrong_number")
CALLBACK_OUTCOMES = ("reached", "no_answer", "wrong_number")


class Callback(Base):
    __tablename__ = "callbacks"
    __table_args__ = (
        # The queue: pending callbacks by the start of their window, earliest first.
        Index("ix_callbacks_status_window", "status", "window_start"),
        Index("ix_callbacks_requested_at", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    # The request's message on the ticket: a request delivered twice (a Twilio retry, a
    # double-clicked form) finds its callback through it and makes no second one.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), unique=True)
    phone: Mapped[str] = mapped_column(String(40))  # E.164, the number to call
    source: Mapped[str] = mapped_column(String(10))  # the channel it was asked on
    status: Mapped[str] = mapped_column(String(12), default="pending")
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    # Every window the citizen chose, [[start, end], ...] ISO UTC; "no answer" moves to the next.
    windows: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    attempts: Mapped[int] = mapped_column(default=0)
    language: Mapped[str | None] = mapped_column(String(10))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]


class CallbackAttempt(Base):
    """One call an agent made and what came of it (the weekly figures count these)."""

    __tablename__ = "callback_attempts"
    __table_args__ = (Index("ix_callback_attempts_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callbacks.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(12))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)


class ContactAccommodation(Base):
    """What a citizen needs from us (a call rather than mail, plain language ...), one row each."""

    __tablename__ = "contact_accommodations"
    __table_args__ = (UniqueConstraint("contact_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    set_by: Mapped[str] = mapped_column(String(10))  # contact | agent
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
