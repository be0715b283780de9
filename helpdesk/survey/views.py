"""The public survey page the citizen reaches from the link sent when their ticket is resolved.

A link works for HELPDESK_SURVEY_LINK_DAYS after it was sent, and for one answer.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _

from helpdesk.auth import public
from helpdesk.extensions import limiter
from helpdesk.outbound import SurveyLink, read_survey_token
from helpdesk.services import current_services
from helpdesk.survey.operations import (
    MAX_COMMENT,
    AlreadyAnswered,
    InvalidChange,
    SurveyTicket,
    TicketNotFound,
    record_satisfaction,
    survey_ticket,
)

bp = Blueprint("survey", __name__, url_prefix="/survey")
MAX_TOKEN = 200


def _link(token: str) -> SurveyLink | None:
    if len(token) > MAX_TOKEN:
        return None
    return read_survey_token(current_app.config["SECRET_KEY"], token)


def _expired(link: SurveyLink, ticket: SurveyTicket) -> bool:
    svc = current_services()
    # Links from before they carried a date count from the ticket's resolution.
    sent = link.issued_at or ticket.resolved_at
    if sent is None:
        return True
    return svc.clock.now() - sent > timedelta(days=svc.settings.survey_link_days)


@bp.route("/<token>", methods=["GET", "POST"])
@public
@limiter.limit("30/minute", methods=["POST"])
def survey(token: str) -> tuple[str, int]:
    svc = current_services()
    link = _link(token)
    try:
        ticket = survey_ticket(svc, link.ticket_id) if link is not None else None
    except TicketNotFound:
        ticket = None
    if link is None or ticket is None:
        return render_template("survey/unknown.html"), 404
    if ticket.csat_score is not None:
        # Answered: the link shows that, whoever holds it; a second POST changes nothing.
        status = 409 if request.method == "POST" else 200
        return render_template("survey/answered.html", ticket=ticket), status
    if _expired(link, ticket):
        return render_template(
            "survey/expired.html", reference=ticket.reference, days=svc.settings.survey_link_days
        ), 410
    error: str | None = None
    comment = ""
    if request.method == "POST":
        raw = request.form.get("score", "")
        comment = request.form.get("comment", "")[: MAX_COMMENT + 1]
        if raw not in {"1", "2", "3", "4", "5"}:
            error = _("Please choose a score from 1 to 5.")
        elif len(comment.strip()) > MAX_COMMENT:
            error = _("The comment may have at most %(n)d characters.", n=MAX_COMMENT)
        else:
            try:
                record_satisfaction(svc, link.ticket_id, int(raw), comment)
            except AlreadyAnswered:  # another tab got there first
                return render_template("survey/answered.html", ticket=survey_ticket(
                    svc, link.ticket_id)), 409
            except (InvalidChange, TicketNotFound):
                error = _("Your answer could not be saved. Please try again.")
            else:
                return render_template("survey/thanks.html", reference=ticket.reference), 200
    status = 422 if error else 200
    return render_template(
        "survey/form.html", ticket=ticket, error=error, comment=comment, max_comment=MAX_COMMENT,
        chosen=request.form.get("score") if error else None,
    ), status
