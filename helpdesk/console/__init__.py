"""The live agent console: pages under /console and the /console Socket.IO namespace."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from helpdesk.services import Services


def init_app(app: Flask, services: Services) -> None:
    from helpdesk.console import merge_views, texts_views  # noqa: F401 - add their pages to bp
    from helpdesk.console.labels import label
    from helpdesk.console.namespace import ConsoleNamespace
    from helpdesk.console.views import bp
    from helpdesk.extensions import get_socketio
    from helpdesk.navigation import add_nav_link

    app.register_blueprint(bp)
    app.add_template_global(label, "label")  # statuses, channels…: also on the call-back queue's page
    get_socketio(app).on_namespace(ConsoleNamespace(services))
    add_nav_link(app, "console.index", _l("Console"))
    add_nav_link(app, "console.canned_list", _l("Canned responses"))

