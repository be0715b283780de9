"""Console side of the phone channel: call back, the local outbox, recordings, the simulator.

A separate blueprint from the webhooks: these are agents' pages, so they need a login and keep
CSRF protection (the webhook blueprint is exempt and signed instead).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from twilio.base.exceptions import TwilioRestException

from channels.phone import outbox_log
from channels.phone.channel import current_phone
from channels.phone.numbers import to_e164
from channels.phone.simulator_page import simulator_view
from helpdesk.access import (
    can_see,
    load_viewer,
    may_see_unlinked_outbox,
    visible_references,
)
from helpdesk.models import Attachment, Message, Ticket
from helpdesk.tickets import Actor, add_note

log = logging.getLogger(__name__)
bp = Blueprint("phone_console", __name__, url_prefix="/console/phone")
AUDIO_CHANNELS = ("phone", "sms")


def _may_see(ticket: Ticket) -> bool:
    """The one access policy: supervisors see all, agents their queues and assignments."""
    return can_see(load_viewer(current_phone().services, current_user.id), ticket)


def _back() -> Response:
    target = request.form.get("next", "")
    # Only a path on this site: never an open redirect.
    if not target.startswith("/") or target.startswith("//"):
        target = "/console"
    return redirect(target)  # type: ignore[return-value]


@bp.post("/call/<reference>")
@login_required
def call_back(reference: str) -> Response:
    """Click-to-call: Twilio rings the agent's phone, then (in callback-connect) the citizen."""
    phone = current_phone()
    with phone.services.db.session() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.reference == reference))
        if ticket is None:
            abort(404)
        if not _may_see(ticket):
            abort(403)
        citizen = ticket.contact.identity("phone")
        lang = "en" if ticket.language == "en" else "sr"
    agent = phone.settings.agent_phone
    if citizen is None:
        flash(_("This ticket has no phone number to call."), "error")
        return _back()
    if not agent:
        flash(_("No agent phone is configured (HELPDESK_AGENT_PHONE)."), "error")
        return _back()
    connect = phone.urls("/voice/callback-connect", ticket=reference, lang=lang)
    status = phone.urls("/voice/status", ticket=reference)
    if phone.has_credentials:
        try:
            call = phone.client().calls.create(
                to=agent if agent.startswith(("client:", "sip:")) else to_e164(agent) or agent,
                from_=phone.settings.twilio_from_number,
                url=connect,
                status_callback=status,
                status_callback_event=["completed"],
            )
        except TwilioRestException as exc:
            flash(_("Twilio refused the call: %(reason)s", reason=exc.msg), "error")
            return _back()
        except OSError:
            flash(_("Twilio could not be reached; try again."), "error")
            return _back()
        sid, note = call.sid, _("Call back started: Twilio is ringing the agent phone.")
    else:
        sid = "CAlocal"
        outbox_log.append(
            phone.settings.data_dir,
            "calls",
            {"to": agent, "then": citizen, "ticket": reference, "url": connect},
            phone.services.clock.now(),
        )
        note = _("No Twilio account configured: the call back was written to the local outbox.")
    add_note(phone.services, reference, Actor.agent(current_user.id), f"{note} [{sid}]")
    flash(note, "info")
    return _back()


@bp.get("/outbox")
@login_required
def outbox() -> str:
    """Agents read only the SMS and call-backs of tickets they may see (the lines hold phone
    numbers and message text); lines of no ticket only supervisors."""
    phone = current_phone()
    data_dir = phone.settings.data_dir
    sms = outbox_log.read_latest(data_dir, "sms")
    calls = outbox_log.read_latest(data_dir, "calls")
    viewer = load_viewer(phone.services, current_user.id)
    allowed = visible_references(phone.services, viewer, [r.get("ticket") for r in sms + calls])
    unlinked = may_see_unlinked_outbox(viewer)

    def shown(record: dict[str, Any]) -> bool:
        reference = record.get("ticket")
        return reference in allowed if reference else unlinked

    return render_template(
        "phone/outbox.html",
        sms=[r for r in sms if shown(r)],
        calls=[r for r in calls if shown(r)],
    )


@bp.get("/recordings/<token>")
@login_required
def recording(token: str) -> Response:
    """A call recording, by the attachment's random public id, to whoever may see its ticket."""
    phone = current_phone()
    if len(token) > 64:
        abort(404)
    with phone.services.db.session() as session:
        row = session.execute(
            select(Attachment.sha256, Attachment.content_type, Ticket)
            .join(Message, Message.id == Attachment.message_id)
            .join(Ticket, Ticket.id == Message.ticket_id)
            .where(Attachment.public_id == token, Message.channel.in_(AUDIO_CHANNELS))
        ).first()
        if row is None or not row.content_type.startswith("audio/"):
            abort(404)
        if not _may_see(row.Ticket):
            abort(403)
    data = phone.services.attachments.get(row.sha256)
    response = Response(data, mimetype=row.content_type)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


bp.add_url_rule("/simulator", "simulator", login_required(simulator_view), methods=["GET", "POST"])


def panel_context(ticket: Ticket) -> dict[str, Any]:
    """The call-back panel on a ticket: its phone number and the call recordings to play."""
    phone = current_phone()
    with phone.services.db.session() as session:
        fresh = session.get(Ticket, ticket.id)
        if fresh is None:
            return {
                "phone_number": None,
                "recordings": [],
                "reference": ticket.reference,
                "needs_listening": False,
            }
        number = fresh.contact.identity("phone")
        rows = session.execute(
            select(Attachment.public_id, Message.seq, Message.meta)
            .join(Message, Message.id == Attachment.message_id)
            .where(
                Message.ticket_id == ticket.id,
                Message.channel.in_(AUDIO_CHANNELS),
                Attachment.content_type.like("audio/%"),
            )
            .order_by(Message.seq)
        ).all()
        # A voicemail nobody has a transcript of: someone must listen before it can be routed.
        transcribed = any(
            (meta or {}).get("kind") == "transcript"
            for meta in session.scalars(
                select(Message.meta).where(
                    Message.ticket_id == ticket.id, Message.direction == "inbound"
                )
            )
        )
    needs_listening = not transcribed and any(
        (r.meta or {}).get("kind") == "voicemail" for r in rows
    )
    return {
        "reference": ticket.reference,
        "needs_listening": needs_listening,
        "phone_number": number,
        "can_call": bool(number and phone.settings.agent_phone),
        "twilio_configured": phone.has_credentials,
        "recordings": [
            {"token": r.public_id, "seq": r.seq, "kind": (r.meta or {}).get("kind", "call")}
            for r in rows
        ],
    }
