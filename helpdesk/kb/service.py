"""The KnowledgeBase service: the Whoosh index kept in step with the kb_articles table.

The database is the truth; every node keeps its own index under its data directory. A
write in this process is indexed at once (``article_saved``); writes made by other nodes
are picked up by ``sync``, which a search runs at most every ``sync_seconds``: it reads
(id, updated_at, status) of every article and compares them with the versions indexed
(kept in memory), so clock skew between nodes cannot hide an edit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from helpdesk.db import Database
from helpdesk.models import Article
from helpdesk.services import KbHit
from knowledge_base import KbDocument, KbIndex, SearchHit

log = logging.getLogger(__name__)

__all__ = ["WhooshKnowledgeBase", "article_document", "article_path"]


def article_path(article_id: int) -> str:
    return f"/help/articles/{article_id}"


def _version(updated_at: datetime | None, status: str) -> str:
    return f"{updated_at.isoformat() if updated_at else ''}|{status}"


def article_document(article: Article, public_url: str = "") -> KbDocument:
    return KbDocument(
        id=str(article.id),
        title=article.title,
        body=article.body,
        language=article.language,
        script=article.script or "",
        tags=list(article.tags or []),
        category=article.category or "",
        published=article.status == "published",
        url=public_url.rstrip("/") + article_path(article.id),
        version=_version(article.updated_at, article.status),
    )


class WhooshKnowledgeBase:
    """Implements ``services.kb.search``; also what the console and the CLI use."""

    def __init__(
        self,
        db: Database,
        index_dir: Path | None,
        public_url: str = "",
        sync_seconds: float = 5.0,
    ) -> None:
        self.db = db
        self.public_url = public_url
        self.index = KbIndex(index_dir)
        self.sync_seconds = sync_seconds
        self._sync_lock = threading.Lock()
        self._last_check = 0.0
        self._versions: dict[str, str] | None = None  # what the index holds, id -> version

    # -- the Protocol ---------------------------------------------------------------------

    def search(self, query: str, language: str | None = None, limit: int = 5) -> list[KbHit]:
        """Published articles best matching query (the citizen chat and the public API)."""
        return [
            KbHit(id=int(h.id), title=h.title, snippet=h.snippet, score=h.score, url=h.url)
            for h in self.search_hits(query, language, limit)
        ]

    def search_hits(
        self,
        query: str,
        language: str | None = None,
        limit: int = 5,
        include_drafts: bool = False,
    ) -> list[SearchHit]:
        self.sync()
        try:
            return self.index.search(
                query[:1000], language=language, limit=limit, published_only=not include_drafts
            )
        except Exception:  # noqa: BLE001 - a broken index must not break a ticket view or a chat
            log.exception("knowledge-base search failed")
            return []

    # -- keeping in step ------------------------------------------------------------------

    def sync(self, force: bool = False) -> int:
        """Index what changed in the database since the last look; returns the changes."""
        now = time.monotonic()
        if not force and now - self._last_check < self.sync_seconds:
            return 0
        if not self._sync_lock.acquire(blocking=force):
            return 0  # another thread is syncing; its result serves this search too
        try:
            self._last_check = now
            return self._apply_changes()
        finally:
            self._sync_lock.release()

    def _apply_changes(self) -> int:
        if self._versions is None:
            self._versions = self.index.versions()
        indexed = self._versions
        with self.db.session() as s:
            rows = s.execute(select(Article.id, Article.updated_at, Article.status)).all()
            current = {str(i): _version(u, st) for i, u, st in rows}
            stale = [int(i) for i, v in current.items() if indexed.get(i) != v]
            docs = []
            for start in range(0, len(stale), 500):
                chunk = stale[start : start + 500]
                docs += [
                    article_document(a, self.public_url)
                    for a in s.scalars(select(Article).where(Article.id.in_(chunk)))
                ]
        gone = [i for i in indexed if i not in current]
        if docs:
            self.index.upsert(docs)
            indexed.update((d.id, d.version) for d in docs)
        if gone:
            self.index.delete(gone)
            for i in gone:
                indexed.pop(i, None)
        return len(docs) + len(gone)

    def article_saved(self, article: Article) -> None:
        """Index one article right after its transaction committed."""
        doc = article_document(article, self.public_url)
        self.index.upsert([doc])
        if self._versions is not None:
            self._versions[doc.id] = doc.version

    def article_deleted(self, article_id: int) -> None:
        self.index.delete([str(article_id)])
        if self._versions is not None:
            self._versions.pop(str(article_id), None)

    def reindex(self, progress: Callable[[int], None] | None = None) -> int:
        """Rebuild the whole index from the database (``helpdesk kb reindex``)."""

        def documents() -> Iterable[KbDocument]:
            with self.db.session() as s:
                for article in s.scalars(select(Article).order_by(Article.id)).yield_per(500):
                    yield article_document(article, self.public_url)

        count = self.index.rebuild(documents(), progress=progress)
        self._versions = None  # re-read from the new index at the next sync
        return count

    def count_articles(self) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.count(Article.id))) or 0)
