"""Helpers for the email channel tests: the store, a relay sink, an smtplib client."""

from __future__ import annotations

import smtplib
import threading
import time
from dataclasses import dataclass, field, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from channels.dispatcher import OutboxDispatcher
from channels.email.inbound import Outcome
from channels.email.sender import EmailSender
from channels.email.server import SmtpService
from channels.email.spool_worker import SpoolWorker
from helpdesk.models import MailSpoolItem, Message, OutboxItem, Ticket
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
        """Send with smtplib, let the spool worker store it; the server's final reply text and
        what the worker made of the mail ("... queued as 7 -> OK ticket HD-...", raises on 4xx/5xx)."""
        reply = self.send_only(raw, mail_from, to)
        row_id = int(reply.rsplit(" ", 1)[-1])
        outcome = drain(self.server.svc).get(row_id)
        if outcome is None:
            return f"{reply} -> not stored"
        return f"{reply} -> OK {outcome.kind} {outcome.ticket_reference or ''}".strip()

    def send_only(self, raw: bytes | EmailMessage, mail_from: str = "", to: list[str] | None = None) -> str:
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


def drain(svc: Services) -> dict[int, Outcome | None]:
    """What the spool worker would do next: store every spooled mail; the outcome of each.

    Also waits for a mail that a running worker (an embedded server's) has in hand."""
    worker, results = SpoolWorker(svc), {}
    deadline = time.monotonic() + 30
    while True:
        results.update(worker.run_once())
        if not count(svc, MailSpoolItem, MailSpoolItem.status == "working") or time.monotonic() > deadline:
            return results
        time.sleep(0.05)


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
