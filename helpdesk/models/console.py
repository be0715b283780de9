"""What agents keep in the console: saved list views, canned responses, signatures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.models.base import Base, utcnow


class SavedView(Base):
    """A named ticket-list filter of one agent (the URL arguments of the list, without the page)."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("agent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


CANNED_LANGUAGES = ("sr-Latn", "sr-Cyrl", "en")


class CannedResponse(Base):
    """A ready answer editors keep, in one language and script, with {citizen_name}, {reference}
    and {agent_name} filled in when an agent inserts it."""

    __tablename__ = "canned_responses"
    __table_args__ = (UniqueConstraint("language", "shortcut"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    shortcut: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentSignature(Base):
    """How an agent signs replies, per language and script (email replies carry it)."""

    __tablename__ = "agent_signatures"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(10), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
