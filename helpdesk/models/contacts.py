"""Contacts: one citizen across channels, found by any of their identities."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.models.base import Base, utcnow

IDENTITY_KINDS = ("email", "phone", "chat")


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        # The few merged contacts only: the name search maps its hits to their targets with a
        # probe of this index instead of a read of every hit's row.
        Index(
            "ix_contacts_merged",
            "id",
            "merged_into_id",
            sqlite_where=text("merged_into_id IS NOT NULL"),
            postgresql_where=text("merged_into_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(10))  # sr | en
    script: Mapped[str | None] = mapped_column(String(10))  # latn | cyrl
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    sms_opt_out: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    identities: Mapped[list[ContactIdentity]] = relationship(
        back_populates="contact", cascade="all, delete-orphan"
    )

    def identity(self, kind: str) -> str | None:
        return next((i.value for i in self.identities if i.kind == kind), None)


class ContactIdentity(Base):
    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    contact: Mapped[Contact] = relationship(back_populates="identities")
