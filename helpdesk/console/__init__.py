"""The live agent console: pages under /console and the /console Socket.IO namespace."""

from __future__ import annotations

from flask import Flask

from helpdesk.services import Services


def init_app(app: Flask, services: Services) -> None:
    from helpdesk.console.namespace import ConsoleNamespace
    from helpdesk.console.views import bp
    from helpdesk.extensions import get_socketio

    app.register_blueprint(bp)
    get_socketio(app).on_namespace(ConsoleNamespace(services))
