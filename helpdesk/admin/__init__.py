"""Administration pages (/admin): agents, queues and categories, routes, hours and SLA targets.

Admins only; every form carries a CSRF token and every change goes through the core operations
in helpdesk.administration (the ones the CLI calls), which write the audit trail. `init_app` also
gives every template the display-name filters (`queue_name`, `category_name`).
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext

from helpdesk.administration.names import display_name, display_names
from helpdesk.navigation import add_nav_link
from helpdesk.services import Services


def category_choices(keys: list[str], current: str | None = None) -> list[tuple[str, str]]:
    """(key, name) pairs for a category select, keeping a current value that is not managed."""
    wanted = list(dict.fromkeys([*keys, *([current] if current else [])]))
    return display_names("category", wanted)


def init_app(app: Flask, svc: Services) -> None:
    from helpdesk.admin import agents, setup, tokens  # noqa: F401 - their views join the blueprint
    from helpdesk.admin.common import bp

    app.add_template_filter(lambda key: display_name("queue", key), "queue_name")
    app.add_template_filter(lambda key: display_name("category", key), "category_name")
    app.add_template_global(category_choices, "category_choices")
    app.add_template_global(display_name, "display_name")
    if "admin" not in app.blueprints:
        app.register_blueprint(bp)
    add_nav_link(app, "admin.index", lazy_gettext("Administration"), role="admin")
