"""Merging from the console: tickets (agents, both tickets theirs to see), contacts (supervisors),
and linking related tickets. Each merge shows a preview of what moves before it is confirmed."""

from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.access import can_see
from helpdesk.console.views import bp, load_ticket, viewer
from helpdesk.models import Contact, ContactIdentity, Ticket
from helpdesk.services import current_services
from helpdesk.tickets import (
    Actor,
    Identity,
    InvalidChange,
    TicketNotFound,
    find_contact,
    link_tickets,
    merge_contacts,
    merge_tickets,
    preview_contact_merge,
    preview_ticket_merge,
)

_REFERENCE = re.compile(r"^[A-Za-z]{2,5}-\d{4}-\d{1,9}$")


def _reference_arg(value: str | None) -> str:
    value = (value or "").strip().upper()
    return value if _REFERENCE.match(value) else ""


@bp.route("/tickets/<reference>/merge", methods=["GET", "POST"])
@login_required
def merge_ticket(reference: str) -> str | Response:
    """GET: choose the ticket to merge into and see what moves; POST: do it."""
    v = viewer()
    source = load_ticket(v, reference)
    svc = current_services()
    raw_target = request.values.get("into", "")
    target_ref = _reference_arg(raw_target)
    preview = None
    error = None
    if raw_target and not target_ref:
        error = _("Give a ticket reference such as HD-2026-000123.")
    elif target_ref:
        with svc.db.session() as s:
            target = s.scalar(select(Ticket).where(Ticket.reference == target_ref))
            if target is not None:
                s.expunge(target)
        try:
            if target is None:
                raise TicketNotFound(target_ref)
            if not can_see(v, target):
                abort(403)  # merging moves messages into it: only into a ticket the agent may see
            preview = preview_ticket_merge(svc, source.reference, target.reference)
        except TicketNotFound:
            error = _("There is no ticket %(reference)s.", reference=target_ref)
        except InvalidChange:
            error = _("These two tickets cannot be merged (the same ticket, or one is already merged).")
    if request.method == "POST" and preview is not None and error is None:
        merge_tickets(svc, source.reference, preview.target, Actor.agent(v.id))
        flash(
            _(
                "%(source)s was merged into %(target)s: %(count)d messages moved.",
                source=source.reference,
                target=preview.target,
                count=preview.messages,
            ),
            "info",
        )
        return redirect(url_for("console.ticket_view", reference=preview.target))
    return render_template(
        "console/merge_ticket.html",
        viewer=v,
        ticket=source,
        into=target_ref or raw_target[:30],
        preview=preview,
        error=error,
    ), (422 if error and request.method == "POST" else 200)  # type: ignore[return-value]


@bp.post("/tickets/<reference>/link")
@login_required
def link_ticket(reference: str) -> Response:
    v = viewer()
    ticket = load_ticket(v, reference)
    raw = request.form.get("related", "").strip()
    related = _reference_arg(raw)
    if raw and not related:
        flash(_("Give a ticket reference such as HD-2026-000123."), "error")
    else:
        try:
            if related:
                load_ticket(v, related)  # 404 / 403 like any other look at a ticket
            link_tickets(current_services(), ticket.reference, related or None, Actor.agent(v.id))
            flash(_("Related ticket saved.") if related else _("Related ticket removed."), "info")
        except InvalidChange:
            flash(_("A ticket cannot be related to itself."), "error")
    return redirect(url_for("console.ticket_view", reference=ticket.reference))


def _find_contact(value: str) -> int | None:
    """A contact by number, email or phone (as an agent would type them)."""
    value = value.strip()
    svc = current_services()
    with svc.db.session() as s:
        if value.isdigit() and len(value) < 10:
            contact = s.get(Contact, int(value))
        else:
            kind = "email" if "@" in value else "phone"
            try:
                contact = find_contact(s, Identity(kind, value))
            except InvalidChange:
                contact = None
        return contact.id if contact is not None else None


@bp.route("/contacts/<int:contact_id>/merge", methods=["GET", "POST"])
@login_required
def merge_contact(contact_id: int) -> str | Response:
    """Supervisors: merge another contact (the same citizen under another address) into this one."""
    v = viewer()
    if not v.sees_all:
        abort(403)
    svc = current_services()
    with svc.db.session() as s:
        target = s.get(Contact, contact_id)
        if target is None or target.merged_into_id is not None:
            abort(404)
        target_name = target.name
        target_identities = list(
            s.execute(
                select(ContactIdentity.kind, ContactIdentity.value).where(
                    ContactIdentity.contact_id == contact_id, ContactIdentity.kind != "chat"
                )
            )
        )
    back = _reference_arg(request.values.get("back"))
    raw = request.values.get("other", "")[:320]
    preview = None
    error = None
    if raw.strip():
        other_id = _find_contact(raw)
        if other_id is None:
            error = _("No contact has that email, phone or number.")
        else:
            try:
                preview = preview_contact_merge(svc, other_id, contact_id)
            except InvalidChange:
                error = _("These contacts cannot be merged (the same contact, or one is already merged).")
    if request.method == "POST" and preview is not None:
        merge_contacts(svc, preview.source_id, contact_id, Actor.agent(v.id))
        flash(_("The contacts were merged: %(count)d tickets moved.", count=len(preview.tickets)), "info")
        if back:
            return redirect(url_for("console.ticket_view", reference=back))
        return redirect(url_for("console.merge_contact", contact_id=contact_id))
    return render_template(
        "console/merge_contact.html",
        viewer=v,
        contact_id=contact_id,
        contact_name=target_name,
        contact_identities=target_identities,
        other=raw,
        back=back,
        preview=preview,
        error=error,
    ), (422 if error and request.method == "POST" else 200)  # type: ignore[return-value]
