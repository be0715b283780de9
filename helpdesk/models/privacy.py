"""Personal values kept apart from the text they were written in, encrypted (helpdesk.privacy)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
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
