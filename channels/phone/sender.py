"""OutboundSender for SMS: agent replies on "sms" and "phone" tickets, acknowledgements.

With Twilio credentials the message goes through twilio's REST `Client` (to the base URL in
HELPDESK_TWILIO_API_BASE when set); without them it is appended to the local outbox file that the
console shows. Either way a number that sent STOP gets nothing, and the reason is visible on the
ticket (PermanentFailure).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from channels.phone import outbox_log
from channels.phone.numbers import to_e164
from channels.phone.optout import is_opted_out
from helpdesk.outbound import Envelope, PermanentFailure, SendResult, TemporaryFailure
from helpdesk.services import Services
from triage.text import to_cyrillic

log = logging.getLogger(__name__)

MAX_SMS_CHARS = 1600  # Twilio's limit for one (concatenated) message body
# Twilio error codes that will never succeed for this recipient.
_UNSUBSCRIBED = 21610
OPTED_OUT_REASON = "The citizen opted out of SMS (sent STOP); nothing was sent."


ACK = {
    "sr": "Primili smo vaš zahtev {ref}. Odgovorićemo vam što pre. Za odjavu od SMS-a pošaljite STOP.",
    "en": "We received your request {ref} and will answer as soon as we can. Reply STOP to opt out.",
}
STOP_HINT = {"sr": "Za odjavu od SMS-a pošaljite STOP.", "en": "Reply STOP to opt out."}
SURVEY = {
    "sr": "Vaš zahtev {ref} je rešen. Ocenite našu pomoć: {link}",
    "en": "Your request {ref} is resolved. Please rate our help: {link}",
}


def _localized(templates: dict[str, str], envelope: Envelope, **values: str) -> str:
    template = templates["en" if envelope.language == "en" else "sr"]
    if envelope.language != "en" and envelope.script == "cyrl":
        # Transliterated before the values go in (to_cyrillic keeps {placeholders}): the
        # reference and the link stay Latin, the citizen types them back.
        template = to_cyrillic(template)
    return template.format(**values)


def sms_body(envelope: Envelope) -> str:
    """The SMS text for each outbox kind; replies carry the reference so it can be quoted."""
    ref = envelope.ticket_reference
    if envelope.kind == "ack":
        return _localized(ACK, envelope, ref=ref)
    if envelope.kind == "survey" and envelope.links.get("survey"):
        return _localized(SURVEY, envelope, ref=ref, link=envelope.links["survey"])
    body = envelope.text.strip()
    if not body:
        return ""
    body = f"{body}\n[{ref}]"
    if envelope.kind == "incident":  # an incident's notice stands in for the ack: keep its STOP line
        body = f"{body}\n{_localized(STOP_HINT, envelope)}"
    if len(body) > MAX_SMS_CHARS:
        body = body[: MAX_SMS_CHARS - 2].rstrip() + " …"
    return body


class SmsSender:
    def __init__(
        self,
        channel: str,
        services: Services,
        client_factory: Callable[[], Client] | None,
        status_callback: Callable[[int | None], str],
    ) -> None:
        self.channel = channel
        self.services = services
        self.client_factory = client_factory  # None: no Twilio account, use the local outbox
        self.status_callback = status_callback
        self._client: Client | None = None

    def _get_client(self) -> Client:
        assert self.client_factory is not None
        if self._client is None:
            self._client = self.client_factory()
        return self._client

    def send(self, envelope: Envelope) -> SendResult:
        to = to_e164(envelope.to_address)
        if to is None:
            raise PermanentFailure("No phone number to send an SMS to.")
        if is_opted_out(self.services, to):
            raise PermanentFailure(OPTED_OUT_REASON)
        body = sms_body(envelope)
        if not body:
            raise PermanentFailure("Empty message; nothing to send by SMS.")
        if self.client_factory is None:
            return self._to_local_outbox(envelope, to, body)
        return self._to_twilio(envelope, to, body)

    def _to_local_outbox(self, envelope: Envelope, to: str, body: str) -> SendResult:
        sid = "SMlocal" + uuid.uuid4().hex[:27]
        outbox_log.append(
            self.services.settings.data_dir,
            "sms",
            {
                "sid": sid,
                "to": to,
                "from": self.services.settings.twilio_from_number or "",
                "body": body,
                "ticket": envelope.ticket_reference,
                "kind": envelope.kind,
                "message_id": envelope.message_id,
            },
            self.services.clock.now(),
        )
        return SendResult(external_id=sid)

    def _to_twilio(self, envelope: Envelope, to: str, body: str) -> SendResult:
        try:
            message = self._get_client().messages.create(
                to=to,
                from_=self.services.settings.twilio_from_number,
                body=body,
                status_callback=self.status_callback(envelope.message_id),
            )
        except TwilioRestException as exc:
            if exc.code == _UNSUBSCRIBED:
                raise PermanentFailure(OPTED_OUT_REASON) from exc
            if exc.status == 429 or exc.status >= 500:
                raise TemporaryFailure(f"Twilio {exc.status}: try again later") from exc
            raise PermanentFailure(f"Twilio refused the SMS (error {exc.code}): {exc.msg}") from exc
        except OSError as exc:  # connection refused, timeout, DNS: requests' errors are OSErrors
            raise TemporaryFailure(f"Twilio unreachable: {type(exc).__name__}") from exc
        log.info("sms sent for %s as %s", envelope.ticket_reference, message.sid)
        return SendResult(external_id=message.sid)
