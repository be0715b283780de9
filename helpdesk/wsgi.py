"""The production web process: the app for a WSGI server, and gunicorn's hooks around it.

``gunicorn -c python:helpdesk.gunicorn_config helpdesk.wsgi:app`` (what ``helpdesk serve
--production`` runs) builds the app from the ``HELPDESK_*`` environment in the worker, on first
use of ``app``: importing this module reads nothing.

Socket.IO runs in threading mode with simple-websocket, so each process has ONE gunicorn worker
with many threads (a WebSocket holds a thread for its life), and more processes sit behind nginx
with sticky sessions (Flask-SocketIO's deployment notes).

A graceful stop (SIGTERM) goes: gunicorn stops accepting; live WebSockets are told to go (each
client reconnects, through the proxy, to another process and resumes its conversation by sequence
number; a message whose acknowledgement was cut is resent with the same client_id and stored
once); in-flight HTTP requests finish within ``graceful_timeout``; then the worker's background
services (only in embedded mode) stop through their own stop hooks.
"""

from __future__ import annotations

import inspect
import logging
import signal
import threading
from typing import Any

from flask import Flask

from helpdesk.services import BackgroundService, Services

log = logging.getLogger(__name__)
_lock = threading.Lock()
_app: Flask | None = None
_started: list[BackgroundService] = []


def create() -> Flask:
    """The app built from the environment (``gunicorn 'helpdesk.wsgi:create()'`` works too)."""
    from helpdesk import create_app
    from helpdesk.settings import Settings

    return create_app(Settings.from_env())


def get_app() -> Flask:
    global _app
    with _lock:
        if _app is None:
            _app = create()
        return _app


def __getattr__(name: str) -> Any:
    # PEP 562: `helpdesk.wsgi:app` is built when the server first asks for it, not at import.
    if name in ("app", "application"):
        return get_app()
    raise AttributeError(name)


def start_services(app: Flask) -> list[BackgroundService]:
    """In embedded mode the web process also runs the SMTP server, outbox and SLA watch."""
    svc: Services = app.extensions["helpdesk"]
    if not svc.settings.embedded_services:
        return []
    from helpdesk.cli.common import start_background

    started = start_background(svc)
    _started.extend(started)
    return started


def stop_services(timeout: float = 20.0) -> None:
    """Stop what start_services started, newest first, each through its own stop hook.

    A service that accepts a timeout (``stop(timeout)``) gets what is left of ours, so an SMTP
    session in the middle of DATA can still be answered 250 or 451 before the process ends.
    """
    while _started:
        service = _started.pop()
        try:
            if "timeout" in inspect.signature(service.stop).parameters:
                service.stop(timeout=timeout)  # type: ignore[call-arg]
            else:
                service.stop()
        except Exception:  # one service failing to stop must not keep the others running
            log.exception("background service %s did not stop cleanly", service.name)


def close_sockets(app: Flask) -> int:
    """Ask every Socket.IO client of this process to go (it reconnects elsewhere); how many."""
    from helpdesk.extensions import get_socketio

    eio = get_socketio(app).server.eio
    sids = list(eio.sockets)
    for sid in sids:
        socket = eio.sockets.pop(sid, None)
        if socket is None:
            continue
        try:
            # wait=False: a long-polling client that never comes back must not hold the stop.
            socket.close(wait=False, reason=eio.reason.SERVER_DISCONNECT)
        except Exception:  # noqa: BLE001 - a socket closing under us is what we want anyway
            log.debug("socket %s was already closing", sid)
    return len(sids)


def install_graceful_stop(app: Flask, handle_exit: Any) -> None:
    """Chain onto gunicorn's SIGTERM handler: it stops accepting; we release the WebSockets.

    Without this a worker would wait the whole ``graceful_timeout`` for WebSocket "requests" that
    never end on their own, and then cut them.
    """

    def on_term(signum: int, frame: Any) -> None:
        handle_exit(signum, frame)
        # Not in the signal handler itself: closing sockets takes locks a thread may hold.
        threading.Thread(
            target=close_sockets, args=(app,), name="close-sockets", daemon=True
        ).start()

    signal.signal(signal.SIGTERM, on_term)
