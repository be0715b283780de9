"""What every /api/v1 answer shares: personal data is never cached, and a request whose path or
query string cannot be read (NUL bytes, which no database stores) gets a 400 in JSON instead of
reaching a query. Any 405 (API or page) names the allowed methods in `Allow`. And no session: an API
call is a bearer token or public, so the session cookie is neither read nor written (issue 14)."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import Flask, Request, current_app, request
from flask.sessions import NullSession, SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from werkzeug.wrappers import Response

from helpdesk.api.errors import error_response

API_PREFIX = "/api/"
MAX_QUERY_VALUE = 2_000


def init_app(app: Flask) -> None:
    app.before_request(refuse_unreadable_request)
    app.after_request(no_store)
    app.session_interface = PageSessionInterface()


class ApiNullSession(NullSession):
    """The empty, read-only session an API request sees; writing to it is a bug of ours."""

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError("An API request has no session: bearer tokens, not cookies.")

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _refuse  # type: ignore[assignment]


class PageSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session for pages; none for /api/.

    Every /api/ view authenticates by bearer token or is public, and the blueprints are exempt
    from CSRF for that reason: a cookie must never count there. Not opening it also spares each
    API call the cookie's signature check, Flask-Login's session bookkeeping and the
    ``Vary: Cookie`` that a read session adds to the answer.
    """

    null_session_class = ApiNullSession
    # (secret key, fallbacks) -> the serializer built for them (see get_signing_serializer)
    _signing: tuple[tuple[Any, ...], URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer, built once per secret key instead of on every request.

        Flask builds a new one each time a session is opened, and every Socket.IO event opens
        one (Flask-SocketIO pushes a request context per event): building it (itsdangerous
        checks its JSON serializer by encoding a sample) cost more than reading the cookie,
        ~20 us of each chat message (bench/chat/run.py). It holds only the keys and settings and
        makes a new signer per call, so threads share it. A changed key (or fallback) builds a new one.
        """
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        signing = self._signing
        if signing is None or signing[0] != keys:
            signing = self._signing = (keys, super().get_signing_serializer(app))
        return signing[1]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(API_PREFIX):
            return None  # Flask then uses make_null_session: an ApiNullSession, never saved
        if "HTTP_COOKIE" not in request.environ and self.get_signing_serializer(app) is not None:
            # No cookie at all (a citizen's chat page without ?lang=, say): the new, empty session
            # Flask would open, without parsing the headers for cookies. Socket.IO opens the
            # session for every event of a connection (bench/chat/run.py, issue 14).
            return self.session_class()
        return super().open_session(app, request)


def _is_api() -> bool:
    return request.path.startswith(API_PREFIX)


def refuse_unreadable_request() -> tuple[Response, int] | None:
    if not _is_api():
        return None
    if "\x00" in request.path:
        return error_response(400, "The path could not be read.", code="bad_path")
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value or len(value) > MAX_QUERY_VALUE:
            return error_response(
                400,
                f"The query parameter '{name[:40]}' could not be read.",
                code="bad_query",
                details={"field": name[:40]},
            )
    return None


def no_store(response: Response) -> Response:
    if response.status_code == 405 and "Allow" not in response.headers:
        # Our JSON and HTML error pages replace werkzeug's; the header RFC 9110 requires stays.
        allowed = current_app.url_map.bind_to_environ(request.environ).allowed_methods(request.path)
        if allowed:
            response.headers["Allow"] = ", ".join(sorted(allowed))
    if _is_api():
        # Tickets, names and addresses: no browser, proxy or shared cache may keep a copy.
        response.headers["Cache-Control"] = "no-store"
    return response
