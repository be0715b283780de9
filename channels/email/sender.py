"""OutboundSender for email: build the mail, then relay it over SMTP or write it to the outbox dir.

Headers are built by ``EmailMessage`` (policy.SMTP), which folds and encodes values, so a subject or
name with CR/LF cannot inject a header. Threading headers point at the citizen's last message.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from sqlalchemy import func, select

from channels.email.ack_text import (
    ack_subject_and_text,
    sender_name,
    survey_subject_and_text,
    transcript_subject_and_text,
)
from channels.email.quoting import html_tail, local_stamp, text_tail
from channels.email.thread_hints import (
    clean_subject,
    new_message_id,
    parse_our_id,
    reply_address,
    verp_address,
)
from helpdesk.models import ContactIdentity, OutboxItem, Ticket
from helpdesk.outbound import Envelope, PermanentFailure, SendResult, TemporaryFailure
from helpdesk.services import Services
from helpdesk.settings import Settings

log = logging.getLogger(__name__)
MAX_REFERENCES = 20
ACK_LIMIT = 3  # acknowledgements to one address ...
ACK_WINDOW = 3600.0  # ... per hour: a looping auto-responder gets three, not thousands


class AckRateLimiter:
    """Per-address sliding window; in memory, since each dispatcher process sends its own acks."""

    def __init__(self, limit: int = ACK_LIMIT, window: float = ACK_WINDOW) -> None:
        self.limit, self.window = limit, window
        self._sent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, address: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._sent.setdefault(address.lower(), deque())
            while times and now - times[0] > self.window:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True


class StoreAckLimiter:
    """Counts acknowledgements already sent to the address in the store, so the limit holds across
    restarts and across several dispatcher processes (`helpdesk worker` on each node)."""

    def __init__(self, svc: Services, limit: int = ACK_LIMIT, window: float = ACK_WINDOW) -> None:
        self.svc, self.limit, self.window = svc, limit, window

    def allow(self, address: str) -> bool:
        since = self.svc.clock.now() - timedelta(seconds=self.window)
        with self.svc.db.session() as s:
            sent = s.scalar(
                select(func.count())
                .select_from(OutboxItem)
                .join(Ticket, Ticket.id == OutboxItem.ticket_id)
                .join(ContactIdentity, ContactIdentity.contact_id == Ticket.contact_id)
                .where(
                    OutboxItem.channel == "email",
                    OutboxItem.kind == "ack",
                    OutboxItem.status == "sent",
                    OutboxItem.sent_at >= since,
                    ContactIdentity.kind == "email",
                    ContactIdentity.value == address.strip().lower(),
                )
            )
        return int(sent or 0) < self.limit


class EmailSender:
    channel = "email"

    def __init__(self, settings: Settings, limiter: AckRateLimiter | StoreAckLimiter | None = None) -> None:
        self.settings = settings
        self.limiter = limiter or AckRateLimiter()
        self.outbox_dir = settings.data_dir / "outbox"

    @property
    def domain(self) -> str:
        return self.settings.support_address.rsplit("@", 1)[-1].lower()

    def send(self, envelope: Envelope) -> SendResult:
        if not envelope.to_address or "@" not in envelope.to_address:
            raise PermanentFailure("the contact has no email address")
        if envelope.kind == "ack" and not self.limiter.allow(envelope.to_address):
            raise PermanentFailure(
                f"not sent: acknowledgement limit ({ACK_LIMIT} per hour) reached for this address"
            )
        try:
            msg, message_id, envelope_from = self.build(envelope)
        except (ValueError, IndexError) as exc:  # an address EmailMessage cannot write
            raise PermanentFailure(f"cannot address the mail ({type(exc).__name__})") from exc
        if self.settings.smtp_relay:
            self._relay(msg, envelope_from, envelope.to_address)
        else:
            write_eml(self.outbox_dir, envelope.item_id, msg)
        return SendResult(external_id=message_id)

    def new_external_id(self, env: Envelope) -> str:
        """A Message-ID for the item's first attempt; the dispatcher keeps it for every resend."""
        tag = f"m{env.message_id}" if env.message_id else f"a{env.item_id}"
        return new_message_id(env.reply_token or "0" * 24, tag, self.domain)

    def build(self, env: Envelope) -> tuple[EmailMessage, str, str]:
        """The mail, its Message-ID (no brackets) and the VERP envelope sender."""
        tag = f"m{env.message_id}" if env.message_id else f"a{env.item_id}"
        token = env.reply_token or "0" * 24
        # The same Message-ID on a resend (a crash after the relay took it): the receiver drops it.
        message_id = env.external_id or self.new_external_id(env)
        msg = EmailMessage(policy=policy.SMTP)
        display = sender_name(env.language, env.script)
        msg["From"] = Address(display, addr_spec=self.settings.support_address)
        msg["To"] = Address(_one_line(env.to_name or ""), addr_spec=env.to_address or "")
        msg["Reply-To"] = Address(display, addr_spec=reply_address(token, self.domain))
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = f"<{message_id}>"
        base = clean_subject(env.subject) or env.ticket_reference
        text, html = env.text, env.html
        if env.kind == "ack":
            title, text = ack_subject_and_text(env.ticket_reference, env.language, env.script)
            html = None
            msg["Subject"] = f"{title}: {base} [{env.ticket_reference}]"
            # RFC 3834: an automatic answer says so, and asks other responders not to answer it.
            msg["Auto-Submitted"] = "auto-replied"
            msg["X-Auto-Response-Suppress"] = "All"
        elif env.kind == "survey":
            title, text = survey_subject_and_text(
                env.ticket_reference, env.links.get("survey", ""), env.language, env.script
            )
            html = None
            msg["Subject"] = f"{title} [{env.ticket_reference}]"
            msg["Auto-Submitted"] = "auto-generated"
        elif env.kind == "transcript":
            lines = [
                f"[{local_stamp(line.at, self.settings.timezone)}] {line.author}: {line.text}"
                for line in env.transcript
            ]
            title, text = transcript_subject_and_text(env.ticket_reference, lines, env.language, env.script)
            html = None
            msg["Subject"] = f"{title}: {base} [{env.ticket_reference}]"
        else:
            msg["Subject"] = f"Re: {base} [{env.ticket_reference}]"
            if env.kind == "incident":  # an incident's notice in place of the acknowledgement
                msg["Auto-Submitted"] = "auto-replied"
                msg["X-Auto-Response-Suppress"] = "All"
            if env.kind == "reply":  # the agent's signature and the citizen's message it answers
                text = (text or "") + text_tail(env, self.settings.timezone)
                if html:
                    html += html_tail(env, self.settings.timezone)
        theirs = [i for i in env.thread_external_ids if parse_our_id(i) is None and "@" in i]
        if theirs:
            msg["In-Reply-To"] = f"<{theirs[-1]}>"
        references = [i for i in env.thread_external_ids if "@" in i]
        if len(references) > MAX_REFERENCES:  # keep the root and the newest, as RFC 5322 advises
            references = references[:1] + references[-(MAX_REFERENCES - 1) :]
        if references:
            msg["References"] = " ".join(f"<{i}>" for i in references)
        msg.set_content(text or "")
        if html:
            msg.add_alternative(html, subtype="html")
        return msg, message_id, verp_address(token, tag, self.domain)

    def _relay(self, msg: EmailMessage, envelope_from: str, to: str) -> None:
        host, _, port = (self.settings.smtp_relay or "").rpartition(":")
        smtp: smtplib.SMTP | None = None
        try:
            smtp = smtplib.SMTP(host or "127.0.0.1", int(port or 25), timeout=30)
            if self.settings.smtp_relay_starttls:
                cafile = self.settings.smtp_relay_cafile
                smtp.starttls(context=ssl.create_default_context(cafile=cafile))
            if self.settings.smtp_relay_user:
                password = self.settings.smtp_relay_password or ""
                smtp.login(self.settings.smtp_relay_user, password)
            smtp.send_message(msg, from_addr=envelope_from, to_addrs=[to])
            _quit_quietly(smtp)  # accepted: a lost QUIT reply changes nothing
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(code >= 500 for code in codes):
                raise PermanentFailure(f"relay refused the recipient ({codes[0]})") from exc
            raise TemporaryFailure(f"relay deferred the recipient ({codes[0]})") from exc
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError):
                raise PermanentFailure(f"relay rejected the message ({exc.smtp_code})") from exc
            raise TemporaryFailure(f"relay answered {exc.smtp_code}") from exc
        except (OSError, smtplib.SMTPException) as exc:  # down, timeout, TLS, disconnect
            raise TemporaryFailure(f"relay unavailable ({type(exc).__name__})") from exc
        finally:
            if smtp is not None:
                smtp.close()  # never wait for a QUIT reply on a broken (e.g. half-TLS) session


def _quit_quietly(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        pass


def write_eml(folder: Path, item_id: int, msg: EmailMessage) -> Path:
    """Write the mail where the console can show it; atomic, so a reader never sees half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = folder / f"{stamp}-{item_id}.eml"
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(msg.as_bytes())
    os.replace(tmp, path)
    return path


def _one_line(value: str) -> str:
    return " ".join(value.split())
