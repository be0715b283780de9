"""Reading the callback choices a page offers: time windows and accommodations.

Shared by the callback page and the contact form. The windows are the business calendar's
(helpdesk.callbacks.windows): a value that is not on offer any more (a page left open past its
window, a forged value) is refused with a plain message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from helpdesk.callbacks.accommodations import clean
from helpdesk.callbacks.windows import Window, offered_windows
from helpdesk.services import Services
from helpdesk.tickets import Identity, InvalidChange
from helpdesk.tickets.contacts import normalize_identity

MAX_NAME, MAX_PHONE, MAX_TOPIC = 200, 40, 2000


@dataclass
class CallbackForm:
    name: str = ""
    phone: str = ""
    topic: str = ""
    consent: bool = False
    windows: list[Window] = field(default_factory=list)
    chosen: set[str] = field(default_factory=set)  # the window keys ticked (kept on a redisplay)
    accommodations: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def read_windows(svc: Services, form: MultiDict[str, str], into: CallbackForm) -> None:
    into.chosen = set(form.getlist("window")[:20])
    offered = {w.key: w for w in offered_windows(svc)}
    into.windows = sorted(offered[k] for k in into.chosen if k in offered)
    if into.chosen and len(into.windows) < len(into.chosen):
        into.errors["window"] = _("A time you chose is no longer available. Choose another time.")


def read_phone(value: str, into: CallbackForm) -> None:
    into.phone = value.strip()[: MAX_PHONE + 1]
    if not into.phone:
        into.errors["phone"] = _("Enter the phone number we should call.")
        return
    try:
        into.phone = normalize_identity(Identity("phone", into.phone)).value
    except InvalidChange:
        into.errors["phone"] = _("Enter a phone number like 064 123 4567 or +381 64 123 4567.")


def read_callback_page(svc: Services, form: MultiDict[str, str]) -> CallbackForm:
    data = CallbackForm(
        name=" ".join(form.get("name", "").split())[: MAX_NAME + 1],
        topic=form.get("topic", "").strip()[: MAX_TOPIC + 1],
        consent=form.get("consent") == "yes",
        accommodations=clean(form.getlist("accommodation")),
    )
    if len(data.name) > MAX_NAME:
        data.errors["name"] = _("The name is too long (at most %(n)d characters).", n=MAX_NAME)
    read_phone(form.get("phone", ""), data)
    read_windows(svc, form, data)
    if not data.windows and "window" not in data.errors:
        data.errors["window"] = _("Choose at least one time when we may call you.")
    if len(data.topic) > MAX_TOPIC:
        data.errors["topic"] = _("The text is too long (at most %(n)d characters).", n=MAX_TOPIC)
    if not data.consent:
        data.errors["consent"] = _(
            "Agree to the use of your data for answering, or we cannot accept the message."
        )
    return data
