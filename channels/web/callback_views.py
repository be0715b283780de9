"""The callback page (/callback): a citizen asks us to phone them in a window they choose."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from channels.web.callback_form import CallbackForm, read_callback_page
from channels.web.pages import SCRIPTS, current_office, rate, sent_page
from helpdesk.auth import public
from helpdesk.callbacks import CallbackRequest, request_callback
from helpdesk.callbacks.accommodations import KINDS
from helpdesk.callbacks.windows import full_label, group_by_day, offered_windows
from helpdesk.extensions import limiter
from helpdesk.i18n import current_language
from helpdesk.services import current_services
from helpdesk.tickets import InvalidChange

bp = Blueprint("callback", __name__)


def choices() -> dict[str, object]:
    """What the callback fields show: the windows on offer by day, the accommodations."""
    svc = current_services()
    return {
        "window_days": group_by_day(svc, offered_windows(svc), current_language()),
        "accommodation_kinds": KINDS,
    }


def _page(form: CallbackForm, status: int = 200) -> tuple[str, int]:
    return render_template("contact/callback.html", form=form, office=current_office(), **choices()), status


@bp.get("/callback")
@public
def form() -> tuple[str, int]:
    return _page(CallbackForm())


@bp.post("/callback")
@public
@limiter.limit(rate)
def send() -> Response | tuple[str, int]:
    svc = current_services()
    data = read_callback_page(svc, request.form)
    if data.errors:
        return _page(data, 422)
    language, script = SCRIPTS[current_language()]
    try:
        ref = request_callback(
            svc,
            CallbackRequest(
                channel="web",
                phone=data.phone,
                windows=tuple(data.windows),
                name=data.name or None,
                language=language,
                script=script,
                text=data.topic,
                accommodations=tuple(data.accommodations),
                meta={"form": "callback", "consent": True},
            ),
        )
    except InvalidChange:  # passed our checks but not the core's (a window closed meanwhile)
        data.errors["window"] = _("A time you chose is no longer available. Choose another time.")
        return _page(data, 422)
    session["callback_sent"] = {
        "reference": ref.ticket_reference,
        "when": full_label(svc, ref.window, current_language()),
    }
    return redirect(url_for("callback.sent", lang=current_language()), code=303)


@bp.get("/callback/sent")
@public
def sent() -> Response | str:
    return sent_page("callback_sent", "callback.form", "contact/callback_sent.html", "when")
