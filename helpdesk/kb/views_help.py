"""Citizen self-service pages under /help: list, search, article, "was this helpful?"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.auth import public
from helpdesk.extensions import limiter
from helpdesk.i18n import current_language
from helpdesk.kb.categories import category_names, list_categories
from helpdesk.kb.common import LANGUAGE_LABELS, kb_service
from helpdesk.kb.reading import in_reader_script, lang_tag, reader_language, readers_first
from helpdesk.kb.store import record_feedback
from helpdesk.models import Article
from helpdesk.office import office
from helpdesk.services import current_services
from knowledge_base import render_markdown

bp = Blueprint("help", __name__, url_prefix="/help")

MAX_QUERY = 200
MAX_RELATED = 4


@dataclass(frozen=True)
class Shown:
    """An article or search hit as this reader sees it."""

    id: int
    title: str
    language: str
    lang_tag: str
    sample: bool = False
    snippet: Markup | None = None


def _language_filter() -> str:
    # "language", not "lang": ?lang= already chooses the interface language.
    value = request.args.get("language", "")
    return value if value in ("sr", "en") else ""


def _shown(article: Any, interface: str, demo: bool, snippet: str | None = None) -> Shown:
    script = article.script or "latn"
    return Shown(
        id=int(article.id),
        title=in_reader_script(article.title, article.language, script, interface),
        language=article.language,
        lang_tag=lang_tag(article.language, script, interface),
        sample=bool(getattr(article, "sample", False)) and demo,  # "sample" only in demo mode
        # The snippet is escaped text with <mark> tags, which the transliteration leaves alone.
        snippet=Markup(in_reader_script(snippet, article.language, script, interface))  # noqa: S704
        if snippet is not None
        else None,
    )


def _help_context() -> dict[str, Any]:
    """What every help page needs for "Still need help?"."""
    svc = current_services()
    return {
        "office": office(svc.settings, current_language(), svc.clock.now()),
        "ways": [e for e in ("chat.chat_page", "contact.form") if e in current_app.view_functions],
    }


@bp.get("")
@bp.get("/")
@public
def index() -> str:
    svc = current_services()
    interface = current_language()
    mine = reader_language(interface)
    q = " ".join(request.args.get("q", "").split())[:MAX_QUERY]
    language = _language_filter()
    hits: list[Shown] = []
    groups: list[tuple[str, list[Shown]]] = []
    if q:
        kb = kb_service(svc)
        found = kb.search_hits(q, language=language or None, limit=20) if kb else []
        hits = [_shown(h, interface, svc.settings.demo, h.snippet) for h in found]
        hits = readers_first(mine, hits)
    else:
        with svc.db.session() as s:
            stmt = select(Article).where(Article.status == "published")
            if language:
                stmt = stmt.where(Article.language == language)
            articles = list(s.scalars(stmt.order_by(Article.title)))
            s.expunge_all()  # the read session rolls back on exit, which would expire them
        by_key: dict[str, list[Article]] = {}
        for article in readers_first(mine, articles):
            by_key.setdefault(article.category or "", []).append(article)
        for category in list_categories(svc):
            if category.key in by_key:
                shown = [_shown(a, interface, svc.settings.demo) for a in by_key.pop(category.key)]
                groups.append((category.name(interface), shown))
        rest = [a for group in by_key.values() for a in group]  # no managed category (yet)
        if rest:
            groups.append((_("Other topics"), [_shown(a, interface, svc.settings.demo) for a in rest]))
    return render_template(
        "help/index.html",
        q=q,
        language=language,
        hits=hits,
        groups=groups,
        language_labels=LANGUAGE_LABELS,
        **_help_context(),
    )


def _published(article_id: int) -> Article:
    svc = current_services()
    with svc.db.session() as s:
        article = s.get(Article, article_id)
        if article is None or article.status != "published":
            abort(404)
        s.expunge(article)
    return article


def _related(article: Article, interface: str) -> list[Shown]:
    """Other published articles of the same category, the reader's language first."""
    if not article.category:
        return []
    svc = current_services()
    with svc.db.session() as s:
        rows = list(
            s.scalars(
                select(Article)
                .where(
                    Article.status == "published",
                    Article.category == article.category,
                    Article.id != article.id,
                )
                .order_by(Article.title)
                .limit(20)
            )
        )
        s.expunge_all()
    mine = reader_language(interface)
    return [_shown(a, interface, svc.settings.demo) for a in readers_first(mine, rows)][:MAX_RELATED]


@bp.get("/articles/<int:article_id>")
@public
def article(article_id: int) -> str:
    svc = current_services()
    interface = current_language()
    found = _published(article_id)
    script = found.script or "latn"
    body = in_reader_script(found.body, found.language, script, interface)
    return render_template(
        "help/article.html",
        article=_shown(found, interface, svc.settings.demo),
        category=category_names(svc, interface).get(found.category or ""),
        tags=found.tags or [],
        body=Markup(render_markdown(body)),  # noqa: S704 - sanitized by nh3
        related=_related(found, interface),
        voted=request.args.get("voted") == "1",
        **_help_context(),
    )


@bp.post("/articles/<int:article_id>/feedback")
@public
@limiter.limit("20 per minute")
def feedback(article_id: int) -> Response:
    answer = request.form.get("helpful")
    if answer not in ("yes", "no"):
        abort(400)
    if not record_feedback(current_services(), article_id, answer == "yes"):
        abort(404)
    flash(_("Thank you for your answer."), "ok")
    return redirect(
        url_for("help.article", article_id=article_id, voted=1, lang=current_language()) + "#feedback"
    )
