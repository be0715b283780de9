"""Demo content for the knowledge base: the starter articles, marked as sample content."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from helpdesk.kb.store import import_records
from helpdesk.models import Article
from helpdesk.services import Services
from knowledge_base.io import read_articles

STARTER_ARTICLES = (
    Path(__file__).resolve().parent.parent.parent / "knowledge_base" / "data" / "starter_articles.jsonl"
)


def load_starter_articles(svc: Services) -> int:
    """Add the starter articles once (none are added when sample articles already exist)."""
    with svc.db.session() as s:
        if s.scalar(select(Article.id).where(Article.sample.is_(True)).limit(1)) is not None:
            return 0
    return import_records(svc, read_articles(STARTER_ARTICLES))
