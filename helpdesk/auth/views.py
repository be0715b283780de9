"""Login and logout for agents."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from helpdesk.auth import twofactor
from helpdesk.auth.accounts import authenticate, close_session, open_session
from helpdesk.auth.roles import login_required, public
from helpdesk.auth.throttle import login_throttle
from helpdesk.extensions import limiter
from helpdesk.i18n import LANGUAGES
from helpdesk.models import Agent
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
    svc = current_services()
    if request.method == "POST" and not svc.settings.local_login:
        # HELPDESK_LOCAL_LOGIN=off: passwords open nothing here, whatever the account has.
        flash(_("Sign-in with a password is turned off here. Use the button to sign in with "
                "your office account."), "error")
        status = 403
    elif request.method == "POST":
        email = request.form.get("email", "")
        password = request.form.get("password", "")
        address = request.remote_addr or "unknown"
        throttle = login_throttle()
        throttled = throttle.blocked(email, address)
        with svc.db.transaction() as s:
            agent = authenticate(s, email, password, throttled=throttled)
            second_step = agent is not None and (
                twofactor.enabled(agent) or twofactor.needs_enrolment(svc, agent)
            )
            must_enrol = agent is not None and not twofactor.enabled(agent)
        if agent is not None and second_step:
            # The password alone does not open a session: nothing (console, API, sockets) counts
            # this browser as logged in until the second step is done.
            if must_enrol:
                throttle.succeeded(email, address)  # enrolment cannot be guessed: nothing to guess
            # Otherwise the pair's failures are cleared only after the code: a password known to
            # an attacker must not buy fresh code guesses at every login.
            begin_second_step(agent.id, request.args.get("next"), enrol=must_enrol)
            return redirect(url_for("twofactor.setup" if must_enrol else "twofactor.code"))
        if agent is not None:
            throttle.succeeded(email, address)
            return finish_login(agent.id, request.args.get("next"))
        if not throttled:  # a blocked pair's attempts are refused, not counted (the block ends)
            throttle.failed(email, address)
        # One answer for every failure: it must not tell which of them it was.
        flash(_("Wrong email or password, or too many attempts. Please wait a few minutes and "
                "try again."), "error")
        status = 401
    return _login_page(status)  # type: ignore[return-value]


def _login_page(status: int) -> tuple[str, int]:
    from helpdesk.auth import oidc  # it imports this module

    svc = current_services()
    sso = oidc.button_label() if oidc.client() is not None else None
    return render_template("auth/login.html", local_login=svc.settings.local_login,
                           sso_label=sso), status


PENDING = "login_pending"  # the Flask session key of a login waiting for its second step
PENDING_FOR = timedelta(minutes=10)
SSO_SESSION = "sso"  # the Flask session key of a session opened through the provider


def begin_second_step(
    agent_id: int, next_url: str | None, *, enrol: bool, sso: dict[str, Any] | None = None
) -> None:
    chosen = session.get("lang")
    session.clear()
    if chosen in LANGUAGES:
        session["lang"] = chosen
    session[PENDING] = {
        "agent": agent_id,
        "since": current_services().clock.now().timestamp(),
        "next": next_url or "",
        "enrol": enrol,
        "sso": sso,  # a sign-in through the provider: carried into the session it opens
    }


def pending_login() -> dict[str, Any] | None:
    """The login waiting for its second factor in this browser, if it is still fresh."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    now = current_services().clock.now().timestamp()
    if now - float(pending.get("since", 0)) > PENDING_FOR.total_seconds():
        session.pop(PENDING, None)
        return None
    return pending


def finish_login(
    agent_id: int, next_url: str | None, *, sso: dict[str, Any] | None = None
) -> Response:
    """Open the agent's session: the password or the provider (and the second factor, when it has
    one) passed. ``sso`` marks a session opened through the provider (helpdesk.auth.oidc)."""
    svc = current_services()
    pending = session.get(PENDING)
    if sso is None and isinstance(pending, dict) and pending.get("agent") == agent_id:
        sso = pending.get("sso") or None
    with svc.db.transaction() as s:
        agent = s.get(Agent, agent_id)
        if agent is None or not agent.active:  # deactivated between the two steps
            session.pop(PENDING, None)
            return redirect(url_for("auth.login"))
        key = open_session(s, agent, svc.clock.now())
    chosen = session.get("lang")
    session.clear()  # nothing from before the login survives into the agent's session...
    if chosen in LANGUAGES:  # ...but the language picked on the login page
        session["lang"] = g.remember_agent_language = chosen
    if sso is not None:
        session[SSO_SESSION] = sso
    agent.session_key = key
    login_user(agent)
    return redirect(_safe_next(next_url))


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    svc = current_services()
    from helpdesk.auth import oidc  # it imports this module

    with svc.db.transaction() as s:
        close_session(s, current_user.session_key)
    marker = session.get(SSO_SESSION)
    signed_in_here = isinstance(marker, dict) and marker.get("agent") == current_user.id
    logout_user()
    session.clear()
    # Signed in through the provider: end the session there too when it says how (else the next
    # click on "Sign in with ..." would come straight back without asking anyone).
    provider_logout = oidc.logout_url(marker) if signed_in_here else None
    return redirect(provider_logout or url_for("auth.login"))
