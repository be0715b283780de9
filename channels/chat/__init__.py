"""The web chat channel: the /chat page and embed loader, the /chat Socket.IO namespace and the
"chat" outbound sender (DESIGN §2: a channel is a package with ``init_app``)."""

from __future__ import annotations

from flask import Flask

from helpdesk.services import Services


def init_app(app: Flask, services: Services) -> None:
    from channels.chat.namespace import ChatNamespace
    from channels.chat.sender import ChatSender
    from channels.chat.views import bp
    from helpdesk.extensions import get_socketio

    app.register_blueprint(bp)
    get_socketio(app).on_namespace(ChatNamespace(services))
    services.senders["chat"] = ChatSender(services)
