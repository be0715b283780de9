"""Plugging incidents into the web app: the pages, the nav link, the console's ticket panel and
the banner the citizen pages include (``templates/citizen/_incident_banner.html``)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext

from helpdesk.incidents.core import active_incidents
from helpdesk.incidents.linking import incident_of_ticket
from helpdesk.navigation import add_nav_link
from helpdesk.services import Services, TicketPanel

log = logging.getLogger(__name__)
PANEL = "incidents/_ticket_panel.html"


def init_app(app: Flask, svc: Services) -> None:
    from helpdesk.incidents.views import bp

    app.register_blueprint(bp)
    add_nav_link(app, "incidents.index", lazy_gettext("Incidents"), role="agent")
    if not any(p.template == PANEL for p in svc.ticket_panels):

        def panel_context(ticket: Any) -> dict[str, Any]:
            return {"incident": incident_of_ticket(svc, ticket.id)}

        svc.ticket_panels.append(TicketPanel(PANEL, panel_context))

    def incident_notices() -> list[tuple[int, str, datetime | None]]:
        """(id, notice in the page's language, expected end) of each open incident; called by the
        banner partial only, so staff pages pay nothing for it."""
        from helpdesk.i18n import current_language

        try:
            found = active_incidents(svc)
        except Exception:  # noqa: BLE001 - a banner must never take a citizen page down
            log.exception("open incidents could not be read for the banner")
            return []
        lang = current_language()
        return [(i.id, i.notices[lang], i.expected_end_at) for i in found]

    app.jinja_env.globals["incident_notices"] = incident_notices
