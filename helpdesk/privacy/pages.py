"""The privacy pages: the retention schedule (admins), a citizen's data requests and the access
log (supervisors). Roles come from helpdesk.access; every form carries a CSRF token; every
change goes through the same operations the CLI calls, which audit it."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import exists, select
from werkzeug.wrappers import Response

from helpdesk.access import PRIVACY_ROLE, RETENTION_ROLE
from helpdesk.auth import roles_required
from helpdesk.models import AnonymizedTicket, Category, Contact, Queue, Ticket
from helpdesk.privacy import access_log
from helpdesk.privacy.erasure import erase_contact
from helpdesk.privacy.export import NoSuchContact, ReasonRequired, export_contact, find_contact_id
from helpdesk.privacy.retention import SCOPES, RuleError, default_days, list_rules, remove_rule, set_rule
from helpdesk.routing import DEFAULT_ROUTES
from helpdesk.services import current_services
from helpdesk.tickets.types import Actor

bp = Blueprint("privacy_pages", __name__)


def _agent_id() -> int:
    return int(current_user.id)


# -- the retention schedule (admins) ------------------------------------------------------------


@bp.route("/admin/retention", methods=["GET", "POST"])
@roles_required(RETENTION_ROLE)
def retention() -> str | Response:
    svc = current_services()
    error = None
    if request.method == "POST":
        # one select names both ("queue:payments"), so the form works without script
        scope, _sep, key = request.form.get("target", "").partition(":")
        keep = request.form.get("keep") == "1"
        raw = request.form.get("days", "").strip()
        try:
            if not keep and not raw.isdigit():
                raise RuleError("days")
            set_rule(svc, scope, key, None if keep else int(raw), Actor.agent(_agent_id()))
        except RuleError:
            error = _("Choose a queue or category and give a number of days (0 or more), or keep.")
        else:
            flash(_("The retention rule is saved; the next daily run applies it."), "info")
            return redirect(url_for("privacy_pages.retention"))
    with svc.db.session() as s:
        queues = list(s.scalars(select(Queue.name).order_by(Queue.name)))
        categories = sorted({*s.scalars(select(Category.key)), *DEFAULT_ROUTES})
    try:
        default = default_days(svc)
    except (RuleError, ValueError):
        default = None
    return render_template(
        "privacy/retention.html",
        rules=list_rules(svc),
        default=default,
        queues=queues,
        categories=categories,
        scopes=SCOPES,
        error=error,
    )


@bp.post("/admin/retention/remove")
@roles_required(RETENTION_ROLE)
def retention_remove() -> Response:
    svc = current_services()
    if remove_rule(svc, request.form.get("scope", ""), request.form.get("key", ""), Actor.agent(_agent_id())):
        flash(_("The rule is removed: the default applies there again."), "info")
    else:
        flash(_("There is no such rule."), "error")
    return redirect(url_for("privacy_pages.retention"))


# -- a citizen's data requests (supervisors) -----------------------------------------------------


def _find(value: str) -> int | None:
    return find_contact_id(current_services(), value)


@bp.get("/supervisor/privacy")
@roles_required(PRIVACY_ROLE)
def requests() -> str | Response:
    query = request.args.get("q", "")
    if query.strip():
        contact_id = _find(query)
        if contact_id is not None:
            return redirect(url_for("privacy_pages.contact", contact_id=contact_id))
    return render_template("privacy/requests.html", query=query, not_found=bool(query.strip()))


@bp.get("/supervisor/privacy/contacts/<int:contact_id>")
@roles_required(PRIVACY_ROLE)
def contact(contact_id: int) -> str:
    svc = current_services()
    with svc.db.session() as s:
        found = s.get(Contact, contact_id)
        if found is None:
            abort(404)
        identities = [(i.kind, i.value) for i in found.identities if i.kind != "chat"]
        anonymized = exists().where(AnonymizedTicket.ticket_id == Ticket.id)
        tickets = s.execute(
            select(Ticket.reference, Ticket.subject, Ticket.status, Ticket.created_at, anonymized)
            .where(Ticket.contact_id == contact_id)
            .order_by(Ticket.created_at.desc())
        ).all()
        name = found.name
    return render_template(
        "privacy/contact.html", contact_id=contact_id, name=name, identities=identities, tickets=tickets
    )


@bp.post("/supervisor/privacy/contacts/<int:contact_id>/export")
@roles_required(PRIVACY_ROLE)
def export(contact_id: int) -> Response:
    try:
        made = export_contact(current_services(), contact_id, _agent_id(), request.form.get("reason", ""))
    except NoSuchContact:
        abort(404)
    except ReasonRequired:
        flash(_("Write the legal reason (the request and its number) first."), "error")
        return redirect(url_for("privacy_pages.contact", contact_id=contact_id))
    response = send_file(
        io.BytesIO(made.data),
        mimetype="application/zip",
        as_attachment=True,
        download_name=made.filename,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/supervisor/privacy/contacts/<int:contact_id>/erase")
@roles_required(PRIVACY_ROLE)
def erase(contact_id: int) -> Response:
    if request.form.get("confirm") != "1":
        flash(_("Tick the box to confirm the erasure: it cannot be undone."), "error")
        return redirect(url_for("privacy_pages.contact", contact_id=contact_id))
    try:
        done = erase_contact(current_services(), contact_id, _agent_id(), request.form.get("reason", ""))
    except NoSuchContact:
        abort(404)
    except ReasonRequired:
        flash(_("Write the legal reason (the request and its number) first."), "error")
        return redirect(url_for("privacy_pages.contact", contact_id=contact_id))
    flash(
        _("The contact's data is erased: %(count)d tickets anonymized.", count=done.scrubbed.tickets),
        "info",
    )
    return redirect(url_for("privacy_pages.requests"))


@bp.get("/supervisor/privacy/access-log")
@roles_required(PRIVACY_ROLE)
def access() -> str:
    args = request.args
    contact_raw = args.get("contact", "").strip()
    contact_id = _find(contact_raw) if contact_raw else None
    rows = (
        []
        if contact_raw and contact_id is None
        else access_log.search(
            current_services(),
            agent_email=args.get("agent", "")[:320] or None,
            contact_id=contact_id,
            reference=args.get("reference", "")[:20] or None,
            action=args.get("action") or None,
        )
    )
    return render_template(
        "privacy/access_log.html",
        rows=rows,
        args=args,
        actions=access_log.ACTIONS,
        limit=access_log.PAGE_SIZE,
    )
