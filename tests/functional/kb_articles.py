"""The starter knowledge-base articles, published, in a test server's database (chat suggestions)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

STARTER = Path(__file__).resolve().parents[2] / "knowledge_base" / "data" / "starter_articles.jsonl"


def publish_starter_articles(env: dict[str, str]) -> None:
    """Written before the server starts; it indexes them from the database on its first search."""
    from helpdesk.db import Database
    from helpdesk.models import Article
    from helpdesk.settings import Settings
    from knowledge_base.io import read_articles

    db = Database(Settings.from_env(env).database_url)
    with db.transaction() as s:
        for r in read_articles(STARTER):
            s.add(
                Article(
                    title=r.title,
                    body=r.body,
                    language=r.language,
                    script=r.script or "latn",
                    tags=r.tags,
                    category=r.category,
                    status="published",
                    sample=True,
                )
            )
    db.engine.dispose()


def ticket_row(env: dict[str, str], reference: str | None = None) -> dict[str, Any]:
    """What the store says about a ticket's deflection (the newest ticket without a reference)."""
    from helpdesk.db import Database
    from helpdesk.models import Ticket
    from helpdesk.settings import Settings

    db = Database(Settings.from_env(env).database_url)
    try:
        with db.session() as s:
            if reference is None:
                t = s.scalar(select(Ticket).order_by(Ticket.id.desc()).limit(1))
            else:
                t = s.scalar(select(Ticket).where(Ticket.reference == reference))
            assert t is not None, reference
            return {"status": t.status, "deflected": t.deflected, "kb_suggested": t.kb_suggested}
    finally:
        db.engine.dispose()
