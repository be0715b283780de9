"""One accepted mail -> the core: a ticket or a reply, a bounce recorded, or automatic mail dropped.

Runs in a worker thread (never on the SMTP event loop). Raises only when storing failed, so the
SMTP handler can answer 451 and the sender retries; everything else about the mail is handled.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import nullcontext
from dataclasses import dataclass

from sqlalchemy import select

from channels.email.autoreply import BOUNCE, HUMAN, Classification, classify
from channels.email.parse import ParsedEmail, parse_message, usable_address
from channels.email.quotes import extract_reply
from channels.email.thread_hints import (
    SentTag,
    parse_bounce_address,
    parse_our_id,
    reference_in,
    reply_token_from_address,
)
from channels.email.write_gate import WriteGate
from helpdesk.models import Message, Ticket
from helpdesk.services import Services
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
from triage.text import detect_language, detect_script

log = logging.getLogger(__name__)
CHANNEL = "email"


class NoSender(ValueError):
    """The mail names nobody we could answer (no From, no envelope sender)."""


@dataclass(frozen=True)
class Outcome:
    kind: str  # ticket | reply | duplicate | bounce | automatic
    ticket_reference: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Reading:
    """What a mail asks for, decided without writing anything: a message to store (``inbound``), a
    bounce to record, or nothing more to do (``outcome``: automatic mail dropped)."""

    inbound: InboundMessage | None = None
    bounce: tuple[ParsedEmail, Classification, list[SentTag]] | None = None
    outcome: Outcome | None = None


def handle_message(
    svc: Services,
    raw: bytes,
    mail_from: str | None,
    rcpt_tos: list[str],
    gate: WriteGate | None = None,
) -> Outcome:
    """Read the mail (no lock held), then write what it asks for under ``gate`` (the spool first)."""
    return act(svc, read_mail(svc, raw, mail_from, rcpt_tos), gate)


def read_mail(svc: Services, raw: bytes, mail_from: str | None, rcpt_tos: list[str]) -> Reading:
    """Parse, classify and build the core's message; raises NoSender when nobody could be answered."""
    parsed = parse_message(raw)
    verdict = classify(parsed.message, mail_from)
    bounce_tags = [t for t in map(parse_bounce_address, rcpt_tos) if t is not None]
    if verdict.kind == BOUNCE or (bounce_tags and verdict.kind != HUMAN):
        return Reading(bounce=(parsed, verdict, bounce_tags))
    if parse_our_id(parsed.message_id or "") is not None:
        # One of our own mails came back (a forwarding loop, a relay routing to us): never a ticket.
        log.info("our own outbound mail came back; dropped")
        return Reading(outcome=Outcome("automatic", detail="our own mail"))
    if verdict.kind != HUMAN or bounce_tags:
        # Vacation notices, list mail, anything sent to a bounce address: never a ticket, never
        # an answer. Logged without addresses (personal data stays out of logs).
        log.info("automatic mail dropped: %s", verdict.reason or "sent to a bounce address")
        return Reading(outcome=Outcome("automatic", detail=verdict.reason))
    return Reading(inbound=_inbound(svc, raw, parsed, verdict, mail_from, rcpt_tos))


def act(svc: Services, reading: Reading, gate: WriteGate | None = None, defer_until: float = 0.0) -> Outcome:
    """Write what ``read_mail`` decided (one transaction in the core)."""
    if reading.outcome is not None:
        return reading.outcome
    with gate.worker(defer_until) if gate else nullcontext():
        if reading.bounce is not None:
            return _record_bounce(svc, *reading.bounce)
        assert reading.inbound is not None
        return outcome_of(receive_inbound(svc, reading.inbound))


def outcome_of(result: InboundResult) -> Outcome:
    kind = "duplicate" if result.duplicate else "ticket" if result.created else "reply"
    return Outcome(kind, result.ticket_reference)


def _inbound(
    svc: Services,
    raw: bytes,
    parsed: ParsedEmail,
    verdict: Classification,
    mail_from: str | None,
    rcpt_tos: list[str],
) -> InboundMessage:
    # The From header's addr-spec, else the envelope sender (what bounces would go back to).
    address = parsed.from_address or usable_address(mail_from)
    if not address:
        raise NoSender("no sender address")
    text = extract_reply(parsed.text, parsed.from_name) if parsed.text else ""
    attachments, omitted = _attachments(svc, parsed)
    meta: dict[str, object] = {"to": list(parsed.to), "cc": list(parsed.cc)}
    html = parsed.html
    if text != parsed.text.strip():
        # The agent can open what the stored text left out. The HTML holds the same quotes, so
        # the ticket shows the stripped text and keeps the (sanitized) HTML beside it.
        meta["full_text"] = parsed.text
        if html:
            meta["full_html"] = html
            html = None
    if omitted:
        meta["omitted_attachments"] = omitted
    if parsed.html and "data-remote-src=" in parsed.html:
        meta["remote_images"] = True
    if parsed.defects:
        meta["mime_defects"] = parsed.defects
    if parsed.structure_unread:
        meta["structure_unread"] = True
    sample = f"{parsed.subject}\n{text}"
    language = detect_language(sample)
    script = detect_script(sample)
    return InboundMessage(
        channel=CHANNEL,
        sender=Identity("email", address),
        sender_name=storable(parsed.from_name),
        subject=storable(parsed.subject) or "",
        text=storable(text) or "(bez teksta / no text)",
        html=storable(html),
        attachments=attachments,
        external_id=storable(parsed.message_id) or "sha256:" + hashlib.sha256(raw).hexdigest(),
        hints=_hints(parsed, rcpt_tos),
        # The acknowledgement must come in the citizen's language and script.
        language=language if language in ("sr", "en") else None,
        script=script if script in ("latn", "cyrl") else None,
        wants_acknowledgement=not verdict.suppress_ack,
        raw=raw,
        meta=_storable_meta(meta),
    )


def storable(value: str | None) -> str | None:
    """Text every database takes: no NUL (PostgreSQL refuses it), no lone surrogates (UTF-8 does)."""
    if value is None:
        return None
    value = value.replace("\x00", "")
    return value.encode("utf-8", "replace").decode("utf-8")


def _storable_meta(meta: dict[str, object]) -> dict[str, object]:
    def clean(value: object) -> object:
        if isinstance(value, str):
            return storable(value)
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        return value

    return {k: clean(v) for k, v in meta.items()}


def _hints(parsed: ParsedEmail, rcpt_tos: list[str]) -> ThreadHints:
    token = next(filter(None, map(reply_token_from_address, rcpt_tos)), None)
    if token is None:
        tags = [t for t in map(parse_our_id, parsed.thread_ids) if t is not None]
        token = tags[0].token if tags else None
    return ThreadHints(
        ticket_reference=reference_in(parsed.subject),
        in_reply_to=parsed.thread_ids,
        reply_token=token,
    )


def _attachments(
    svc: Services, parsed: ParsedEmail
) -> tuple[tuple[AttachmentIn, ...], list[dict[str, object]]]:
    limit = svc.settings.max_attachment_bytes
    kept: list[AttachmentIn] = []
    omitted: list[dict[str, object]] = []
    for a in parsed.attachments:
        if len(a.data) > limit:
            omitted.append({"filename": storable(a.filename), "size": len(a.data), "reason": "too large"})
            continue
        name = storable(a.filename) or "attachment"
        kept.append(AttachmentIn(name, a.content_type, a.data, a.inline, storable(a.content_id)))
    return tuple(kept), omitted


def _record_bounce(
    svc: Services, parsed: ParsedEmail, verdict: Classification, bounce_tags: list[SentTag]
) -> Outcome:
    tags = bounce_tags + [t for t in map(parse_our_id, verdict.referenced_ids) if t is not None]
    error = _bounce_error(verdict)
    for tag in tags:
        reference = _mark_failed(svc, tag, error)
        if reference:
            log.info("bounce recorded on %s (%s)", reference, verdict.status or verdict.reason)
            return Outcome("bounce", reference, verdict.reason)
    log.info("bounce for no message of ours: %s", verdict.reason)
    return Outcome("bounce", None, verdict.reason)


def _bounce_error(verdict: Classification) -> str:
    status = f" {verdict.status}" if verdict.status else ""
    return f"bounced{status}: {verdict.reason}"[:500]


def _mark_failed(svc: Services, tag: SentTag, error: str) -> str | None:
    """Mark the outbound message failed; returns the ticket reference, None if not ours."""
    with svc.db.session() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.reply_token == tag.token))
        if ticket is None:
            return None
        reference = ticket.reference
        message_id = None
        if tag.kind == "m":
            message = s.get(Message, tag.number)
            if message is not None and message.ticket_id == ticket.id:
                message_id = message.id
    if message_id is not None:
        record_delivery(svc, message_id, "failed", error=error)
    else:
        # An acknowledgement has no Message row: say it on the ticket, where agents look.
        add_note(svc, reference, Actor.system("email"), f"Acknowledgement not delivered ({error}).")
    return reference
