"""Staff single sign-on with OpenID Connect (Authlib's Flask client).

The authorization code flow with PKCE (S256): the state, the nonce and the code verifier live in
the signed session cookie between the two requests; the callback refuses a state it did not
issue; the ID token's signature (the provider's published keys), issuer, audience, expiry and
nonce are checked before anything is believed. Claims the provider keeps for the userinfo
endpoint are fetched there and accepted only for the same subject.

Local TOTP after an SSO sign-in: off by default (HELPDESK_OIDC_LOCAL_2FA) — the office's provider
is where staff MFA is enforced, and asking twice teaches people to approve prompts blindly. With
the setting on, an SSO sign-in goes through the same second step as a password.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from joserfc.errors import JoseError
from requests import RequestException

from helpdesk.auth import oidc_accounts, twofactor
from helpdesk.auth.oidc_claims import configured, origin, person
from helpdesk.auth.roles import public
from helpdesk.auth.views import SSO_SESSION, begin_second_step, finish_login
from helpdesk.extensions import limiter
from helpdesk.models import Agent
from helpdesk.services import Services, current_services
from helpdesk.settings import Settings

log = logging.getLogger(__name__)
bp = Blueprint("oidc", __name__)
EXTENSION = "helpdesk_oidc"
NEXT = "sso_next"  # where to go after the sign-in, kept across the round trip
FAILURES = (AuthlibBaseError, JoseError, RequestException, ValueError, KeyError, TypeError)


def init_app(app: Flask, settings: Settings) -> None:
    app.register_blueprint(bp)
    if not configured(settings):
        return
    assert settings.oidc_issuer is not None
    kwargs: dict[str, Any] = {
        "scope": settings.oidc_scopes,
        "code_challenge_method": "S256",
        "default_timeout": 10,
    }
    if not settings.oidc_client_secret:
        kwargs["token_endpoint_auth_method"] = "none"  # noqa: S105 (a public client: PKCE alone)
    app.extensions[EXTENSION] = OAuth(app).register(
        name="office",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs=kwargs,
    )


def client() -> Any | None:
    return current_app.extensions.get(EXTENSION)


def provider_name() -> str:
    return current_services().settings.oidc_provider_name


def form_action_origin(settings: Settings) -> str:
    """The provider's origin, for the pages' CSP: the sign-in button and logout are forms whose
    answer redirects there, and `form-action 'self'` would stop the browser at the redirect."""
    return origin(settings.oidc_issuer) if configured(settings) else ""


def _limit() -> str:
    # Per client address, and an office's staff may share one (NAT) at nine o'clock. Nothing here
    # can be guessed (a callback without this browser's state fails before any call out).
    return "60 per minute"


@bp.route("/login/oidc", methods=["POST"])
@public
@limiter.limit(_limit)
def start() -> ResponseReturnValue:
    """The "Sign in with ..." button: off to the provider (a form with CSRF, so no other site can
    start a sign-in in this browser)."""
    office = client()
    if office is None:
        abort(404)
    session[NEXT] = request.args.get("next") or ""
    redirect_uri = current_services().settings.public_url + url_for("oidc.callback")
    try:
        return office.authorize_redirect(redirect_uri)  # type: ignore[no-any-return]
    except FAILURES as exc:  # the provider is down or its metadata is wrong
        log.warning("sso: cannot reach the provider: %s", type(exc).__name__)
        return _refused("unavailable", 503)


@bp.route("/login/oidc/callback")
@public
@limiter.limit(_limit)
def callback() -> ResponseReturnValue:
    office = client()
    if office is None:
        abort(404)
    svc = current_services()
    try:
        token = office.authorize_access_token()  # state, PKCE, ID token (signature, nonce, ...)
        claims = _claims(office, token, svc.settings)
    except FAILURES as exc:
        # The class of the error is enough to diagnose; the messages may quote claims.
        log.warning("sso sign-in failed: %s", type(exc).__name__)
        oidc_accounts.audit(svc, "sso.failed", error=type(exc).__name__)
        return _refused("failed", 400)
    who = person(svc.settings, claims)
    if who is None:
        oidc_accounts.audit(svc, "sso.refused", reason="no_email")
        return _refused("no_email", 403)
    outcome = oidc_accounts.sign_in(svc, who)
    if outcome.refused is not None or outcome.agent_id is None:
        return _refused(outcome.refused or "failed", 403)
    signed_in = {"agent": outcome.agent_id, "id_token": str(token.get("id_token", ""))}
    next_url = str(session.pop(NEXT, "") or "")
    if svc.settings.oidc_local_2fa:
        with svc.db.session() as s:
            agent = s.get_one(Agent, outcome.agent_id)
            must_enrol = twofactor.needs_enrolment(svc, agent)
            second_step = twofactor.enabled(agent) or must_enrol
        if second_step:
            begin_second_step(outcome.agent_id, next_url, enrol=must_enrol, sso=signed_in)
            return redirect(url_for("twofactor.setup" if must_enrol else "twofactor.code"))
    return finish_login(outcome.agent_id, next_url, sso=signed_in)


def _claims(office: Any, token: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The ID token's claims (validated by Authlib), completed from the userinfo endpoint."""
    metadata = office.load_server_metadata()
    # Mix-up defence: the discovery document must be the configured issuer's own.
    if str(metadata.get("issuer", "")).rstrip("/") != str(settings.oidc_issuer).rstrip("/"):
        raise ValueError("issuer mismatch")
    verified = token.get("userinfo")
    if not token.get("id_token") or not verified or not verified.get("sub"):
        raise ValueError("no ID token")  # a plain OAuth answer proves nobody's identity
    claims = dict(verified)
    if metadata.get("userinfo_endpoint"):
        extra = dict(office.userinfo(token=token))
        if extra.get("sub") != claims["sub"]:
            raise ValueError("userinfo subject mismatch")
        claims = {**extra, **claims}  # the signed ID token wins where both say something
    return claims


def _refused(reason: str, status: int) -> tuple[str, int]:
    return render_template("auth/sso_refused.html", reason=reason, provider=provider_name()), status


def trusted_session() -> bool:
    """True when this session was opened through the provider and its MFA stands in for the local
    TOTP (HELPDESK_OIDC_LOCAL_2FA off): the enrolment guard then leaves the agent alone."""
    marker = session.get(SSO_SESSION)
    return (
        isinstance(marker, dict)
        and marker.get("agent") == getattr(current_user, "id", None)
        and not current_services().settings.oidc_local_2fa
    )


def enrolment_due(svc: Services, agent: Agent) -> bool:
    """Whether a logged-in agent must enrol in local two-factor before anything else (pages and
    the console socket ask the same question): never for a session the provider vouches for."""
    return twofactor.needs_enrolment(svc, agent) and not trusted_session()


def logout_url(marker: Any) -> str | None:
    """The provider's end_session_endpoint (RP-initiated logout) when it advertises one, with the
    ID token as the hint; it sends the browser back to our login page."""
    office = client()
    if office is None or not isinstance(marker, dict) or not marker.get("id_token"):
        return None
    try:
        endpoint = office.load_server_metadata().get("end_session_endpoint")
    except FAILURES:
        return None
    if not endpoint:
        return None
    back = current_services().settings.public_url + url_for("auth.login")
    query = urlencode(
        {"id_token_hint": marker["id_token"], "post_logout_redirect_uri": back, "client_id": office.client_id}
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def button_label() -> str:
    name = provider_name()
    return _("Sign in with %(provider)s", provider=name) if name else _("Sign in with your office account")


__all__ = ["bp", "button_label", "enrolment_due", "init_app", "logout_url", "trusted_session"]
