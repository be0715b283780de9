"""Knowledge-base articles and the citizens' "was this helpful?" votes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.models.base import Base, JSONType, utcnow

ARTICLE_STATUSES = ("draft", "published", "archived")  # archived: deleted, restorable
ARTICLE_LANGUAGES = ("sr", "en")
ARTICLE_SCRIPTS = ("latn", "cyrl")


class Article(Base):
    __tablename__ = "kb_articles"
    __table_args__ = (Index("ix_kb_articles_status_language", "status", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)  # Markdown; rendered with nh3 sanitizing
    language: Mapped[str] = mapped_column(String(10), default="sr")
    script: Mapped[str] = mapped_column(String(10), default="latn")
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    category: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(12), default="draft")
    sample: Mapped[bool] = mapped_column(default=False)  # demo content, shown as such
    author_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    @property
    def published(self) -> bool:
        return self.status == "published"


class KbCategory(Base):
    """A help-center category: the key articles carry, and the names readers see.

    Serbian Cyrillic may be left empty: it is then the Latin name transliterated.
    """

    __tablename__ = "kb_categories"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_sr_latn: Mapped[str] = mapped_column(String(100))
    name_sr_cyrl: Mapped[str] = mapped_column(String(100), default="")
    name_en: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleFeedback(Base):
    """One anonymous vote: no contact, no IP address, only the answer and the time."""

    __tablename__ = "kb_article_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True)
    helpful: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
