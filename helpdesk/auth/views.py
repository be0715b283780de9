"""Login and logout for agents."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from helpdesk.auth.accounts import authenticate, close_session, open_session
from helpdesk.auth.roles import login_required, public
from helpdesk.auth.throttle import login_throttle
from helpdesk.extensions import limiter
from helpdesk.i18n import LANGUAGES
from helpdesk.services import current_services

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only a local path: never let ?next= send an agent to another site."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("web.home")


def _login_limit() -> str:
    return "10 per minute"


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    status = 200
    if request.method == "POST":
        svc = current_services()
        email = request.form.get("email", "")
        password = request.form.get("password", "")
        address = request.remote_addr or "unknown"
        throttle = login_throttle()
        throttled = throttle.blocked(email, address)
        with svc.db.transaction() as s:
            now = svc.clock.now()
            agent = authenticate(s, email, password, throttled=throttled)
            key = open_session(s, agent, now) if agent is not None else None
        if agent is not None and key is not None:
            throttle.succeeded(email, address)
            chosen = session.get("lang")
            session.clear()  # nothing from before the login survives into the agent's session...
            if chosen in LANGUAGES:  # ...but the language picked on the login page
                session["lang"] = g.remember_agent_language = chosen
            agent.session_key = key
            login_user(agent)
            return redirect(_safe_next(request.args.get("next")))
        if not throttled:  # a blocked pair's attempts are refused, not counted (the block ends)
            throttle.failed(email, address)
        # One answer for every failure: it must not tell which of them it was.
        flash(_("Wrong email or password, or too many attempts. Please wait a few minutes and "
                "try again."), "error")
        status = 401
    return render_template("auth/login.html"), status  # type: ignore[return-value]


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    svc = current_services()
    with svc.db.transaction() as s:
        close_session(s, current_user.session_key)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
