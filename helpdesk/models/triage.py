"""Triage routing rules an administrator set: category -> queue, over the built-in defaults."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.models.base import Base, utcnow


class TriageRoute(Base):
    __tablename__ = "triage_routes"

    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    queue: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
