"""The access log of both web servers (Werkzeug's for `make run`, gunicorn's for production), and
the embedded server's request handler.

An access log line names the route pattern (``GET /survey/<token> 200``), never the raw path or the
query string: survey links, chat and reply tokens are credentials, and search terms are citizens'
words. The app writes the matched rule into the WSGI environ (``ROUTE_KEY``); a path no rule matched
keeps only its first segment. Engine.IO's path is fixed; its query (sid) is dropped like any.
"""

from __future__ import annotations

import gc
import logging
import socket
from typing import Any

from flask import Flask, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler
from werkzeug.serving import make_server as werkzeug_make_server

ROUTE_KEY = "helpdesk.route"
ENGINEIO_PATH = "/socket.io/"  # a fixed path; its query (sid) is dropped like any other
log = logging.getLogger("werkzeug")


def init_access_log(app: Flask) -> None:
    """Let the server's access log learn which route served the request.

    Flask-SocketIO's middleware hands Flask a copy of the environ, so the server would never see a
    key Flask adds; a dict put in by the outermost layer is shared by the copy, and Flask fills it.
    """
    inner = app.wsgi_app

    def with_route_slot(environ: dict[str, Any], start_response: Any) -> Any:
        environ[ROUTE_KEY] = {}
        return inner(environ, start_response)

    app.wsgi_app = with_route_slot  # type: ignore[method-assign]

    @app.teardown_request
    def drop_routing_exception(_exc: BaseException | None) -> None:
        # Flask keeps a NotFound from matching the path on the request, its traceback holding
        # the frames that hold the request: a reference cycle per request left to the garbage
        # collector. Every Socket.IO event matches Engine.IO's path (no route), so each left
        # ~60 objects (the handler's whole stack); the collector's full passes over this
        # process's ~200,000 objects then cost 100+ ms each (bench/chat/run.py, issue 14).
        request.routing_exception = None

    @app.url_value_preprocessor  # runs before every before_request (CSRF, login) can abort
    def remember_route(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
        slot = request.environ.get(ROUTE_KEY)
        if isinstance(slot, dict) and request.url_rule is not None:
            slot["route"] = request.url_rule.rule


def route_for_log(environ: dict[str, Any]) -> str:
    """What the access log may show of this request's path."""
    route = (environ.get(ROUTE_KEY) or {}).get("route")
    if isinstance(route, str):
        return route
    path = str(environ.get("PATH_INFO") or "/")
    if path.startswith(ENGINEIO_PATH):
        return ENGINEIO_PATH
    first, _, rest = path.lstrip("/").partition("/")
    return f"/{first}/…" if rest else f"/{first}"


class RequestHandler(WSGIRequestHandler):
    """Werkzeug's handler with a private access log, small writes sent at once, and a clean end
    for WebSockets."""

    def setup(self) -> None:
        super().setup()
        # A chat message is one small WebSocket frame. With Nagle's algorithm on (Werkzeug leaves
        # it on), a frame written while the previous one is unacknowledged waits for the peer's
        # delayed ACK, up to 40 ms on Linux: the console saw chat messages 40 ms late at a steady
        # 300 msg/s (bench/chat/run.py --rate). gunicorn and nginx already turn it off.
        if self.connection.family in (socket.AF_INET, socket.AF_INET6):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        # simple-websocket takes the socket over and Engine.IO ends the request with a
        # ConnectionError once the WebSocket is closed. Nothing that follows on this connection is
        # HTTP any more: without this, http.server reads the leftover close-frame bytes as a new
        # request and logs "ERROR ... Bad request version" at every WebSocket close.
        self.close_connection = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not log.isEnabledFor(logging.INFO):  # HELPDESK_LOG_LEVEL above INFO: no line to build
            return
        environ = getattr(self, "environ", None)
        if environ is None:  # the request line itself was unreadable: nothing of it is logged
            self.log("info", '"-" %s %s', code, size)
            return
        line = f"{environ['REQUEST_METHOD']} {route_for_log(environ)} {self.request_version}"
        self.log("info", '"%s" %s %s', line, code, size)

    def log_error(self, format: str, *args: Any) -> None:
        # http.server's "code 400, message Bad request syntax ('<raw request line>')": a client's
        # malformed request is not our error, and its raw line may carry a token.
        if format.startswith("code %d") and args:
            self.log("warning", "code %d: malformed request refused", args[0])
            return
        self.log("error", format, *args)


def settle_heap() -> None:
    """Before serving: what start-up built (app, models, the triage model, catalogs: about
    200,000 objects) lives as long as the process, so move it out of the garbage collector's
    way. Its full passes otherwise walk all of it every few hundred chat messages (100+ ms of
    CPU each, every thread stopped meanwhile: bench/chat/run.py, issue 14)."""
    gc.collect()
    gc.freeze()


def make_server(host: str, port: int, app: Any) -> BaseWSGIServer:
    """The embedded threaded server (simple-websocket supports it) with our request handler."""
    return werkzeug_make_server(host, port, app, threaded=True, request_handler=RequestHandler)


try:  # gunicorn is the production server; the embedded one runs without it
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover - gunicorn is in requirements.lock
    _GunicornLogger = object  # type: ignore[assignment,misc]


class GunicornLogger(_GunicornLogger):  # type: ignore[misc,valid-type]
    """gunicorn's logger whose access-log atoms carry the route pattern, never the raw URL."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        route = route_for_log(environ)
        atoms["U"] = route
        atoms["q"] = ""
        atoms["r"] = f"{environ.get('REQUEST_METHOD', '-')} {route} {environ.get('SERVER_PROTOCOL', '-')}"
        # the Referer holds the previous page's full URL (a survey link, say)
        atoms["f"] = atoms["{referer}i"] = "-"
        return atoms
