"""Supervisors: the service-level dashboard, the metrics API, the SLA watch and the survey page.

`init_app(app, services)` is called by the app factory. It chooses the SLA policy from settings
(`HELPDESK_SLA_POLICY=business_hours`, the default, or `clock`), adds the SLA watch and the
warm-up of the weekly figures (``helpdesk.metrics.warm``) to the background services, a console
ticket panel showing the SLA state, and registers the blueprints (`/supervisor`,
`/api/v1/metrics`, `/survey`).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import lazy_gettext

from helpdesk.extensions import csrf
from helpdesk.metrics.warm import RollupWarmer
from helpdesk.navigation import add_nav_link
from helpdesk.services import ClockHoursSla, Services, TicketPanel
from helpdesk.sla import SlaChecker, next_due, sla_fields
from helpdesk.sla.stored import ConfiguredSla

POLICIES = ("business_hours", "clock")


def configure_sla(svc: Services) -> None:
    """Install the policy the settings ask for, unless a caller already put in its own."""
    choice = svc.settings.sla_policy
    if choice not in POLICIES:
        raise ValueError(f"HELPDESK_SLA_POLICY must be one of {', '.join(POLICIES)}")
    if choice == "business_hours" and type(svc.sla) is ClockHoursSla:
        # the settings overlaid by what an administrator stored (helpdesk/admin)
        svc.sla = ConfiguredSla(svc.settings, svc.db)


def init_app(app: Flask, svc: Services) -> None:
    from helpdesk.supervisor.api import bp as api_bp
    from helpdesk.supervisor.views import bp as dashboard_bp
    from helpdesk.survey import bp as survey_bp

    configure_sla(svc)
    if not any(isinstance(s, SlaChecker) for s in svc.background):
        svc.background.append(SlaChecker(svc, svc.settings.sla_check_seconds))
    warm_every = svc.settings.metrics_warm_seconds
    if warm_every > 0 and not any(isinstance(s, RollupWarmer) for s in svc.background):
        svc.background.append(RollupWarmer(svc, warm_every))
    if not any(p.template == "supervisor/_sla_panel.html" for p in svc.ticket_panels):

        def panel_context(ticket: Any) -> dict[str, Any]:
            fields = sla_fields(svc, ticket)
            due = next_due(ticket)
            tz = ZoneInfo(svc.settings.timezone)
            fields["sla_due_local"] = due[1].astimezone(tz).strftime("%d.%m.%Y %H:%M") if due else ""
            return {"sla": fields}

        svc.ticket_panels.append(TicketPanel("supervisor/_sla_panel.html", panel_context))
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # bearer tokens only
    app.register_blueprint(survey_bp)
    add_nav_link(app, "supervisor.dashboard", lazy_gettext("Service levels"), role="supervisor")
