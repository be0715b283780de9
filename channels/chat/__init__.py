"""The web chat channel: the /chat page and embed loader, the /chat Socket.IO namespace and the
"chat" outbound sender (DESIGN §2: a channel is a package with ``init_app``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from helpdesk.services import Services


def origin_checker(public_url: str, chat_origins: tuple[str, ...]) -> Callable[..., bool]:
    """Engine.IO CORS: our own origin (as the browser reached us, or the public URL) plus the
    sites allowed to embed the chat. The /console namespace checks its Origin again itself."""
    allowed = {o.rstrip("/") for o in (public_url, *chat_origins) if o}

    def check(origin: str | None, environ: dict[str, Any] | None = None) -> bool:
        if not origin:
            return True  # not a browser
        if origin.rstrip("/") in allowed:
            return True
        host = (environ or {}).get("HTTP_HOST")
        return bool(host) and urlsplit(origin).netloc == host

    return check


def init_app(app: Flask, services: Services) -> None:
    from channels import dispatcher
    from channels.chat.namespace import ChatNamespace
    from channels.chat.sender import ChatSender
    from channels.chat.views import bp
    from helpdesk.extensions import get_socketio

    app.register_blueprint(bp)
    socketio = get_socketio(app)
    socketio.on_namespace(ChatNamespace(services))
    settings = services.settings
    socketio.server.eio.cors_allowed_origins = origin_checker(  # type: ignore[union-attr]
        settings.public_url, settings.chat_origins
    )
    services.senders["chat"] = ChatSender(services)
    services.inbound_channels.add("chat")
    dispatcher.init_app(app, services)  # replies reach the citizen through the outbox
