"""What every /api/v1 answer shares: personal data is never cached, and a request whose path or
query string cannot be read (NUL bytes, which no database stores) gets a 400 in JSON instead of
reaching a query. Any 405 (API or page) names the allowed methods in `Allow`."""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.wrappers import Response

from helpdesk.api.errors import error_response

API_PREFIX = "/api/"
MAX_QUERY_VALUE = 2_000


def init_app(app: Flask) -> None:
    app.before_request(refuse_unreadable_request)
    app.after_request(no_store)


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
                400, f"The query parameter '{name[:40]}' could not be read.", code="bad_query",
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
