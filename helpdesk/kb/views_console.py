"""The article editor for agents at /console/kb (editing needs Agent.is_editor)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.i18n import current_language
from helpdesk.kb.categories import InvalidCategory, list_categories, save_category
from helpdesk.kb.common import LANGUAGE_LABELS, SCRIPT_LABELS, article_lang_tag, kb_service
from helpdesk.kb.store import (
    ArticleInput,
    InvalidArticle,
    feedback_counts,
    parse_tags,
    save_article,
    set_archived,
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
    "category": lambda: _("Choose a category from the list."),
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
    archived: list[Article] = []
    if q:
        kb = kb_service(svc)
        hits = kb.search_hits(q, limit=30, include_drafts=True) if kb else []
    else:
        with svc.db.session() as s:
            articles = list(
                s.scalars(
                    select(Article)
                    .where(Article.status != "archived")
                    .order_by(Article.updated_at.desc())
                )
            )
            archived = list(
                s.scalars(
                    select(Article)
                    .where(Article.status == "archived")
                    .order_by(Article.updated_at.desc())
                )
            )
            s.expunge_all()  # the read session rolls back on exit, which would expire them
    counts = feedback_counts(svc, [a.id for a in articles] + [int(h.id) for h in hits])
    return render_template(
        "kb/index.html",
        q=q,
        hits=hits,
        articles=articles,
        archived=archived,
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


def _render_form(
    data: ArticleInput,
    article_id: int | None,
    error: str | None = None,
    previewing: bool = False,
) -> str:
    interface = current_language()
    return render_template(
        "kb/edit.html",
        data=data,
        article_id=article_id,
        error=error,
        language_labels=LANGUAGE_LABELS,
        script_labels=SCRIPT_LABELS,
        categories=[(c.key, c.name(interface)) for c in list_categories(current_services())],
        previewing=previewing,
        preview_title=" ".join(data.title.split()),
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


def _save(article_id: int | None) -> Response | str | tuple[str, int]:
    data = _form_input()
    if request.form.get("action") == "preview":  # shown as readers will see it; nothing saved
        return _render_form(data, article_id, previewing=True)
    keys = {c.key for c in list_categories(current_services())}
    if data.category and data.category not in keys:
        return _render_form(data, article_id, ERRORS["category"]()), 422
    try:
        article = save_article(current_services(), data, article_id, author_id=current_user.id)
    except InvalidArticle as exc:
        message = ERRORS.get(str(exc), lambda: _("The article could not be saved."))()
        return _render_form(data, article_id, message), 422
    except LookupError:
        abort(404)
    flash(_("Article saved."), "ok")
    return redirect(url_for("kb_console.edit", article_id=article.id))


@bp.get("/<int:article_id>/delete")
@login_required
def confirm_delete(article_id: int) -> str:
    """Deleting asks first: what happens (archived, restorable) and a button to confirm."""
    _require_editor()
    with current_services().db.session() as s:
        article = s.get(Article, article_id)
        if article is None or article.status == "archived":
            abort(404)
        title = article.title
    return render_template("kb/delete.html", article_id=article_id, title=title)


@bp.post("/<int:article_id>/delete")
@login_required
def delete(article_id: int) -> Response:
    """Archive, never destroy: the article leaves the help center and can be restored."""
    _require_editor()
    if set_archived(current_services(), article_id, archived=True) is None:
        abort(404)
    flash(_("Article archived. You can restore it from the list of archived articles."), "ok")
    return redirect(url_for("kb_console.index") + "#archived")


@bp.post("/<int:article_id>/restore")
@login_required
def restore(article_id: int) -> Response:
    _require_editor()
    if set_archived(current_services(), article_id, archived=False) is None:
        abort(404)
    flash(_("Article restored as a draft. Publish it again when it is ready."), "ok")
    return redirect(url_for("kb_console.edit", article_id=article_id))


CATEGORY_ERRORS = {
    "key": lambda: _("The key is 1–64 lower-case letters, digits, - or _."),
    "name_sr_latn": lambda: _("Give the Serbian (Latin) name."),
    "name_en": lambda: _("Give the English name."),
    "length": lambda: _("A name is at most 100 characters."),
    "exists": lambda: _("A category with this key exists already."),
}


@bp.route("/categories", methods=["GET", "POST"])
@login_required
def categories() -> str | Response | tuple[str, int]:
    """Editors name the help center's categories in each language (readers never see keys)."""
    _require_editor()
    svc = current_services()
    error: str | None = None
    if request.method == "POST":
        f = request.form
        creating = f.get("action") == "create"
        try:
            save_category(
                svc,
                f.get("key", "")[:100],
                f.get("name_sr_latn", "")[:200],
                f.get("name_sr_cyrl", "")[:200],
                f.get("name_en", "")[:200],
                create=creating,
            )
        except InvalidCategory as exc:
            error = CATEGORY_ERRORS[str(exc)]()
        except LookupError:
            abort(404)
        else:
            flash(_("Category saved."), "ok")
            return redirect(url_for("kb_console.categories"))
    page = render_template(
        "kb/categories.html",
        categories=list_categories(svc, with_counts=True),
        error=error,
        form=request.form if error else {},
    )
    return (page, 422) if error else page
