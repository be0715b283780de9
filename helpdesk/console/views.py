"""The agent console pages: the live ticket list and the ticket view (login required)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.access import Viewer, can_see, load_viewer, settable_queues, visible_queues
from helpdesk.console import canned as canned_texts
from helpdesk.console import listing, queries, saved
from helpdesk.console.filters import Filters
from helpdesk.models import CHANNELS, PRIORITIES, STATUSES, Ticket
from helpdesk.outbox import can_reach
from helpdesk.services import current_services
from helpdesk.tickets import InvalidChange

log = logging.getLogger(__name__)
bp = Blueprint("console", __name__, url_prefix="/console")
VENDOR_SOCKETIO = "/vendor/socket.io-client/socket.io.min.js"


def viewer() -> Viewer:
    found = load_viewer(current_services(), current_user.id)
    if found is None:
        abort(403)
    return found


def board_context(v: Viewer) -> dict[str, Any]:
    svc = current_services()
    f = Filters.from_args(request.args)
    page = listing.list_page(svc, v, f)
    if page.refused_sort:  # shown in due order: the headers and links say that order
        f = replace(f, sort="", dir="asc")
    return {
        "filters": f,
        "query": f.query_string(),
        "listing": page,
        "tickets": page.tickets,
        "counts": queries.queue_counts(svc, v),
        "sort_columns": SORT_COLUMNS,
    }


SORT_COLUMNS = (
    ("reference", "Reference"),
    ("subject", "Subject"),
    ("status", "Status"),
    ("priority", "Priority"),
    ("channel", "Channel"),
    ("queue", "Queue"),
    ("assignee", "Assignee"),
    ("due", "Due"),
    ("updated", "Updated"),
)


@bp.get("")
@bp.get("/")
@login_required
def index() -> str:
    v = viewer()
    svc = current_services()
    return render_template(
        "console/index.html",
        viewer=v,
        statuses=STATUSES,
        channels=CHANNELS,
        categories=queries.categories(svc),
        queues=visible_queues(svc, v),
        saved_views=saved.list_views(svc, v.id),
        vendor_socketio=VENDOR_SOCKETIO,
        **board_context(v),
    )


@bp.post("/views")
@login_required
def save_view() -> Response:
    """Keep the list's current filters under a name (same name: replaced)."""
    v = viewer()
    query = request.form.get("query", "")[:2000]
    try:
        saved.save_view(current_services(), v.id, request.form.get("name", ""), query)
    except InvalidChange as exc:
        flash(str(exc), "error")
    else:
        flash(_("The view was saved."), "info")
    return redirect(url_for("console.index") + ("?" + query if query else ""))


@bp.post("/views/<int:view_id>/delete")
@login_required
def delete_view(view_id: int) -> Response:
    v = viewer()
    if not saved.delete_view(current_services(), v.id, view_id):
        abort(404)
    flash(_("The view was deleted."), "info")
    return redirect(url_for("console.index"))


@bp.get("/board")
@login_required
def board() -> str:
    """The queue counts and the ticket list, re-fetched by the page when an event arrives."""
    return render_template("console/_board.html", **board_context(viewer()))


def load_ticket(v: Viewer, reference: str) -> Ticket:
    svc = current_services()
    with svc.db.session() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.reference == reference))
        if ticket is None:
            abort(404)
        s.expunge(ticket)
    if not can_see(v, ticket):
        abort(403)
    return ticket


def render_panels(ticket: Ticket) -> list[Markup]:
    """Boxes other features contribute (KB answers, call back, SLA); one failing stays out."""
    rendered = []
    for panel in current_services().ticket_panels:
        if panel.channels and ticket.channel not in panel.channels:
            continue  # a channel's panel (call back) only on that channel's tickets
        try:
            html = render_template(panel.template, ticket=ticket, **panel.context(ticket))
        except Exception as exc:  # noqa: BLE001 - a broken plug-in must not take the ticket view down
            log.error("ticket panel %s failed: %s", panel.template, type(exc).__name__)
            continue
        if html.strip():  # a panel with nothing to say on this ticket (no incident) stays out
            rendered.append(Markup(html))  # noqa: S704 - rendered by Jinja with autoescape
    return rendered


@bp.get("/tickets/<reference>")
@login_required
def ticket_view(reference: str) -> str | Response:
    v = viewer()
    ticket = load_ticket(v, reference)
    svc = current_services()
    if ticket.merged_into_id is not None:
        with svc.db.session() as s:
            target = s.get(Ticket, ticket.merged_into_id)
            target_ref = target.reference if target is not None else None
        if target_ref is not None:
            # The merged ticket points to its target: old links and bookmarks land there.
            flash(_("%(source)s was merged into %(target)s.", source=reference, target=target_ref), "info")
            return redirect(url_for("console.ticket_view", reference=target_ref))
    with svc.db.session() as s:
        contact = s.get(Ticket, ticket.id).contact  # type: ignore[union-attr]
        contact_info = {
            "id": contact.id,
            "name": contact.name,
            "identities": [(i.kind, i.value) for i in contact.identities if i.kind != "chat"],
        }
        # Said before the agent writes: a reply nobody can receive is offered as a note instead.
        reachable = can_reach(svc, ticket.channel, {i.kind: i.value for i in contact.identities})
        related = s.get(Ticket, ticket.related_ticket_id) if ticket.related_ticket_id else None
        related_ref = related.reference if related is not None else None
    others, hidden_others = queries.contact_tickets(svc, v, ticket.contact_id, ticket.id)
    return render_template(
        "console/ticket.html",
        viewer=v,
        ticket=ticket,
        contact=contact_info,
        other_tickets=others,
        hidden_other_tickets=hidden_others,
        related_reference=related_ref,
        messages=queries.timeline_with_automatic(svc, ticket.id),
        statuses=STATUSES,
        priorities=PRIORITIES,
        # The menus offer only what the policy allows this viewer to set.
        queues=sorted({ticket.queue, *settable_queues(svc, v)}),
        agents=[
            (agent_id, name)
            for agent_id, name in queries.agents(svc)
            if v.may_assign_others() or agent_id in (v.id, ticket.assignee_id)
        ],
        categories=queries.categories(svc),
        canned=_canned_for(ticket, contact_info["name"], v.name),
        panels=render_panels(ticket),
        reachable=reachable,
        vendor_socketio=VENDOR_SOCKETIO,
    )


def _canned_for(ticket: Ticket, citizen_name: object, agent_name: str) -> list[tuple[Any, str]]:
    """Canned responses for this ticket's language first, their placeholders already filled."""
    values = {
        "citizen_name": str(citizen_name or ""),
        "reference": ticket.reference,
        "agent_name": agent_name,
    }
    language = canned_texts.ticket_language(ticket.language, ticket.script)
    offered = canned_texts.for_ticket(current_services(), language)
    return [(c, canned_texts.fill(c.body, values)) for c in offered]


@bp.get("/tickets/<reference>/fields")
@login_required
def ticket_fields(reference: str) -> Response:
    """The ticket's editable fields as the server has them now, for an open page to catch up
    after a reconnect. Nothing personal in it, so unlike the page it is not an access-log view;
    a ticket merged away says where it went (the page then navigates, and the merge is told)."""
    ticket = load_ticket(viewer(), reference)
    if ticket.merged_into_id is not None:
        return jsonify({"merged": True})
    return jsonify(
        {
            "status": ticket.status,
            "priority": ticket.priority,
            "category": ticket.category,
            "queue": ticket.queue,
            "assignee_id": ticket.assignee_id,
        }
    )


@bp.get("/tickets/<reference>/timeline")
@login_required
def timeline(reference: str) -> str:
    v = viewer()
    ticket = load_ticket(v, reference)
    after = request.args.get("after", "0")
    after_seq = int(after) if after.isdigit() else 0
    messages = queries.timeline_with_automatic(current_services(), ticket.id, after_seq)
    return render_template("console/_timeline.html", messages=messages)
