"""Mail accepted over SMTP and not yet turned into tickets: the spool (DESIGN.md §7).

The SMTP server's 250 means "this row is committed"; a worker turns each row into core calls and
deletes it. A row that can never be processed stays, status ``failed`` with its raw mail, for an
administrator to look at (`helpdesk mail spool`): nothing accepted is lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.models.base import Base, utcnow

SPOOL_STATES = ("pending", "working", "failed")


class MailSpoolItem(Base):
    __tablename__ = "mail_spool"
    __table_args__ = (
        Index("ix_mail_spool_due", "status", "next_attempt_at"),
        Index("ix_mail_spool_sender", "sender_key", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)  # arrival order
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    mail_from: Mapped[str] = mapped_column(String(512), default="")  # the envelope sender
    rcpt_tos: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"to": [...]}
    sender_key: Mapped[str] = mapped_column(String(512), default="")  # per-sender order
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
