"""Security headers and the login-by-default rule."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

CSP_TEMPLATE = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src {connect}; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
CSP = CSP_TEMPLATE.format(connect="'self'")  # the policy before the public URL is known


def connect_sources(public_url: str) -> str:
    """Our own origin only: 'self', plus the WebSocket form of HELPDESK_PUBLIC_URL (older browsers
    do not let 'self' cover ws:/wss:). Never any other host: a page of ours cannot talk elsewhere.
    The chat embedded on other sites is our own page in an iframe, so it connects here too."""
    parts = urlsplit(public_url)
    if not parts.netloc:
        return "'self'"
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"'self' {scheme}://{parts.netloc}"


def current_csp() -> str:
    return str(current_app.config.get("HELPDESK_CSP", CSP))


PUBLIC_ENDPOINTS = {"static", "vendor"}


def init_security(app: Flask) -> None:
    public_url = app.extensions["helpdesk"].settings.public_url
    csp = CSP_TEMPLATE.format(connect=connect_sources(public_url))
    from helpdesk.auth.oidc import form_action_origin

    if provider := form_action_origin(app.extensions["helpdesk"].settings):
        # Sign-in and logout forms are answered by a redirect to the office's identity provider.
        csp = csp.replace("form-action 'self'", f"form-action 'self' {provider}")
    app.config["HELPDESK_CSP"] = csp
    app.before_request(require_login)
    app.after_request(set_headers)
    secure_every_response(app)


def require_login() -> Response | None:
    """Every view needs a logged-in agent unless it is on the public allow-list."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return None
    view = current_app.view_functions.get(endpoint)
    if getattr(view, "_public", False):
        return None
    if current_user.is_authenticated:
        from helpdesk.auth.twofactor_views import guard_enrolment

        return guard_enrolment()  # a role that must use two-factor reaches nothing else first
    if request.blueprint == "api":
        return None  # bearer tokens: the API answers 401 itself, in JSON
    if request.accept_mimetypes.best == "application/json":
        abort(401)  # a script gets a status, not a redirect to the login page
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def set_headers(response: Response) -> Response:
    """The pages' own policy. The other protections (nosniff, framing, Referer, permissions,
    COOP, HSTS) are added to every response, these too, by ``secure_every_response``."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", current_csp())
    # Agent pages hold personal data. An answer that already says how to cache (every API answer
    # says no-store) needs no look at the signed-in user, which would load the session.
    if "Cache-Control" not in headers and getattr(current_user, "is_authenticated", False):
        headers["Cache-Control"] = "no-store"
    return response


# Engine.IO (/socket.io/) answers before Flask sees the request, so after_request never runs for
# it: this WSGI layer gives every response, Flask's and Engine.IO's, the same protections (a payload
# must not be sniffed as HTML, framed, or leak its URL in a Referer). Headers a response has are
# kept, so a page's own Content-Security-Policy (set_headers) wins over the strict one here.
BASELINE_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Permissions-Policy", "camera=(), geolocation=(), microphone=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


def secure_every_response(app: Flask) -> None:
    inner = app.wsgi_app
    extra = list(BASELINE_HEADERS)
    if app.config.get("SESSION_COOKIE_SECURE"):
        extra.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            headers = headers + [(k, v) for k, v in extra if k.lower() not in present]
            return start_response(status, headers, exc_info)

        return inner(environ, start)

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]
