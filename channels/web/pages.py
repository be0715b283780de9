"""What the contact page (/contact) and the callback page (/callback) share: the language and script
of the citizen's ticket, the rate limit, the office box, and the "sent" page shown once."""

from __future__ import annotations

from flask import redirect, render_template, session, url_for
from werkzeug.wrappers import Response

from helpdesk.i18n import current_language
from helpdesk.office import Office, office
from helpdesk.services import current_services

SCRIPTS = {"sr-Latn": ("sr", "latn"), "sr-Cyrl": ("sr", "cyrl"), "en": ("en", "latn")}


def rate() -> str:
    # The same limit as the JSON form API: one budget per client address for every door.
    return current_services().settings.api_ticket_rate_limit


def current_office() -> Office:
    svc = current_services()
    return office(svc.settings, current_language(), svc.clock.now())


def sent_page(key: str, form_endpoint: str, template: str, *fields: str) -> Response | str:
    """The confirmation the form put in the session under ``key`` (no personal data in the URL);
    without one (a reload in a new browser, a bookmark), back to the form."""
    info = session.get(key)
    if not isinstance(info, dict) or not info.get("reference"):
        return redirect(url_for(form_endpoint, lang=current_language()))
    return render_template(
        template,
        reference=info["reference"],
        **{name: info.get(name) for name in fields},
        office=current_office(),
    )
