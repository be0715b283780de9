"""The public survey page the citizen reaches from the link sent when their ticket is resolved."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _

from helpdesk.auth import public
from helpdesk.extensions import limiter
from helpdesk.outbound import read_survey_token
from helpdesk.services import current_services
from helpdesk.survey.operations import (
    MAX_COMMENT,
    InvalidChange,
    TicketNotFound,
    record_satisfaction,
    survey_ticket,
)

bp = Blueprint("survey", __name__, url_prefix="/survey")
MAX_TOKEN = 200


def _ticket_id(token: str) -> int | None:
    if len(token) > MAX_TOKEN:
        return None
    return read_survey_token(current_app.config["SECRET_KEY"], token)


@bp.route("/<token>", methods=["GET", "POST"])
@public
@limiter.limit("30/minute", methods=["POST"])
def survey(token: str) -> tuple[str, int]:
    svc = current_services()
    ticket_id = _ticket_id(token)
    try:
        ticket = survey_ticket(svc, ticket_id) if ticket_id is not None else None
    except TicketNotFound:
        ticket = None
    if ticket is None:
        return render_template("survey/unknown.html"), 404
    error: str | None = None
    comment = ticket.csat_comment or ""
    if request.method == "POST":
        raw = request.form.get("score", "")
        comment = request.form.get("comment", "")[: MAX_COMMENT + 1]
        if raw not in {"1", "2", "3", "4", "5"}:
            error = _("Please choose a score from 1 to 5.")
        elif len(comment.strip()) > MAX_COMMENT:
            error = _("The comment may have at most %(n)d characters.", n=MAX_COMMENT)
        else:
            try:
                record_satisfaction(svc, ticket_id or 0, int(raw), comment)
            except (InvalidChange, TicketNotFound):
                error = _("Your answer could not be saved. Please try again.")
            else:
                return render_template("survey/thanks.html", reference=ticket.reference), 200
    status = 422 if error else 200
    return render_template(
        "survey/form.html", ticket=ticket, error=error, comment=comment, max_comment=MAX_COMMENT,
        chosen=request.form.get("score") if error else ticket.csat_score,
    ), status
