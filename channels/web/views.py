"""The contact form page (/contact): the web channel as a page, answered by email or SMS."""

from __future__ import annotations

import logging

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from channels.web.callback_form import CallbackForm, read_windows
from channels.web.callback_views import choices
from channels.web.form import FILE_TYPES, MAX_FILE_BYTES, MAX_FILES, ContactForm, read_form
from channels.web.pages import SCRIPTS, current_office, rate, sent_page
from channels.web.sender import way_back
from helpdesk.auth import public
from helpdesk.callbacks import CallbackRequest, request_callback
from helpdesk.callbacks.accommodations import add_accommodations, clean
from helpdesk.callbacks.windows import full_label
from helpdesk.extensions import limiter
from helpdesk.i18n import current_language
from helpdesk.services import current_services
from helpdesk.tickets import InboundMessage, InvalidChange, receive_inbound

log = logging.getLogger(__name__)
bp = Blueprint("contact", __name__)


def _page(form: ContactForm, status: int = 200, call: CallbackForm | None = None) -> tuple[str, int]:
    return render_template(
        "contact/form.html",
        form=form,
        call=call or CallbackForm(),
        **choices(),
        office=current_office(),
        accept=",".join(f".{ext}" for ext in FILE_TYPES),
        max_files=MAX_FILES,
        max_mb=MAX_FILE_BYTES // 2**20,
    ), status


@bp.get("/contact")
@public
def form() -> tuple[str, int]:
    return _page(ContactForm())


@bp.post("/contact")
@public
@limiter.limit(rate)
def send() -> Response | tuple[str, int]:
    data = read_form(request.form, request.files)
    svc = current_services()
    # Optional: "call me instead" windows and accommodations (helpdesk.callbacks).
    call = CallbackForm(accommodations=clean(request.form.getlist("accommodation")))
    read_windows(svc, request.form, call)
    if call.windows and not data.phone and "phone" not in data.errors:
        call.errors["phone"] = _("To be called back, give a phone number.")
    data.errors.update(call.errors)
    if data.errors:
        return _page(data, 422, call)
    language, script = SCRIPTS[current_language()]
    try:
        result = receive_inbound(
            svc,
            InboundMessage(
                channel="web",
                sender=data.sender,
                sender_name=data.name,
                subject=data.subject,
                text=data.message,
                attachments=tuple(data.attachments),
                language=language,
                script=script,
                extra_identities=data.extra_identities,
                wants_acknowledgement=True,
                meta={"form": "contact", "consent": True},
            ),
        )
    except InvalidChange:  # the address passed our checks but not the store's: say so
        data.errors["email"] = _("We could not use this address. Check it and try again.")
        return _page(data, 422, call)
    when = None
    if call.windows:  # joins the ticket just opened; a window that closed meanwhile is only lost
        try:
            ref = request_callback(
                svc,
                CallbackRequest(
                    channel="web",
                    phone=data.phone,
                    windows=tuple(call.windows),
                    sender=data.sender,
                    name=data.name,
                    language=language,
                    script=script,
                    ticket_reference=result.ticket_reference,
                    accommodations=tuple(call.accommodations),
                ),
            )
            when = full_label(svc, ref.window, current_language())
        except InvalidChange:
            log.warning("callback with %s not kept: its window closed", result.ticket_reference)
    elif call.accommodations:
        add_accommodations(svc, result.ticket_reference, call.accommodations)
    found = way_back(
        {"email": data.email, "phone": data.phone} if data.email else {"phone": data.phone},
        dict(svc.senders),
    )
    # Shown once on the next page (no personal data in the URL).
    session["contact_sent"] = {
        "reference": result.ticket_reference,
        "by": found[0] if found else None,
        "call": when,
    }
    return redirect(url_for("contact.sent", lang=current_language()), code=303)


@bp.get("/contact/sent")
@public
def sent() -> Response | str:
    return sent_page("contact_sent", "contact.form", "contact/sent.html", "by", "call")
