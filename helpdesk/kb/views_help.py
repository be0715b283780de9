"""Citizen self-service pages under /help: list, search, article, "was this helpful?"."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.auth import public
from helpdesk.extensions import limiter
from helpdesk.kb.common import LANGUAGE_LABELS, article_lang_tag, kb_service
from helpdesk.kb.store import record_feedback
from helpdesk.models import Article
from helpdesk.services import current_services
from knowledge_base import render_markdown

bp = Blueprint("help", __name__, url_prefix="/help")

MAX_QUERY = 200


def _language_filter() -> str:
    # "language", not "lang": ?lang= already chooses the interface language.
    value = request.args.get("language", "")
    return value if value in ("sr", "en") else ""


@bp.get("")
@bp.get("/")
@public
def index() -> str:
    svc = current_services()
    q = " ".join(request.args.get("q", "").split())[:MAX_QUERY]
    language = _language_filter()
    hits = []
    articles: list[Article] = []
    if q:
        kb = kb_service(svc)
        hits = kb.search_hits(q, language=language or None, limit=20) if kb else []
    else:
        with svc.db.session() as s:
            stmt = select(Article).where(Article.status == "published")
            if language:
                stmt = stmt.where(Article.language == language)
            articles = list(s.scalars(stmt.order_by(Article.category, Article.title)))
            s.expunge_all()  # the read session rolls back on exit, which would expire them
    return render_template(
        "help/index.html",
        q=q,
        language=language,
        hits=hits,
        snippet=lambda html: Markup(html),  # noqa: S704 - escaped by the highlighter
        articles=articles,
        language_labels=LANGUAGE_LABELS,
        article_lang_tag=article_lang_tag,
    )


def _published(article_id: int) -> Article:
    svc = current_services()
    with svc.db.session() as s:
        article = s.get(Article, article_id)
        if article is None or article.status != "published":
            abort(404)
        s.expunge(article)
    return article


@bp.get("/articles/<int:article_id>")
@public
def article(article_id: int) -> str:
    found = _published(article_id)
    return render_template(
        "help/article.html",
        article=found,
        body=Markup(render_markdown(found.body)),  # noqa: S704 - sanitized by nh3
        lang_tag=article_lang_tag(found),
        voted=request.args.get("voted") == "1",
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
    return redirect(url_for("help.article", article_id=article_id, voted=1) + "#feedback")
