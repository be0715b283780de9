"""The storing half of each webhook, run on the phone worker (see worker.py).

Each job takes a plain copy of the webhook's parameters and calls one core operation. Twilio's
ids are the messages' external ids (CallSid, RecordingSid, TranscriptionSid, MessageSid), so a
webhook delivered twice stores one message: receive_inbound returns the first one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import select

from channels.phone import media
from channels.phone.channel import PhoneChannel
from channels.phone.numbers import can_receive_sms, to_e164
from helpdesk.models import Message, Ticket
from helpdesk.tickets import (
    Actor,
    AttachmentIn,
    Identity,
    InboundMessage,
    InboundResult,
    ThreadHints,
    add_note,
    receive_inbound,
    record_delivery,
)

log = logging.getLogger(__name__)
Params = Mapping[str, str]

SUBJECTS = {
    "voicemail": {"sr": "Govorna poruka", "en": "Voicemail"},
    "call": {"sr": "Telefonski poziv", "en": "Phone call"},
}
VOICE_LANGUAGE = {"sr": ("sr", "latn"), "en": ("en", "latn")}


def _duration(params: Params, key: str) -> str:
    try:
        seconds = int(params.get(key) or 0)
    except ValueError:
        seconds = 0
    return f"{seconds // 60}:{seconds % 60:02d}"


def _phone_message(
    phone: PhoneChannel,
    params: Params,
    lang: str,
    *,
    kind: str,
    text: str,
    external_id: str,
    attachments: tuple[AttachmentIn, ...] = (),
    reference: str | None = None,
    sender: str | None = None,
    acknowledge: bool = False,
    content: str | None = None,
) -> InboundResult:
    caller = sender or to_e164(params.get("From"))
    if caller is None:
        raise ValueError("caller number withheld or unusable")
    language, script = VOICE_LANGUAGE.get(lang, (None, None))
    return receive_inbound(
        phone.services,
        InboundMessage(
            channel="phone",
            sender=Identity("phone", caller),
            subject=SUBJECTS.get(kind, SUBJECTS["call"]).get(lang, "Phone"),
            text=text,
            content=content,
            attachments=attachments,
            external_id=external_id,
            hints=ThreadHints(ticket_reference=reference, continue_open=True),
            language=language,
            script=script,
            wants_acknowledgement=acknowledge and can_receive_sms(caller),
            meta={"kind": kind, "call_sid": params.get("CallSid"), "lang": lang},
        ),
    )


def store_voicemail(phone: PhoneChannel, params: Params, lang: str) -> InboundResult:
    sid = params["RecordingSid"]
    recording = media.fetch_recording(phone.http, phone.settings, params.get("RecordingUrl", ""), sid)
    duration = _duration(params, "RecordingDuration")
    if lang == "sr":  # Twilio does not transcribe Serbian (see twiml.TRANSCRIBE_LANGUAGES)
        text = f"Govorna poruka ({duration}), snimak je u prilogu."
    else:
        text = f"Voicemail ({duration}), recording attached. The transcript follows when ready."
    if recording is None:
        text += " [recording could not be downloaded from Twilio]"
    return _phone_message(
        phone,
        params,
        lang,
        kind="voicemail",
        text=text,
        external_id=sid,
        attachments=(recording,) if recording else (),
        acknowledge=True,
        content="",  # our placeholder: until someone listens (or a transcript comes) no evidence
    )


def _ticket_of(phone: PhoneChannel, external_id: str | None) -> tuple[str, str | None] | None:
    """(reference, the contact's phone) of the phone message with this external id."""
    if not external_id:
        return None
    with phone.services.db.session() as session:
        message = session.scalar(
            select(Message).where(Message.channel == "phone", Message.external_id == external_id)
        )
        if message is None:
            return None
        ticket = message.ticket
        return ticket.reference, ticket.contact.identity("phone")


def store_transcript(phone: PhoneChannel, params: Params, lang: str) -> InboundResult | None:
    status = params.get("TranscriptionStatus", "")
    words = (params.get("TranscriptionText") or "").strip()
    if status != "completed" or not words:
        log.info("transcription %s: %s, nothing to store", params.get("TranscriptionSid"), status)
        return None
    found = _ticket_of(phone, params.get("RecordingSid"))
    label = "Transkript govorne poruke" if lang == "sr" else "Voicemail transcript"
    return _phone_message(
        phone,
        params,
        lang,
        kind="transcript",
        text=f"{label}: {words}",
        external_id=params["TranscriptionSid"],
        reference=found[0] if found else None,
        sender=found[1] if found else None,
    )


def store_call_start(phone: PhoneChannel, params: Params, lang: str) -> InboundResult:
    """The caller asked for an agent: the ticket is there (and in the console) while it rings."""
    text = (
        "Dolazni poziv: pozivalac je tražio operatera."
        if lang == "sr"
        else "Incoming call: the caller asked to speak to an agent."
    )
    return _phone_message(phone, params, lang, kind="call", text=text, external_id=params["CallSid"])


def store_call_recording(
    phone: PhoneChannel, params: Params, lang: str, reference: str | None
) -> InboundResult | None:
    """The recorded conversation (an agent call or a call back) as a message on its ticket."""
    sid = params["RecordingSid"]
    if reference:  # a call back from the console: the ticket is in the callback URL
        with phone.services.db.session() as session:
            ticket = session.scalar(select(Ticket).where(Ticket.reference == reference))
            found = (ticket.reference, ticket.contact.identity("phone")) if ticket else None
    else:
        found = _ticket_of(phone, params.get("CallSid"))
    if found is None or found[1] is None:
        log.warning("call recording %s: no ticket for its call, not stored", sid)
        return None
    recording = media.fetch_recording(phone.http, phone.settings, params.get("RecordingUrl", ""), sid)
    what = "Povratni poziv" if reference else "Razgovor sa operaterom"
    if lang != "sr":
        what = "Call back" if reference else "Call with an agent"
    text = f"{what} ({_duration(params, 'RecordingDuration')}), snimak / recording."
    if recording is None:
        text += " [recording could not be downloaded from Twilio]"
    return _phone_message(
        phone,
        params,
        lang,
        kind="call_recording",
        text=text,
        external_id=sid,
        attachments=(recording,) if recording else (),
        reference=found[0],
        sender=found[1],
    )


def store_call_back_outcome(phone: PhoneChannel, params: Params, reference: str, leg: str) -> bool:
    """A call back that did not connect leaves a note, once per CallSid and leg."""
    status = params.get("CallStatus", "")
    if status not in {"busy", "no-answer", "failed", "canceled"}:
        return False
    call_sid = params.get("CallSid", "")
    tag = f"[{leg} {call_sid}]"
    with phone.services.db.session() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.reference == reference))
        if ticket is None:
            return False
        seen = session.scalar(
            select(Message.id).where(
                Message.ticket_id == ticket.id,
                Message.direction == "note",
                Message.text.contains(tag),
            )
        )
    if seen is not None:
        return False
    who = "the citizen" if leg == "citizen" else "the agent phone"
    text = f"Call back did not connect: {who} - {status} {tag}"
    add_note(phone.services, reference, Actor.system("phone"), text)
    return True


def store_sms(phone: PhoneChannel, params: Params) -> InboundResult:
    sender = to_e164(params.get("From"))
    if sender is None:
        raise ValueError("SMS sender is not a phone number")
    sid = params["MessageSid"]
    attachments = []
    try:
        count = min(int(params.get("NumMedia") or 0), 10)
    except ValueError:
        count = 0
    for i in range(count):
        url = params.get(f"MediaUrl{i}", "")
        item = media.fetch_media(phone.http, phone.settings, url, f"{sid}-{i}") if url else None
        if item is not None:
            attachments.append(item)
    return receive_inbound(
        phone.services,
        InboundMessage(
            channel="sms",
            sender=Identity("phone", sender),
            subject="",
            text=(params.get("Body") or "").strip() or "(MMS)",
            content=(params.get("Body") or "").strip(),  # "(MMS)" is ours, not the citizen's
            attachments=tuple(attachments),
            external_id=sid,
            hints=ThreadHints(continue_open=True),
            wants_acknowledgement=True,
            meta={"kind": "sms", "to": params.get("To")},
        ),
    )


# Twilio MessageStatus -> our delivery state; rank keeps late callbacks from going backwards.
DELIVERY = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}
RANK = {None: -1, "queued": 0, "sent": 1, "delivered": 2, "failed": 2}
ERRORS = {
    "21610": "the number sent STOP (unsubscribed)",
    "30003": "the phone is unreachable or switched off",
    "30004": "the message was blocked",
    "30005": "unknown number",
    "30006": "a landline or unreachable carrier",
    "30007": "filtered by the carrier",
    "30008": "unknown error at the carrier",
}


def update_delivery(phone: PhoneChannel, params: Params, message_id: int | None) -> bool:
    sid = params.get("MessageSid", "")
    state = DELIVERY.get(params.get("MessageStatus", ""))
    if state is None:
        return False
    with phone.services.db.session() as session:
        message = session.get(Message, message_id) if message_id else None
        if message is None or (message.external_id and message.external_id != sid):
            message = session.scalar(
                select(Message).where(Message.channel.in_(("sms", "phone")), Message.external_id == sid)
            )
        if message is None or message.direction != "outbound":
            return False
        if RANK[state] <= RANK.get(message.delivery_state, -1) and state != "failed":
            return False
        target = message.id
    error = None
    if state == "failed":
        code = params.get("ErrorCode") or ""
        error = f"Twilio error {code}: {ERRORS.get(code, 'not delivered')}" if code else "not delivered"
    record_delivery(phone.services, target, state, error=error, external_id=sid or None)
    return True
