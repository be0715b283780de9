"""Pages of two-factor sign-in: the second login step, and enrolment / status for an agent.

Both are reachable before a session exists (the login is pending in the signed session cookie
after the password was right), so they are on the public allow-list and check for themselves who
is asking: a logged-in agent, or the pending login of this browser.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from helpdesk.auth import twofactor
from helpdesk.auth.roles import public
from helpdesk.auth.throttle import login_throttle
from helpdesk.auth.views import finish_login, pending_login
from helpdesk.extensions import limiter
from helpdesk.models import Agent
from helpdesk.services import current_services
from helpdesk.tickets.types import Actor

bp = Blueprint("twofactor", __name__)


@bp.after_request
def never_cache(response: Response) -> Response:
    # The enrolment page carries the TOTP secret and the recovery codes, also before a session
    # exists (a role that must enrol): no browser or proxy may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


def _code_limit() -> str:
    return "10 per minute"


@bp.route("/login/code", methods=["GET", "POST"])
@public
@limiter.limit(_code_limit, methods=["POST"])
def code() -> str | Response:
    """The second step: a code from the authenticator app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    pending = pending_login()
    if pending is None or pending.get("enrol"):
        return redirect(url_for("auth.login"))
    svc = current_services()
    status = 200
    if request.method == "POST":
        agent_id = int(pending["agent"])
        with svc.db.session() as s:
            agent = s.get(Agent, agent_id)
            email = agent.email if agent is not None else ""
        address = request.remote_addr or "unknown"
        throttle = login_throttle()  # the same counters as the password: one budget per pair
        outcome = None
        if agent is not None and not throttle.blocked(email, address):
            outcome = twofactor.verify(svc, agent_id, request.form.get("code", ""))
            if outcome is None:
                throttle.failed(email, address)
        if outcome is not None:
            throttle.succeeded(email, address)
            if outcome == "recovery":
                flash(_("You signed in with a recovery code. It cannot be used again; %(left)d "
                        "left.", left=twofactor.recovery_codes_left(svc, agent_id)), "info")
            return finish_login(agent_id, str(pending.get("next") or ""))
        flash(_("That code is not valid, or there were too many attempts. Enter the current "
                "code from your authenticator app, or a recovery code."), "error")
        status = 401
    return render_template("auth/two_factor_code.html"), status  # type: ignore[return-value]


def _enrolling_agent() -> tuple[int, bool] | None:
    """(agent id, whether this is the pending login of a role that must enrol) or None."""
    if current_user.is_authenticated:
        return int(current_user.id), False
    pending = pending_login()
    if pending is not None and pending.get("enrol"):
        return int(pending["agent"]), True
    return None


@bp.route("/account/two-factor", methods=["GET", "POST"])
@public
@limiter.limit(_code_limit, methods=["POST"])
def setup() -> str | Response:
    """Enrolment (QR code, secret as text, confirm with a first code) or, once on, its status."""
    who = _enrolling_agent()
    if who is None:
        return redirect(url_for("auth.login", next=request.path))
    agent_id, at_login = who
    svc = current_services()
    with svc.db.session() as s:
        agent = s.get(Agent, agent_id)
        if agent is None:
            abort(404)
        is_on = twofactor.enabled(agent)
        required = twofactor.required_for(svc, agent)
    action = request.form.get("action") if request.method == "POST" else None
    if is_on:
        if action == "disable" and not at_login:
            return _disable(agent_id, required)
        return render_template(
            "auth/two_factor_status.html",
            required=required,
            codes_left=twofactor.recovery_codes_left(svc, agent_id),
        )
    status = 200
    if action == "confirm":
        codes = twofactor.confirm_enrolment(svc, agent_id, request.form.get("code", ""))
        if codes is not None:
            current_app.logger.info("two-factor enabled for agent %s", agent_id)
            continue_url = url_for("web.home")
            if at_login:  # the required enrolment was the last thing between the agent and work
                pending = pending_login() or {}
                response = finish_login(agent_id, str(pending.get("next") or ""))
                continue_url = response.headers.get("Location", continue_url)
            # Shown once, in this answer only: never stored in clear, never sent anywhere.
            return render_template("auth/recovery_codes.html", codes=codes,
                                   continue_url=continue_url)
        flash(_("That code is not right. Check that the clock of your phone is correct and enter "
                "the code the app shows now."), "error")
        status = 400
    enrolment = twofactor.start_enrolment(svc, agent_id)
    return render_template(  # type: ignore[return-value]
        "auth/two_factor_setup.html",
        enrolment=enrolment,
        qr=enrolment.qr_svg(_("QR code for your authenticator app")),
        required=required,
        at_login=at_login,
    ), status


def _disable(agent_id: int, required: bool) -> str | Response:
    svc = current_services()
    if required:
        flash(_("Your role must use two-factor sign-in, so it cannot be turned off."), "error")
        return redirect(url_for("twofactor.setup"))
    # Turning it off needs a valid code: a session left open on a shared computer is not enough.
    if twofactor.verify(svc, agent_id, request.form.get("code", "")) is None:
        flash(_("That code is not valid. Two-factor sign-in is still on."), "error")
        return redirect(url_for("twofactor.setup"))
    twofactor.disable(svc, agent_id, Actor.agent(agent_id))
    flash(_("Two-factor sign-in is off."), "info")
    return redirect(url_for("twofactor.setup"))


def guard_enrolment() -> Response | None:
    """Called for every logged-in request (helpdesk.security): an agent whose role must use
    two-factor and who has none (the setting was turned on while they were logged in) reaches only
    the enrolment page and logout. A session opened through the office's provider is left alone
    unless HELPDESK_OIDC_LOCAL_2FA asks for the local code too (see helpdesk.auth.oidc)."""
    from helpdesk.auth.oidc import enrolment_due  # it imports the login views

    if not enrolment_due(current_services(), current_user):
        return None
    if request.blueprint == "twofactor" or request.endpoint in {"auth.logout", "static"}:
        return None
    if request.blueprint == "api" or request.accept_mimetypes.best == "application/json":
        abort(403)
    return redirect(url_for("twofactor.setup"))


__all__ = ["bp", "guard_enrolment"]
