"""The incident pages (/supervisor/incidents): supervisors open, edit and close incidents; every
agent sees them and answers the linked tickets it may see at once (preview with the count first).

Views parse, ask helpdesk.access and delegate to the core operations; forms carry CSRF tokens.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.access import REPORTS_ROLE, Viewer, can_see, ticket_filter
from helpdesk.auth import roles_required
from helpdesk.console.queries import categories
from helpdesk.console.views import viewer as current_viewer
from helpdesk.incidents.answers import answer_incident, preview_answer
from helpdesk.incidents.core import (
    IncidentDraft,
    IncidentNotFound,
    close_incident,
    get_incident,
    list_incidents,
    open_incident,
    update_incident,
)
from helpdesk.incidents.linking import link_ticket, unlink_ticket
from helpdesk.incidents.models import IncidentTicket
from helpdesk.models import Ticket
from helpdesk.services import current_services
from helpdesk.tickets import Actor, InvalidChange, TicketNotFound

bp = Blueprint("incidents", __name__, url_prefix="/supervisor/incidents")
FIELDS = ("title", "category", "keywords", "notice_sr_latn", "notice_sr_cyrl", "notice_en", "starts", "ends")
LINKED_SHOWN = 200


def _actor() -> Actor:
    return Actor.agent(int(current_user.id))


def _local_input(value: datetime | None) -> str:
    """A stored time as a datetime-local field's value, in the desk's time zone."""
    if value is None:
        return ""
    tz = ZoneInfo(current_services().settings.timezone)
    return value.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def _parse_time(raw: str, label: str) -> datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidChange(_("%(field)s is not a date and time.", field=label)) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(current_services().settings.timezone))
    return parsed.astimezone(UTC)


def _draft(form: dict[str, str]) -> IncidentDraft:
    return IncidentDraft(
        title=form["title"],
        notice_sr_latn=form["notice_sr_latn"],
        notice_sr_cyrl=form["notice_sr_cyrl"],
        notice_en=form["notice_en"],
        category=form["category"] or None,
        keywords=form["keywords"],
        starts_at=_parse_time(form["starts"], _("Start")),
        expected_end_at=_parse_time(form["ends"], _("Expected end")),
    )


def _form_page(
    form: dict[str, str], incident_id: int | None, error: str | None, status: int = 200
) -> tuple[str, int]:
    html = render_template(
        "incidents/form.html",
        form=form,
        incident_id=incident_id,
        error=error,
        categories=categories(current_services()),
    )
    return html, status


def _error_text(exc: InvalidChange) -> str:
    # The core's reasons are plain English for the CLI; the catalog has each one for the pages.
    return _("The incident was not saved: %(reason)s", reason=_(str(exc)))


@bp.get("")
@roles_required("agent")
def index() -> str:
    return render_template("incidents/list.html", incidents=list_incidents(current_services()))


@bp.get("/new")
@roles_required(REPORTS_ROLE)
def new() -> tuple[str, int]:
    return _form_page(dict.fromkeys(FIELDS, ""), None, None)


@bp.post("")
@roles_required(REPORTS_ROLE)
def create() -> Response | tuple[str, int]:
    form = {k: request.form.get(k, "") for k in FIELDS}
    try:
        incident_id = open_incident(current_services(), _actor(), _draft(form))
    except InvalidChange as exc:
        return _form_page(form, None, _error_text(exc), 400)
    flash(_("Incident opened. The banner is on the citizen pages while it is open."), "ok")
    return redirect(url_for("incidents.detail", incident_id=incident_id))


def _linked(viewer: Viewer, incident_id: int) -> tuple[list[Ticket], int]:
    """The linked tickets this viewer may see (newest first, at most LINKED_SHOWN) and how many."""
    with current_services().db.session() as s:
        base = (
            select(Ticket)
            .join(IncidentTicket, IncidentTicket.ticket_id == Ticket.id)
            .where(IncidentTicket.incident_id == incident_id, ticket_filter(viewer))
        )
        total = len(s.scalars(base.with_only_columns(Ticket.id)).all())
        tickets = list(s.scalars(base.order_by(Ticket.id.desc()).limit(LINKED_SHOWN)).unique())
        s.expunge_all()
    return tickets, total


@bp.get("/<int:incident_id>")
@roles_required("agent")
def detail(incident_id: int) -> str:
    svc = current_services()
    viewer = current_viewer()
    try:
        incident = get_incident(svc, incident_id)
    except IncidentNotFound:
        abort(404)
    tickets, total = _linked(viewer, incident_id)
    form = {
        "title": incident.title,
        "category": incident.category or "",
        "keywords": ", ".join(incident.keywords),
        "notice_sr_latn": incident.written["sr-Latn"],
        "notice_sr_cyrl": incident.written["sr-Cyrl"],
        "notice_en": incident.written["en"],
        "starts": _local_input(incident.starts_at),
        "ends": _local_input(incident.expected_end_at),
    }
    return render_template(
        "incidents/detail.html",
        incident=incident,
        tickets=tickets,
        total=total,
        form=form,
        categories=categories(svc),
        may_manage=viewer.sees_all,
        close_nonce=secrets.token_urlsafe(24),
    )


@bp.post("/<int:incident_id>")
@roles_required(REPORTS_ROLE)
def update(incident_id: int) -> Response | tuple[str, int]:
    form = {k: request.form.get(k, "") for k in FIELDS}
    try:
        update_incident(current_services(), incident_id, _actor(), _draft(form))
    except IncidentNotFound:
        abort(404)
    except InvalidChange as exc:
        return _form_page(form, incident_id, _error_text(exc), 400)
    flash(_("Incident saved."), "ok")
    return redirect(url_for("incidents.detail", incident_id=incident_id))


@bp.post("/<int:incident_id>/answer")
@roles_required("agent")
def answer(incident_id: int) -> Response | tuple[str, int]:
    """First the preview (how many tickets, on which channels, who will not get it), then the
    same form confirmed sends it; the nonce keeps a double submit from sending twice."""
    svc = current_services()
    viewer = current_viewer()
    text = request.form.get("text", "").strip()
    try:
        incident = get_incident(svc, incident_id)
    except IncidentNotFound:
        abort(404)
    if request.form.get("confirm") != "1" or not text:
        preview = preview_answer(svc, incident_id, None if viewer.sees_all else viewer)
        error = None if text else _("Write the answer first.")
        html = render_template(
            "incidents/preview.html",
            incident=incident,
            preview=preview,
            text=text,
            nonce=secrets.token_urlsafe(24),
            error=error,
        )
        return html, 200 if text else 400
    nonce = request.form.get("nonce", "")[:64] or secrets.token_urlsafe(24)
    try:
        result = answer_incident(svc, incident_id, _actor(), text, nonce, None if viewer.sees_all else viewer)
    except InvalidChange as exc:
        flash(_("Nothing was sent: %(reason)s", reason=_(str(exc))), "error")
        return redirect(url_for("incidents.detail", incident_id=incident_id))
    if result.duplicate:
        flash(_("This answer was sent already; nothing was sent again."), "ok")
    else:
        flash(
            _("The answer is on its way to %(count)s tickets, each on its own channel.", count=result.queued),
            "ok",
        )
        if result.messages < result.queued:
            flash(
                _(
                    "Citizens with several of these tickets get it once: %(count)s messages in all.",
                    count=result.messages,
                ),
                "ok",
            )
    return redirect(url_for("incidents.detail", incident_id=incident_id))


@bp.post("/<int:incident_id>/close")
@roles_required(REPORTS_ROLE)
def close(incident_id: int) -> Response:
    message = request.form.get("message", "") if request.form.get("notify") == "1" else ""
    nonce = request.form.get("nonce", "")[:64] or None
    try:
        sent = close_incident(current_services(), incident_id, _actor(), message, nonce)
    except IncidentNotFound:
        abort(404)
    except InvalidChange as exc:
        flash(_("Nothing was changed: %(reason)s", reason=_(str(exc))), "error")
        return redirect(url_for("incidents.detail", incident_id=incident_id))
    if message.strip():
        flash(_("Incident closed; the message is on its way to %(count)s tickets.", count=sent), "ok")
    else:
        flash(_("Incident closed."), "ok")
    return redirect(url_for("incidents.detail", incident_id=incident_id))


def _ticket_reference(viewer: Viewer) -> str:
    """The ticket the form names (HD-2026-000123, or just 123 this year), if the viewer may see it."""
    raw = request.form.get("reference", "").strip().upper()
    with current_services().db.session() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.reference == raw))
        if ticket is None and raw.isdigit():
            ticket = s.scalar(
                select(Ticket)
                .where(Ticket.reference.like(f"HD-%-{int(raw):06d}"))
                .order_by(Ticket.id.desc())
                .limit(1)
            )
        if ticket is None:
            raise TicketNotFound(raw)
        if not can_see(viewer, ticket):
            abort(403)
        return ticket.reference


@bp.post("/<int:incident_id>/link")
@roles_required("agent")
def link(incident_id: int) -> Response:
    """Link a ticket the agent may see (no notice is sent; bulk answers will reach it)."""
    viewer = current_viewer()
    try:
        reference = _ticket_reference(viewer)
        linked = link_ticket(current_services(), incident_id, reference, _actor())
    except IncidentNotFound:
        abort(404)
    except TicketNotFound:
        flash(_("No such ticket."), "error")
    except InvalidChange as exc:
        flash(_("Nothing was changed: %(reason)s", reason=_(str(exc))), "error")
    else:
        flash(
            _("%(reference)s is linked to the incident.", reference=reference)
            if linked
            else _("%(reference)s was linked already.", reference=reference),
            "ok",
        )
    return redirect(url_for("incidents.detail", incident_id=incident_id))


@bp.post("/<int:incident_id>/unlink")
@roles_required("agent")
def unlink(incident_id: int) -> Response:
    viewer = current_viewer()
    try:
        reference = _ticket_reference(viewer)
        unlink_ticket(current_services(), incident_id, reference, _actor())
    except TicketNotFound:
        flash(_("No such ticket."), "error")
    except InvalidChange as exc:
        flash(_("Nothing was changed: %(reason)s", reason=_(str(exc))), "error")
    else:
        flash(_("%(reference)s is no longer linked to the incident.", reference=reference), "ok")
    return redirect(url_for("incidents.detail", incident_id=incident_id))
