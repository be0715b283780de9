"""The agent navigation bar: each feature adds its own link, shown to the roles that may use it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, current_app, request, url_for
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


# The citizen's pages, in the order of the front door; each shown only when its feature is enabled.
CITIZEN_PAGES = (
    ("help.index", "Help"),
    ("chat.chat_page", "Chat"),
    ("contact.form", "Write to us"),
)


def citizen_links() -> list[tuple[str, str]]:
    """(url, label) of the citizen pages, keeping the reader's language; none for signed-in staff."""
    from flask_babel import gettext as _

    from helpdesk.i18n import current_language

    if getattr(current_user, "is_authenticated", False):
        return []
    labels = {"Help": _("Help"), "Chat": _("Chat"), "Write to us": _("Write to us")}
    lang = current_language()
    return [
        (url_for(endpoint, lang=lang), labels[label])
        for endpoint, label in CITIZEN_PAGES
        if endpoint in current_app.view_functions
    ]


def lang_url(code: str) -> str:
    """This page in another interface language, keeping everything else the address carries
    (a search query, filters)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return request.path + "?" + urlencode([*args, ("lang", code)])
