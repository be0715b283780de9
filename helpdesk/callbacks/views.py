"""Console pages for callbacks: the callback queue, recording an outcome, editing accommodations.

Handlers parse, ask the access policy (the callback belongs to its ticket: whoever may see the
ticket may call and record), and delegate to the core operations.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.callbacks import accommodations
from helpdesk.callbacks.operations import record_outcome
from helpdesk.callbacks.queue import pending_queue, state_of, ticket_callbacks
from helpdesk.callbacks.windows import Window, full_label
from helpdesk.console.views import load_ticket
from helpdesk.console.views import viewer as current_viewer
from helpdesk.models import CALLBACK_OUTCOMES, Callback, Ticket
from helpdesk.services import current_services
from helpdesk.tickets import Actor, InvalidChange

bp = Blueprint("callbacks", __name__)


def _back(default: str) -> Response:
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith("//"):  # never an open redirect
        target = default
    return redirect(target)


@bp.get("/console/callbacks")
@login_required
def queue() -> str:
    v = current_viewer()
    svc = current_services()
    items, total = pending_queue(svc, v)
    now, lang = svc.clock.now(), _language()
    return render_template(
        "callbacks/queue.html",
        items=[(i, full_label(svc, Window(i.window_start, i.window_end), lang, now)) for i in items],
        total=total,
        vendor_socketio="/vendor/socket.io-client/socket.io.min.js",
    )


@bp.post("/console/tickets/<reference>/callback/outcome")
@login_required
def outcome(reference: str) -> Response:
    """The outcome of a call on the ticket's waiting callback (from the queue or the ticket)."""
    v = current_viewer()
    ticket = load_ticket(v, reference)
    default = url_for("console.ticket_view", reference=reference)
    svc = current_services()
    with svc.db.session() as s:
        callback_id = s.scalar(
            select(Callback.id).where(Callback.ticket_id == ticket.id, Callback.status == "pending")
        )
    if callback_id is None:
        flash(_("This ticket has no callback waiting."), "error")
        return _back(default)
    chosen = request.form.get("outcome", "")
    if chosen not in CALLBACK_OUTCOMES:
        abort(400)
    try:
        ref = record_outcome(svc, callback_id, Actor.agent(v.id), chosen, request.form.get("note"))
    except InvalidChange as exc:
        flash(str(exc), "error")
        return _back(default)
    if ref.status == "pending":
        when = full_label(svc, ref.window, _language())
        flash(_("No answer: the callback is back in the queue for %(when)s.", when=when), "info")
    else:
        flash(_("The callback of %(reference)s is recorded.", reference=reference), "info")
    return _back(default)


@bp.post("/console/tickets/<reference>/accommodations")
@login_required
def edit_accommodations(reference: str) -> Response:
    v = current_viewer()
    ticket = load_ticket(v, reference)
    kinds = request.form.getlist("accommodation")
    accommodations.set_accommodations(current_services(), ticket.contact_id, kinds, Actor.agent(v.id))
    flash(_("The accommodations are saved."), "info")
    return redirect(url_for("console.ticket_view", reference=reference))


def _language() -> str:
    from helpdesk.i18n import current_language

    return current_language()


def contact_accommodations(contact_id: int) -> list[tuple[str, str]]:
    """For the ticket page's header (a template global)."""
    with current_services().db.session() as s:
        return accommodations.labels(accommodations.of_contact(s, contact_id))


def panel_context(ticket: Ticket) -> dict[str, Any]:
    """The callback box on a ticket: its callbacks, the waiting one with its outcome buttons."""
    svc = current_services()
    now, lang = svc.clock.now(), _language()
    rows = [
        {
            "status": c.status,
            "phone": c.phone,
            "attempts": c.attempts,
            "state": state_of(c.window_start, c.window_end, now) if c.status == "pending" else None,
            "when": full_label(svc, Window(c.window_start, c.window_end), lang, now),
        }
        for c in ticket_callbacks(svc, ticket.id)
    ]
    return {"callbacks": rows, "outcomes": CALLBACK_OUTCOMES, "reference": ticket.reference}
