"""The incident tables: the incident, the tickets linked to it, the bulk answers sent for it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.models.base import Base, utcnow

INCIDENT_STATES = ("open", "closed")


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_status_starts_at", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))  # for staff: "eUprava login down"
    category: Mapped[str | None] = mapped_column(String(40))  # a triage category, or none
    keywords: Mapped[str] = mapped_column(Text, default="")  # comma-separated, matched folded
    notice_sr_latn: Mapped[str] = mapped_column(Text)
    notice_sr_cyrl: Mapped[str] = mapped_column(Text, default="")  # empty: transliterated
    notice_en: Mapped[str] = mapped_column(Text, default="")  # empty: the Serbian one
    status: Mapped[str] = mapped_column(String(10), default="open")
    starts_at: Mapped[datetime] = mapped_column(default=utcnow)
    expected_end_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))


class IncidentTicket(Base):
    """A ticket linked to an incident; a ticket belongs to at most one incident."""

    __tablename__ = "incident_tickets"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    matched_by: Mapped[str] = mapped_column(String(20))  # category | keyword | agent


class IncidentAnswer(Base):
    """One bulk answer (or the closing message). ``nonce`` is the form's: a second submit of
    the same form (a double click, a retried POST) finds it and sends nothing again."""

    __tablename__ = "incident_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # answer | closing
    text: Mapped[str] = mapped_column(Text)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    tickets: Mapped[int] = mapped_column(default=0)  # how many tickets it was queued on
