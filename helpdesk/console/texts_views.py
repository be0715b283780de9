"""Console pages for the texts agents send: canned responses (editors manage, everyone reads) and
each agent's own signatures per language (the profile page)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import delete, select
from werkzeug.wrappers import Response

from helpdesk.console import canned
from helpdesk.console.views import bp, viewer
from helpdesk.models import CANNED_LANGUAGES, AgentSignature, CannedResponse
from helpdesk.services import current_services
from helpdesk.tickets import InvalidChange

MAX_SIGNATURE = 1000


def may_edit_canned() -> bool:
    return bool(current_user.is_authenticated and (current_user.is_editor or current_user.role == "admin"))


def _errors() -> dict[str, str]:
    return {
        "title": _("Give a title of at most 120 characters."),
        "shortcut": _("The shortcut is one word: small letters, digits, - or _ (at most 40)."),
        "shortcut_taken": _("Another canned response in this language has that shortcut."),
        "language": _("Choose the language and script."),
        "body": _("Write the text (at most 10,000 characters)."),
        "placeholder": _("Use only the placeholders {citizen_name}, {reference} and {agent_name}."),
        "missing": _("That canned response no longer exists."),
    }


@bp.get("/canned")
@login_required
def canned_list() -> str:
    v = viewer()
    q = request.args.get("q", "")[:100]
    language = request.args.get("language", "")
    return render_template(
        "console/canned_list.html",
        viewer=v,
        items=canned.list_canned(current_services(), q, language),
        q=q,
        language=language if language in CANNED_LANGUAGES else "",
        languages=CANNED_LANGUAGES,
        may_edit=may_edit_canned(),
    )


@bp.route("/canned/new", methods=["GET", "POST"])
@bp.route("/canned/<int:canned_id>/edit", methods=["GET", "POST"])
@login_required
def canned_edit(canned_id: int | None = None) -> str | Response | tuple[str, int]:
    v = viewer()
    if not may_edit_canned():
        abort(403)
    svc = current_services()
    values: dict[str, Any] = {"title": "", "shortcut": "", "language": "sr-Latn", "body": ""}
    if canned_id is not None:
        with svc.db.session() as s:
            row = s.get(CannedResponse, canned_id)
            if row is None:
                abort(404)
            values = {
                "title": row.title,
                "shortcut": row.shortcut,
                "language": row.language,
                "body": row.body,
            }
    error_field = None
    if request.method == "POST":
        values = {k: request.form.get(k, "")[: canned.MAX_BODY + 1] for k in values}
        try:
            canned.save_canned(svc, v.id, canned_id, **values)
        except InvalidChange as exc:
            error_field = str(exc)
        else:
            flash(_("The canned response was saved."), "info")
            return redirect(url_for("console.canned_list"))
    page = render_template(
        "console/canned_form.html",
        viewer=v,
        canned_id=canned_id,
        values=values,
        languages=CANNED_LANGUAGES,
        error_field=error_field,
        error=_errors().get(error_field or "", ""),
    )
    return (page, 422) if error_field else page


@bp.post("/canned/<int:canned_id>/delete")
@login_required
def canned_delete(canned_id: int) -> Response:
    v = viewer()
    if not may_edit_canned():
        abort(403)
    if not canned.delete_canned(current_services(), v.id, canned_id):
        abort(404)
    flash(_("The canned response was deleted."), "info")
    return redirect(url_for("console.canned_list"))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile() -> str | Response | tuple[str, int]:
    """The agent's own signatures: one per language and script, added to email replies."""
    v = viewer()
    svc = current_services()
    with svc.db.session() as s:
        signatures = {
            sig.language: sig.text
            for sig in s.scalars(select(AgentSignature).where(AgentSignature.agent_id == v.id))
        }
    if request.method == "POST":
        wanted = {lang: request.form.get(f"signature-{lang}", "").strip() for lang in CANNED_LANGUAGES}
        if any(len(text) > MAX_SIGNATURE for text in wanted.values()):
            flash(_("A signature may have at most 1,000 characters."), "error")
            return render_template(
                "console/profile.html", viewer=v, signatures=wanted, languages=CANNED_LANGUAGES
            ), 422
        with svc.db.transaction() as s:
            s.execute(delete(AgentSignature).where(AgentSignature.agent_id == v.id))
            for lang, text in wanted.items():
                if text:
                    s.add(AgentSignature(agent_id=v.id, language=lang, text=text))
        flash(_("Your signatures were saved."), "info")
        return redirect(url_for("console.profile"))
    return render_template(
        "console/profile.html", viewer=v, signatures=signatures, languages=CANNED_LANGUAGES
    )
