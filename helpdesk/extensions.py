"""Flask extensions, created once and bound to each app in the factory."""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask
from flask.globals import request_ctx
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_wtf import CSRFProtect
from limits.storage import MemoryStorage
from werkzeug.wrappers import Response

from helpdesk.i18n import SerbianBabel
from helpdesk.socket_packet import Packet, check_queue_emits


class SweptMemoryStorage(MemoryStorage):
    """limits' in-process storage without a thread per request (issue 14).

    MemoryStorage starts a fresh ``threading.Timer`` (0.01 s) on every hit once the last one has
    finished, only to drop expired keys; a counter is already checked for expiry when read. At
    one API request in 10 ms or slower that is a thread start per request: cProfile put it at
    most of the limiter's cost and ~1/5 of a ticket created over the API. Here the same sweep
    runs inline, at most once a second. The limits themselves are unchanged.
    """

    STORAGE_SCHEME = ["helpdesk-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        self._swept_at = time.monotonic()
        self._sweep_lock = threading.Lock()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    # Replaces MemoryStorage.__schedule_expiry (name-mangled), which every incr/acquire calls.
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now - self._swept_at < self.SWEEP_SECONDS or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._swept_at = now
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]  # the base sweep
        finally:
            self._sweep_lock.release()


# The storage of counters when no Redis is configured (one process): see SweptMemoryStorage.
MEMORY_STORAGE_URI = "helpdesk-memory://"

login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
babel = SerbianBabel()


def skip_empty_limit_pass(app: Flask, extension: Limiter | None = None) -> bool:
    """Drop flask-limiter's before_request pass when it can find no limit to count (issue 14).

    flask-limiter looks at every request twice: a before_request pass for default, application,
    blueprint and meta limits, then the ``@limiter.limit`` decorator of the view for its own limit.
    This app has only decorated limits, so the first pass resolves an empty list on every request
    (~0.1 ms of each API create). Should any of the other kinds be configured, the pass stays.
    Call it once every blueprint is registered. True when the pass was dropped.
    """
    extension = extension or limiter
    manager = extension.limit_manager
    if (
        manager.application_limits
        or manager.default_limits
        or manager._blueprint_limits  # limiter.limit(blueprint): only the pass checks those
        or extension._meta_limits
        or extension._in_memory_fallback
    ):
        return False
    hooks = app.before_request_funcs.get(None, [])
    hooks[:] = [hook for hook in hooks if hook != extension._check_request_limit]
    return True


def limiter_hooks_when_used(app: Flask, extension: Limiter | None = None) -> None:
    """flask-limiter's after_request (rate-limit headers, conditional deductions) and teardown
    (reset of its per-request state) run only for a request whose limits it looked at (issue 14).

    Both read that state through ``extension.context``, which makes it on first use; a request no
    limit was checked for (every page and API call without ``@limiter.limit``; the public ticket
    form counts its own, ``api/rate.py``) would make it only to find nothing to add or reset.
    """
    extension = extension or limiter
    inject = next(
        (
            h
            for h in app.after_request_funcs.get(None, [])
            if getattr(h, "func", None) is getattr(Limiter, "_Limiter__inject_headers", None)
        ),
        None,
    )
    release = extension._Limiter__release_context  # type: ignore[attr-defined]
    teardown = app.teardown_request_funcs.get(None, [])
    if inject is None or release not in teardown:
        raise RuntimeError("flask-limiter's request hooks not found")

    def limiter_headers(response: Response) -> Response:
        return inject(response) if _limiter_used() else response  # type: ignore[return-value]

    def limiter_release(exc: BaseException | None = None) -> None:
        if _limiter_used():
            release(exc)

    after = app.after_request_funcs[None]
    after[after.index(inject)] = limiter_headers
    teardown[teardown.index(release)] = limiter_release


def _limiter_used() -> bool:
    # flask-limiter keeps its per-request state on the request context under this name (4.x).
    return hasattr(request_ctx._get_current_object(), "_limiter_request_context")  # type: ignore[attr-defined]


def make_socketio(app: Flask) -> SocketIO:
    """Socket.IO for one app: threading mode with simple-websocket, never eventlet.

    One server per app (not a module global), so a test can run two apps side by side. With a
    Redis URL, emits from any process (SMTP, worker, another server) reach every console.
    """
    settings = app.extensions["helpdesk"].settings
    # None lets Engine.IO accept only the same origin; embedding sites are listed explicitly.
    origins = [settings.public_url, *settings.chat_origins] if settings.chat_origins else None
    if settings.redis_url:
        check_queue_emits()
    socketio = SocketIO(
        app,
        async_mode="threading",
        message_queue=settings.redis_url,
        channel=settings.socketio_channel,
        cors_allowed_origins=origins,
        manage_session=False,
        logger=False,
        engineio_logger=False,
        # A connection's events are handled one after the other on its reader thread, not each
        # on a new thread: a thread per event cost ~0.4 ms of the chat's 2.6 ms of server CPU per
        # message (bench/chat/run.py, 50 citizens), and a connection's events now run in the
        # order they were sent. A handler blocks only its own connection (each has its own
        # reader thread); none may wait on its own client (server-side call() is refused).
        async_handlers=False,
        serializer=Packet,  # python-socketio's packets, with a cheaper check for binary payloads
    )
    socket_path_only(app)
    return socketio


def socket_path_only(app: Flask) -> None:
    """Send only Socket.IO's own path through its WSGI middleware; every other request straight
    to the app it wraps. For those the middleware (Flask-SocketIO's, python-socketio's and
    Engine.IO's, one in another) only passed the request on, after copying the environ and
    building a class (eventlet's socket wrapper) for each request: ~1-2% of an API create's
    CPU (issue 14). The same test as Engine.IO's own (the path's start), the same inner app."""
    middleware: Any = app.wsgi_app
    inner, path = middleware.wsgi_app, middleware.engineio_path
    if middleware.static_files:  # it serves files of its own: leave it all to it
        return

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
        target = environ.get("PATH_INFO") or ""
        if target.startswith(path):
            return middleware(environ, start_response)
        return inner(environ, start_response)

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]


def get_socketio(app: Flask) -> SocketIO:
    socketio: SocketIO = app.extensions["socketio"]
    return socketio
