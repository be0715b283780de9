"""The web channel: the /contact form page and the sender that answers web-form citizens.

``init_app`` registers the form's blueprint and the "web" sender (which answers by email, else SMS,
through those channels' senders). The JSON form API (``POST /api/v1/tickets``) is core and keeps
working for other sites' forms; its tickets are answered by this sender too.
"""

from __future__ import annotations

from flask import Flask

from helpdesk.services import Services


def init_app(app: Flask, services: Services) -> None:
    from channels import dispatcher
    from channels.web.callback_views import bp as callback_bp
    from channels.web.sender import WebSender
    from channels.web.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(callback_bp)  # /callback: ask to be phoned in a chosen window
    services.senders[WebSender.channel] = WebSender(services)
    dispatcher.init_app(app, services)
