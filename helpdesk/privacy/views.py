"""The console's "Show number": a sealed JMBG revealed to an agent who may see the ticket."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, abort, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext
from flask_login import current_user, login_required

from helpdesk.access import PRIVACY_ROLE, AccessDenied, load_viewer
from helpdesk.navigation import add_nav_link
from helpdesk.privacy import vault
from helpdesk.privacy.reveal import NothingToReveal, reveal
from helpdesk.services import current_services
from helpdesk.tickets import TicketNotFound

bp = Blueprint("privacy", __name__, url_prefix="/console")


@bp.post("/messages/<int:message_id>/reveal")
@login_required
def reveal_number(message_id: int) -> Response:
    """POST (CSRF-checked like every form): the numbers as JSON for the console's script, or as a
    small page without script. Never cached: the answer holds the number itself."""
    svc = current_services()
    viewer = load_viewer(svc, current_user.id)
    if viewer is None:
        abort(403)
    try:
        reference, numbers = reveal(svc, viewer, message_id)
    except (TicketNotFound, NothingToReveal):
        abort(404)
    except AccessDenied:
        abort(403)
    if request.accept_mimetypes.best == "application/json":
        response = jsonify({"reference": reference, "message_id": message_id, "numbers": numbers})
    else:
        response = make_response(
            render_template(
                "privacy/revealed.html", reference=reference, message_id=message_id, numbers=numbers
            )
        )
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    from helpdesk.privacy import access_log
    from helpdesk.privacy.pages import bp as pages_bp
    from helpdesk.privacy.retention import RetentionJob

    app.register_blueprint(bp)
    app.register_blueprint(pages_bp)
    access_log.init_app(app)
    add_nav_link(app, "privacy_pages.requests", lazy_gettext("Privacy"), role=PRIVACY_ROLE)
    svc = app.extensions["helpdesk"]
    if not any(isinstance(s, RetentionJob) for s in svc.background):
        svc.background.append(RetentionJob(svc))  # the worker runs the schedule daily

    @app.template_global()
    def sealed_messages(messages: list[dict[str, Any]]) -> set[int]:
        """The ids among these timeline messages that have a number to reveal (one query)."""
        # Automatic messages (acknowledgements from the outbox) have no id and hold no text.
        ids = [m["id"] for m in messages if "id" in m]
        return vault.has_sealed(current_services(), ids)
