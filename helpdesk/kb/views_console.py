"""The article editor for agents at /console/kb (editing needs Agent.is_editor)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.kb.common import LANGUAGE_LABELS, SCRIPT_LABELS, article_lang_tag, kb_service
from helpdesk.kb.store import (
    ArticleInput,
    InvalidArticle,
    delete_article,
    feedback_counts,
    parse_tags,
    save_article,
)
from helpdesk.models import Article
from helpdesk.services import current_services
from knowledge_base import render_markdown

bp = Blueprint("kb_console", __name__, url_prefix="/console/kb")

ERRORS = {
    "title": lambda: _("Give the article a title."),
    "body": lambda: _("Write the text of the article."),
    "title_length": lambda: _("The title is too long (at most 200 characters)."),
    "body_length": lambda: _("The text is too long (at most 100,000 characters)."),
    "language": lambda: _("Choose the language of the article."),
    "status": lambda: _("Choose draft or published."),
}


def may_edit() -> bool:
    return bool(current_user.is_authenticated and (current_user.is_editor or current_user.role == "admin"))


def _require_editor() -> None:
    if not may_edit():
        abort(403)


@bp.get("")
@bp.get("/")
@login_required
def index() -> str:
    svc = current_services()
    q = " ".join(request.args.get("q", "").split())[:200]
    hits = []
    articles: list[Article] = []
    if q:
        kb = kb_service(svc)
        hits = kb.search_hits(q, limit=30, include_drafts=True) if kb else []
    else:
        with svc.db.session() as s:
            articles = list(s.scalars(select(Article).order_by(Article.updated_at.desc())))
            s.expunge_all()  # the read session rolls back on exit, which would expire them
    counts = feedback_counts(svc, [a.id for a in articles] + [int(h.id) for h in hits])
    return render_template(
        "kb/index.html",
        q=q,
        hits=hits,
        articles=articles,
        counts=counts,
        may_edit=may_edit(),
        snippet=lambda html: Markup(html),  # noqa: S704 - escaped by the highlighter
        language_labels=LANGUAGE_LABELS,
        article_lang_tag=article_lang_tag,
    )


def _form_input() -> ArticleInput:
    f = request.form
    return ArticleInput(
        title=f.get("title", "")[:1000],
        body=f.get("body", "")[:200_000],
        language=f.get("language", "sr"),
        tags=parse_tags(f.get("tags", "")[:2000]),
        category=f.get("category", "")[:200],
        status="published" if f.get("status") == "published" else "draft",
        script=f.get("script", ""),
    )


def _render_form(data: ArticleInput, article_id: int | None, error: str | None = None) -> str:
    return render_template(
        "kb/edit.html",
        data=data,
        article_id=article_id,
        error=error,
        language_labels=LANGUAGE_LABELS,
        script_labels=SCRIPT_LABELS,
        preview=Markup(render_markdown(data.body)) if data.body else None,  # noqa: S704 - nh3
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> str | Response | tuple[str, int]:
    _require_editor()
    if request.method == "GET":
        return _render_form(ArticleInput(title="", body=""), None)
    return _save(None)


@bp.route("/<int:article_id>/edit", methods=["GET", "POST"])
@login_required
def edit(article_id: int) -> str | Response | tuple[str, int]:
    _require_editor()
    if request.method == "POST":
        return _save(article_id)
    with current_services().db.session() as s:
        a = s.get(Article, article_id)
        if a is None:
            abort(404)
        data = ArticleInput(
            title=a.title,
            body=a.body,
            language=a.language,
            tags=list(a.tags or []),
            category=a.category,
            status=a.status,
            script=a.script,
            sample=a.sample,
        )
    return _render_form(data, article_id)


def _save(article_id: int | None) -> Response | tuple[str, int]:
    data = _form_input()
    try:
        article = save_article(current_services(), data, article_id, author_id=current_user.id)
    except InvalidArticle as exc:
        message = ERRORS.get(str(exc), lambda: _("The article could not be saved."))()
        return _render_form(data, article_id, message), 422
    except LookupError:
        abort(404)
    flash(_("Article saved."), "ok")
    return redirect(url_for("kb_console.edit", article_id=article.id))


@bp.post("/<int:article_id>/delete")
@login_required
def delete(article_id: int) -> Response:
    _require_editor()
    if not delete_article(current_services(), article_id):
        abort(404)
    flash(_("Article deleted."), "ok")
    return redirect(url_for("kb_console.index"))
