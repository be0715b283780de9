"""Article writes, votes and import/export: one commit each, then the index is told."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import case, func, select

from helpdesk.models import Article, ArticleFeedback
from helpdesk.services import Services
from knowledge_base.io import ArticleRecord
from triage.text import detect_script

__all__ = [
    "ArticleInput",
    "InvalidArticle",
    "save_article",
    "delete_article",
    "set_archived",
    "record_feedback",
    "feedback_counts",
    "import_records",
    "export_records",
    "parse_tags",
]

MAX_TITLE = 200
MAX_BODY = 100_000
MAX_TAGS = 20


class InvalidArticle(ValueError):
    """The form or import row cannot be saved; the message says why (translatable)."""


@dataclass
class ArticleInput:
    title: str
    body: str
    language: str = "sr"
    tags: list[str] | None = None
    category: str = ""
    status: str = "draft"
    script: str = ""
    sample: bool = False


def parse_tags(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for tag in text.split(","):
        tag = " ".join(tag.split())[:40]
        if tag:
            seen.setdefault(tag, None)
    return list(seen)[:MAX_TAGS]


def _validate(data: ArticleInput) -> ArticleInput:
    title = " ".join(data.title.split())
    body = data.body.replace("\r\n", "\n").strip()
    if not title:
        raise InvalidArticle("title")
    if not body:
        raise InvalidArticle("body")
    if len(title) > MAX_TITLE:
        raise InvalidArticle("title_length")
    if len(body) > MAX_BODY:
        raise InvalidArticle("body_length")
    if data.language not in ("sr", "en"):
        raise InvalidArticle("language")
    if data.status not in ("draft", "published"):
        raise InvalidArticle("status")
    script = data.script
    if data.language == "sr" and script not in ("latn", "cyrl"):
        script = "cyrl" if detect_script(f"{title} {body}") == "cyrl" else "latn"
    if data.language == "en":
        script = "latn"
    return ArticleInput(
        title=title,
        body=body + "\n",
        language=data.language,
        tags=parse_tags(",".join(data.tags or [])),
        category=" ".join(data.category.split())[:64],
        status=data.status,
        script=script,
        sample=data.sample,
    )


def _kb_service(svc: Services) -> object | None:
    return svc.kb if hasattr(svc.kb, "article_saved") else None


def save_article(
    svc: Services, data: ArticleInput, article_id: int | None = None, author_id: int | None = None
) -> Article:
    """Create (article_id None) or update an article; raises InvalidArticle, LookupError."""
    clean = _validate(data)
    now = svc.clock.now()
    with svc.db.transaction() as s:
        if article_id is None:
            article = Article(created_at=now, author_id=author_id)
            s.add(article)
        else:
            found = s.get(Article, article_id)
            if found is None:
                raise LookupError(article_id)
            article = found
        article.title = clean.title
        article.body = clean.body
        article.language = clean.language
        article.script = clean.script
        article.tags = clean.tags or []
        article.category = clean.category
        article.status = clean.status
        article.sample = clean.sample
        article.updated_at = now
        if author_id is not None:
            article.author_id = author_id
        s.flush()
        s.expunge(article)
    kb = _kb_service(svc)
    if kb is not None:
        kb.article_saved(article)  # type: ignore[attr-defined]
    return article


def delete_article(svc: Services, article_id: int) -> bool:
    with svc.db.transaction() as s:
        article = s.get(Article, article_id)
        if article is None:
            return False
        s.delete(article)
    kb = _kb_service(svc)
    if kb is not None:
        kb.article_deleted(article_id)  # type: ignore[attr-defined]
    return True


def set_archived(svc: Services, article_id: int, archived: bool) -> Article | None:
    """Archive an article (gone from the help center and suggestions, kept for restoring) or
    restore it as a draft, to be read again before it is published. None: no such article."""
    with svc.db.transaction() as s:
        article = s.get(Article, article_id)
        if article is None:
            return None
        if archived:
            article.status = "archived"
        elif article.status == "archived":
            article.status = "draft"
        article.updated_at = svc.clock.now()
        s.flush()
        s.expunge(article)
    kb = _kb_service(svc)
    if kb is not None:
        kb.article_saved(article)  # type: ignore[attr-defined]  # indexed as unpublished
    return article


def record_feedback(svc: Services, article_id: int, helpful: bool) -> bool:
    """Count one anonymous vote on a published article; False when there is no such article."""
    with svc.db.transaction() as s:
        article = s.get(Article, article_id)
        if article is None or article.status != "published":
            return False
        s.add(ArticleFeedback(article_id=article_id, helpful=helpful, created_at=svc.clock.now()))
    return True


def feedback_counts(svc: Services, article_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """article id -> (helpful, not helpful)."""
    ids = list(article_ids)
    if not ids:
        return {}
    with svc.db.session() as s:
        rows = s.execute(
            select(
                ArticleFeedback.article_id,
                func.sum(case((ArticleFeedback.helpful.is_(True), 1), else_=0)),
                func.sum(case((ArticleFeedback.helpful.is_(False), 1), else_=0)),
            )
            .where(ArticleFeedback.article_id.in_(ids))
            .group_by(ArticleFeedback.article_id)
        ).all()
    return {int(a): (int(y or 0), int(n or 0)) for a, y, n in rows}


def import_records(svc: Services, records: Iterable[ArticleRecord], author_id: int | None = None) -> int:
    """Add every record in one transaction (all or nothing), then reindex them."""
    now = svc.clock.now()
    added: list[Article] = []
    with svc.db.transaction() as s:
        for n, record in enumerate(records, 1):
            try:
                clean = _validate(
                    ArticleInput(
                        title=record.title,
                        body=record.body,
                        language=record.language,
                        tags=record.tags,
                        category=record.category,
                        status=record.status,
                        script=record.script,
                        sample=record.sample,
                    )
                )
            except InvalidArticle as exc:
                raise InvalidArticle(f"record {n}: {exc}") from exc
            article = Article(
                title=clean.title,
                body=clean.body,
                language=clean.language,
                script=clean.script,
                tags=clean.tags or [],
                category=clean.category,
                status=clean.status,
                sample=clean.sample,
                author_id=author_id,
                created_at=now,
                updated_at=now,
            )
            s.add(article)
            added.append(article)
        s.flush()
        for article in added:
            s.expunge(article)
    kb = _kb_service(svc)
    if kb is not None and added:
        kb.sync(force=True)  # type: ignore[attr-defined]
    return len(added)


def export_records(svc: Services, include_drafts: bool = True) -> Iterator[ArticleRecord]:
    with svc.db.session() as s:
        stmt = select(Article).order_by(Article.id)
        if not include_drafts:
            stmt = stmt.where(Article.status == "published")
        for a in s.scalars(stmt):
            yield ArticleRecord(
                title=a.title,
                body=a.body,
                language=a.language,
                tags=list(a.tags or []),
                category=a.category,
                script=a.script if a.language == "sr" else "",
                status=a.status,
                sample=a.sample,
            )
