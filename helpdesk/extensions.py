"""Flask extensions, created once and bound to each app in the factory."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_wtf import CSRFProtect

from helpdesk.i18n import SerbianBabel

login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
babel = SerbianBabel()


def make_socketio(app: Flask) -> SocketIO:
    """Socket.IO for one app: threading mode with simple-websocket, never eventlet.

    One server per app (not a module global), so a test can run two apps side by side. With a
    Redis URL, emits from any process (SMTP, worker, another server) reach every console.
    """
    settings = app.extensions["helpdesk"].settings
    # None lets Engine.IO accept only the same origin; embedding sites are listed explicitly.
    origins = [settings.public_url, *settings.chat_origins] if settings.chat_origins else None
    return SocketIO(
        app,
        async_mode="threading",
        message_queue=settings.redis_url,
        channel=settings.socketio_channel,
        cors_allowed_origins=origins,
        manage_session=False,
        logger=False,
        engineio_logger=False,
    )


def get_socketio(app: Flask) -> SocketIO:
    socketio: SocketIO = app.extensions["socketio"]
    return socketio
