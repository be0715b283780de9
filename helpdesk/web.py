"""Pages and endpoints that belong to no feature: home, health, metrics, files, front-end packages."""

from __future__ import annotations

import hmac
import io
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    send_from_directory,
    url_for,
)
from flask_login import current_user
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.access import can_see, load_viewer
from helpdesk.attachments import SealedFileUnreadable
from helpdesk.auth import login_required, public
from helpdesk.i18n import current_language
from helpdesk.models import Attachment
from helpdesk.office import office
from helpdesk.privacy.originals import open_attachment
from helpdesk.services import current_services
from helpdesk.tickets.types import TicketNotFound

bp = Blueprint("web", __name__)

NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
# Only these npm packages are served, and only their distributed files.
VENDOR = {"socket.io-client": "dist", "axe-core": ""}


@bp.route("/")
@public
def home() -> Response | str:
    """The citizen's front door; signed-in staff go on to their own start page."""
    if current_user.is_authenticated:
        if current_user.has_role("supervisor") and "supervisor.dashboard" in current_app.view_functions:
            return redirect(url_for("supervisor.dashboard"))
        if "console.index" in current_app.view_functions:
            return redirect(url_for("console.index"))
    svc = current_services()
    views = current_app.view_functions
    return render_template(
        "home.html",
        office=office(svc.settings, current_language(), svc.clock.now()),
        has_help="help.index" in views,
        has_chat="chat.chat_page" in views,
        has_contact="contact.form" in views,
        has_callback="callback.form" in views,
    )


@bp.route("/healthz")
@public
def healthz() -> tuple[dict[str, str], int]:
    # A read of a real table, bounded to a few seconds even when the database is frozen (not
    # down): a load balancer needs the answer "not healthy" in time to route around this node.
    if not current_services().db.ping("tickets", timeout=3.0):
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}, 200


@bp.route("/metrics")
@public
def metrics() -> Response:
    token = current_services().settings.metrics_token
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        # As bytes: compare_digest refuses non-ASCII text, and a header may hold anything.
        if not hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8")):
            abort(401)
    registry = current_app.extensions["metrics_registry"]
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


@bp.route("/vendor/<package>/<path:filename>")
@public
def vendor(package: str, filename: str) -> Response:
    if package not in VENDOR:
        abort(404)
    return send_from_directory(NODE_MODULES / package / VENDOR[package], filename, max_age=3600)


@bp.route("/attachments/<token>")
@login_required
def attachment(token: str) -> Response:
    """Files are served by their random public id, only to whoever may see their ticket, as
    downloads (images and audio inline), never rendered as a page of our origin."""
    svc = current_services()
    if len(token) > 64:
        abort(404)
    viewer = load_viewer(svc, current_user.id)
    with svc.db.session() as s:
        row = s.scalar(select(Attachment).where(Attachment.public_id == token))
        if row is None:
            abort(404)
        if viewer is None or not can_see(viewer, row.message.ticket):
            abort(403)
        attachment_id = row.id
        name, content_type = row.filename or f"attachment-{row.id}", row.content_type
    try:
        # A file that holds a JMBG is kept sealed; opening it is an audited reveal.
        data = open_attachment(svc, viewer, attachment_id)
    except (FileNotFoundError, TicketNotFound):
        abort(404)
    except SealedFileUnreadable:
        abort(410)  # sealed with a privacy key this office no longer has
    inline = content_type.startswith(("image/png", "image/jpeg", "image/gif", "audio/"))
    response = send_file(
        io.BytesIO(data),
        mimetype=content_type if inline else "application/octet-stream",
        as_attachment=not inline,
        download_name=name,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
