"""Callbacks and accommodations (issue 17): a core concept, served by every channel's door.

``request_callback`` and ``record_outcome`` (operations.py) are the only writers of callbacks;
the windows a citizen may choose come from the business calendar (windows.py). ``init_app`` adds
the console's callback queue, the ticket panel, the accommodations shown atop every ticket and
the ``helpdesk callback`` command.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from helpdesk.callbacks.operations import (
    CallbackRef,
    CallbackRequest,
    record_outcome,
    request_callback,
)
from helpdesk.services import Services, TicketPanel

__all__ = ["CallbackRef", "CallbackRequest", "init_app", "record_outcome", "request_callback"]


def init_app(app: Flask, services: Services) -> None:
    from helpdesk.callbacks import accommodations, views
    from helpdesk.callbacks.cli import callback_cli
    from helpdesk.navigation import add_nav_link

    app.register_blueprint(views.bp)
    services.ticket_panels.append(TicketPanel("callbacks/_panel.html", views.panel_context))
    app.jinja_env.globals["contact_accommodations"] = views.contact_accommodations
    app.jinja_env.globals["accommodation_kinds"] = accommodations.KINDS
    app.cli.add_command(callback_cli)
    add_nav_link(app, "callbacks.queue", _l("Callbacks"))
