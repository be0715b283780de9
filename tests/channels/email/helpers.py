"""Helpers for the email channel tests: the store, a relay sink, an smtplib client."""

from __future__ import annotations

import smtplib
import threading
from dataclasses import dataclass, field, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from channels.dispatcher import OutboxDispatcher
from channels.email.sender import EmailSender
from channels.email.server import SmtpService
from helpdesk.models import Message, OutboxItem, Ticket
from helpdesk.services import Services
from tests.conftest import make_services, make_settings

SUPPORT = "podrska@helpdesk.localhost"
FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class RelaySink:
    """What a real relay would have received: (envelope sender, recipients, parsed mail)."""

    port: int = 0
    received: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 2.0.0 OK sink"

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [m for _, _, m in self.received]


def mail_services(tmp_path: Path, database_url: str | None = None, **overrides: Any) -> Services:
    """A migrated store (tests.conftest's), with our mail domain and support address."""
    settings = make_settings(
        tmp_path,
        database_url,
        mail_domains=("helpdesk.localhost",),
        support_address=SUPPORT,
        **overrides,
    )
    return make_services(settings)


@dataclass
class MailClient:
    server: SmtpService

    def send(self, raw: bytes | EmailMessage, mail_from: str = "", to: list[str] | None = None) -> str:
        """Send with smtplib, return the server's final reply text (raises on 4xx/5xx)."""
        data = raw.as_bytes(policy=policy.SMTP) if isinstance(raw, EmailMessage) else crlf(raw)
        with smtplib.SMTP(self.server.host, self.server.port, timeout=30) as smtp:
            smtp.ehlo("client.example.rs")
            smtp.mail(mail_from or "<>")
            for rcpt in to or [SUPPORT]:
                code, reply = smtp.rcpt(rcpt)
                if code != 250:
                    raise smtplib.SMTPRecipientsRefused({rcpt: (code, reply)})
            code, reply = smtp.data(data)
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
            return reply.decode()


def dispatch(svc: Services) -> int:
    return OutboxDispatcher(svc).run_once()


def count(svc: Services, model: type, *where: Any) -> int:
    with svc.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def tickets(svc: Services) -> list[Ticket]:
    with svc.db.session() as s:
        found = list(s.scalars(select(Ticket).order_by(Ticket.id)))
        s.expunge_all()
        return found


def messages(svc: Services, reference: str) -> list[Message]:
    with svc.db.session() as s:
        found = list(
            s.scalars(
                select(Message)
                .join(Ticket, Ticket.id == Message.ticket_id)
                .where(Ticket.reference == reference)
                .order_by(Message.seq)
            )
        )
        for m in found:
            _ = m.attachments
        s.expunge_all()
        return found


def outbox(svc: Services) -> list[OutboxItem]:
    with svc.db.session() as s:
        found = list(s.scalars(select(OutboxItem).order_by(OutboxItem.id)))
        s.expunge_all()
        return found


def crlf(raw: bytes) -> bytes:
    """SMTP lines end in CRLF; files and EmailMessage default to LF."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def with_relay(svc: Services, relay: str | None) -> None:
    current = svc.senders["email"]
    assert isinstance(current, EmailSender)
    svc.senders["email"] = EmailSender(replace(svc.settings, smtp_relay=relay), current.limiter)
