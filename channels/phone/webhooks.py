"""The Twilio webhook blueprint: /channels/twilio/... (voice menu, callbacks, SMS).

Every view is behind `twilio_signed` (403 and nothing stored without a valid signature) and is
CSRF-exempt: Twilio cannot send a CSRF token, the signature is the proof instead. Views only parse
and delegate; the storing is done by jobs.py on the phone worker.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, abort, request
from sqlalchemy import select
from twilio.twiml.messaging_response import MessagingResponse

from channels.phone import jobs, twiml
from channels.phone.channel import current_phone
from channels.phone.numbers import to_e164
from channels.phone.optout import CONFIRM, keyword, set_opted_out
from channels.phone.prompts import LANGUAGES, text
from channels.phone.signature import is_valid
from helpdesk.auth.roles import public
from helpdesk.models import Ticket
from helpdesk.tickets.references import format_reference

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__, url_prefix=twiml.PREFIX)

_SID = {
    "CallSid": re.compile(r"^CA[0-9a-fA-F]{32}$"),
    "RecordingSid": re.compile(r"^RE[0-9a-fA-F]{32}$"),
    "TranscriptionSid": re.compile(r"^TR[0-9a-fA-F]{32}$"),
    "MessageSid": re.compile(r"^(SM|MM)[0-9a-zA-Z]{32}$"),
}


def _signed_config() -> tuple[str | None, str]:
    phone = current_phone()
    return phone.webhook_token, phone.settings.public_url


@bp.before_request
def _check_signature() -> None:
    """Signature first, before anything reads or stores the request."""
    if request.content_length is not None and request.content_length > 64 * 1024:
        abort(Response("Request too large for a Twilio webhook\n", 413, mimetype="text/plain"))
    token, public_url = _signed_config()
    if not is_valid(request, token, public_url):
        abort(Response("Invalid or missing X-Twilio-Signature\n", 403, mimetype="text/plain"))


def _unavailable() -> Response:
    return Response("Could not store this request, try again\n", 503, mimetype="text/plain")


def _twiml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


def _param(name: str, required: bool = True) -> str:
    value = request.form.get(name, "")
    pattern = _SID.get(name)
    if (required and not value) or (value and pattern is not None and not pattern.match(value)):
        abort(Response(f"Missing or malformed {name}\n", 400, mimetype="text/plain"))
    return value


def _lang() -> str:
    lang = request.args.get("lang", "sr")
    return lang if lang in LANGUAGES else "sr"


def _attempt() -> int:
    raw = request.args.get("attempt", "1")
    return int(raw) if raw.isdigit() else 1


# --- voice menu ---------------------------------------------------------------------------


@bp.post("/voice")
@public
def voice() -> Response:
    _param("CallSid")
    return _twiml(twiml.greeting(current_phone().urls, _attempt()))


@bp.post("/voice/language")
@public
def voice_language() -> Response:
    _param("CallSid")
    digits = request.form.get("Digits", "")
    phone = current_phone()
    if digits == "1":
        return _twiml(twiml.main_menu(phone.urls, "sr"))
    if digits == "2":
        return _twiml(twiml.main_menu(phone.urls, "en"))
    return _twiml(twiml.greeting(phone.urls))


@bp.post("/voice/menu")
@public
def voice_menu() -> Response:
    _param("CallSid")
    return _twiml(twiml.main_menu(current_phone().urls, _lang(), _attempt()))


@bp.post("/voice/choice")
@public
def voice_choice() -> Response:
    _param("CallSid")
    phone, lang = current_phone(), _lang()
    digits = request.form.get("Digits", "")
    if digits == "1":
        return _twiml(twiml.ask_ticket_number(phone.urls, lang))
    if digits == "2":
        if to_e164(request.form.get("From")) is None:  # no number, no contact to file it under
            return _twiml(twiml.main_menu(phone.urls, lang, notice=text(lang, "anonymous")))
        return _twiml(twiml.voicemail(phone.urls, lang))
    if digits == "3":
        return _speak_to_agent(lang)
    if digits == "4":
        from channels.phone.callback_menu import offer

        return offer(lang)
    return _twiml(twiml.main_menu(phone.urls, lang, notice=text(lang, "not_understood")))


def _speak_to_agent(lang: str) -> Response:
    phone = current_phone()
    agent = phone.settings.agent_phone
    if not phone.is_open():
        return _twiml(twiml.agent_unavailable(phone.urls, lang, "closed", hours=phone.hours_text(lang)))
    if not agent:
        return _twiml(twiml.agent_unavailable(phone.urls, lang, "agent_busy"))
    params = request.form.to_dict()
    if to_e164(params.get("From")) is not None:
        # The ticket opens while it rings, so the agent sees who calls; not waited for long.
        try:
            phone.worker.run(lambda: jobs.store_call_start(phone, params, lang))
        except Exception:  # noqa: BLE001 - the caller is connected anyway
            log.warning("call start not stored before dialling (see the worker's log)")
    # No callerId: the agent's phone shows the citizen's own number.
    return _twiml(twiml.connect_agent(phone.urls, lang, agent))


@bp.post("/voice/ticket-status")
@public
def voice_ticket_status() -> Response:
    _param("CallSid")
    phone, lang = current_phone(), _lang()
    digits = re.sub(r"\D", "", request.form.get("Digits", ""))[:12]
    number, status = digits, None
    if digits:
        with phone.services.db.session() as session:
            if len(digits) >= 10:  # year + number: 2026000123
                query = select(Ticket).where(
                    Ticket.reference == format_reference(int(digits[:4]), int(digits[4:]))
                )
            else:  # the number alone, the latest year it exists in
                query = select(Ticket).where(Ticket.reference.like(f"%-{int(digits):06d}"))
            ticket = session.scalar(query.order_by(Ticket.id.desc()).limit(1))
            while ticket is not None and ticket.merged_into_id is not None:
                ticket = session.get(Ticket, ticket.merged_into_id)
            if ticket is not None:
                status, number = ticket.status, ticket.reference.rsplit("-", 1)[1]
    return _twiml(twiml.ticket_status(phone.urls, lang, number, status))


@bp.post("/voice/voicemail")
@public
def voice_voicemail() -> Response:
    _param("CallSid")
    phone, lang = current_phone(), _lang()
    sid = _param("RecordingSid", required=False)
    duration = request.form.get("RecordingDuration", "0")
    if not sid or not duration.isdigit() or int(duration) == 0:  # nothing was said
        return _twiml(twiml.main_menu(phone.urls, lang, notice=text(lang, "no_recording")))
    if to_e164(request.form.get("From")) is None:
        return _twiml(twiml.main_menu(phone.urls, lang, notice=text(lang, "anonymous")))
    params = request.form.to_dict()
    try:
        done, result = phone.worker.run(lambda: jobs.store_voicemail(phone, params, lang))
    except Exception:  # noqa: BLE001 - logged by the worker; Twilio reports the 503
        abort(_unavailable())
    number = result.ticket_reference.rsplit("-", 1)[1] if done and result else None
    return _twiml(twiml.voicemail_received(lang, number))


@bp.post("/voice/transcription")
@public
def voice_transcription() -> Response:
    _param("TranscriptionSid")
    _param("RecordingSid")
    phone, lang, params = current_phone(), _lang(), request.form.to_dict()
    phone.worker.submit(lambda: jobs.store_transcript(phone, params, lang))
    return Response(status=204)


@bp.post("/voice/dial-done")
@public
def voice_dial_done() -> Response:
    _param("CallSid")
    phone, lang = current_phone(), _lang()
    if request.form.get("DialCallStatus") in {"no-answer", "busy", "failed", "canceled"}:
        return _twiml(twiml.agent_unavailable(phone.urls, lang, "agent_busy"))
    return _twiml(twiml.hang_up())


@bp.post("/voice/call-recording")
@public
def voice_call_recording() -> Response:
    _param("RecordingSid")
    _param("CallSid")
    if request.form.get("RecordingStatus", "completed") != "completed":
        return Response(status=204)
    phone, lang, params = current_phone(), _lang(), request.form.to_dict()
    reference = request.args.get("ticket") or None
    phone.worker.submit(lambda: jobs.store_call_recording(phone, params, lang, reference))
    return Response(status=204)


@bp.post("/voice/status")
@public
def voice_status() -> Response:
    """Call progress. Only a console call back that failed to connect is worth a note."""
    _param("CallSid")
    reference = request.args.get("ticket")
    if reference:
        phone, params = current_phone(), request.form.to_dict()
        phone.worker.submit(lambda: jobs.store_call_back_outcome(phone, params, reference, "agent"))
    return Response(status=204)


@bp.post("/voice/callback-connect")
@public
def voice_callback_connect() -> Response:
    """Click-to-call: the agent picked up; ring the citizen of the ticket in the URL."""
    _param("CallSid")
    phone, lang = current_phone(), _lang()
    reference = request.args.get("ticket", "")
    citizen = None
    with phone.services.db.session() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.reference == reference))
        if ticket is not None:
            citizen = ticket.contact.identity("phone")
    return _twiml(
        twiml.callback_bridge(
            phone.urls,
            lang,
            reference.rsplit("-", 1)[-1],
            citizen,
            phone.settings.twilio_from_number,
            reference,
        )
    )


@bp.post("/voice/callback-done")
@public
def voice_callback_done() -> Response:
    """Click-to-call: the citizen's leg ended; a call that did not connect leaves a note."""
    _param("CallSid")
    phone, lang = current_phone(), _lang()
    reference = request.args.get("ticket", "")
    outcome = request.form.get("DialCallStatus", "")
    if outcome in {"busy", "no-answer", "failed", "canceled"}:
        params = request.form.to_dict()
        params["CallStatus"] = outcome
        phone.worker.submit(lambda: jobs.store_call_back_outcome(phone, params, reference, "citizen"))
        return _twiml(twiml.hang_up(lang, "callback_no_answer"))
    return _twiml(twiml.hang_up())


# --- SMS ------------------------------------------------------------------------------------


@bp.post("/sms")
@public
def sms() -> Response:
    _param("MessageSid")
    phone = current_phone()
    sender = to_e164(request.form.get("From"))
    if sender is None:
        abort(Response("From is not a phone number\n", 400, mimetype="text/plain"))
    reply = MessagingResponse()
    word = keyword(request.form.get("Body", ""))
    params = request.form.to_dict()
    try:
        if word is not None:
            stop = word == "stop"
            language = phone.worker.run(lambda: set_opted_out(phone.services, sender, stop))[1]
            reply.message(CONFIRM[word]["en" if language == "en" else "sr"])
        else:
            phone.worker.run(lambda: jobs.store_sms(phone, params))
    except Exception:  # noqa: BLE001 - refused, so Twilio reports it instead of a silent loss
        abort(_unavailable())
    return _twiml(str(reply))


@bp.post("/sms/status")
@public
def sms_status() -> Response:
    _param("MessageSid")
    phone, params = current_phone(), request.form.to_dict()
    raw = request.args.get("m", "")
    message_id = int(raw) if raw.isdigit() else None
    phone.worker.submit(lambda: jobs.update_delivery(phone, params, message_id))
    return Response(status=204)
