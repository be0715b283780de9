"""The agent navigation bar: each feature adds its own link, shown to the roles that may use it."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask_login import current_user


def add_nav_link(app: Flask, endpoint: str, label: Any, role: str = "agent") -> None:
    """``label`` should be a lazy_gettext string so that it follows the interface language."""
    app.extensions.setdefault("nav_links", []).append((endpoint, label, role))


def nav_links() -> list[tuple[str, str]]:
    if not getattr(current_user, "is_authenticated", False):
        return []
    return [
        (endpoint, str(label))
        for endpoint, label, role in current_app.extensions.get("nav_links", [])
        if current_user.has_role(role)
    ]
