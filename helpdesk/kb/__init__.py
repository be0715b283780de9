"""The knowledge base in the web app: citizen /help pages, the /console/kb editor, the search
API, the console ticket panel and the real ``services.kb``."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from helpdesk.services import Services

__all__ = ["init_app", "INDEX_DIRNAME"]

INDEX_DIRNAME = "kb-index"


def init_app(app: Flask, services: Services) -> None:
    if "help" in app.blueprints:
        return
    from helpdesk import name_index, ticket_index  # noqa: F401 - register the index hooks
    from helpdesk.extensions import csrf
    from helpdesk.kb.api import bp as api_bp
    from helpdesk.kb.panel import PANEL_TEMPLATE, make_panel
    from helpdesk.kb.service import WhooshKnowledgeBase
    from helpdesk.kb.views_console import bp as console_bp
    from helpdesk.kb.views_help import bp as help_bp
    from helpdesk.navigation import add_nav_link

    settings = services.settings
    if not isinstance(services.kb, WhooshKnowledgeBase):
        services.kb = WhooshKnowledgeBase(
            services.db, settings.data_dir / INDEX_DIRNAME, public_url=settings.public_url
        )
    app.register_blueprint(help_bp)
    app.register_blueprint(console_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # GET only, no cookies needed
    if not any(p.template == PANEL_TEMPLATE for p in services.ticket_panels):
        services.ticket_panels.append(make_panel(services, services.kb))
    add_nav_link(app, "kb_console.index", _l("Knowledge base"))
