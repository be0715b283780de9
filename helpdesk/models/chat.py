"""Web chat visitors: what the chat channel knows about a browser beyond its contact identity."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.models.base import Base, utcnow


class ChatVisitor(Base):
    """One browser's chat token (stored only as a SHA-256 hash), its details and presence.

    ``present_until`` is pushed forward while the page is connected and cleared on disconnect, so
    every process (and the outbox worker) can tell whether a reply will be read live or must go by
    email; a crashed server's visitors simply expire.
    """

    __tablename__ = "chat_visitors"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str | None] = mapped_column(String(10))  # sr-Latn | sr-Cyrl | en
    present_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
