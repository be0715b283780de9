"""What administrators manage besides agents and queues: ticket categories and service settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.models.base import Base, utcnow


class Category(Base):
    """A ticket category the triage model and agents use; `key` is internal, `names` are shown.

    `names` maps an interface language (sr-Latn, sr-Cyrl, en) to the name shown in it; a missing
    sr-Cyrl name is the sr-Latn one transliterated.
    """

    __tablename__ = "categories"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    names: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ServiceSetting(Base):
    """A service setting an administrator changed (business hours, holidays, SLA targets).

    It overrides the HELPDESK_* setting of the same name; the value uses the setting's syntax, so
    the same parser validates both.
    """

    __tablename__ = "service_settings"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
