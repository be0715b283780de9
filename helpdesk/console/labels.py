"""The interface names of stored values (statuses, priorities, channels, message kinds and
delivery states): ``label(value)`` in the console's templates.

A dict of lazy strings, looked up per value: the Jinja macro it replaces built the whole dict,
translating all 29 names, on every call, and the list calls it three times a row: 4,600
translations per console page, 70 ms of the 80 ms it took at a million tickets (bench/README.md,
helper consolepg).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from markupsafe import Markup

LABELS = {
    "new": _l("New"),
    "open": _l("Open"),
    "pending": _l("Pending"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
    "active": _l("Active (new, open, pending)"),
    "low": _l("Low"),
    "normal": _l("Normal"),
    "high": _l("High"),
    "urgent": _l("Urgent"),
    "email": _l("Email"),
    "chat": _l("Chat"),
    "phone": _l("Phone"),
    "sms": _l("SMS"),
    "web": _l("Web form"),
    "viber": _l("Viber"),
    "inbound": _l("Citizen"),
    "outbound": _l("Reply"),
    "note": _l("Internal note"),
    "ack": _l("Acknowledgement of receipt"),
    "survey": _l("Satisfaction survey"),
    "transcript": _l("Chat transcript"),
    "queued": _l("queued"),
    "sent": _l("sent"),
    "delivered": _l("delivered"),
    "seen": _l("seen"),
    "failed": _l("failed"),
    "shared": _l("sent once with the citizen's other ticket"),
}


def label(value: object) -> object:
    """The value's name in the page's language; any other value as it is (Jinja escapes it).
    A name is markup as the macro's ``_()`` gave it: our own text, not escaped again."""
    name = LABELS.get(value) if isinstance(value, str) else None
    return value if name is None else Markup(str(name))  # noqa: S704 - our translations, as Jinja's _() marks them
