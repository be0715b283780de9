"""Fixtures for the email channel: a migrated store in a tmp dir, our SMTP server on a free port,
and a local aiosmtpd sink standing in for the outbound relay."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from channels.email.sender import EmailSender, StoreAckLimiter
from channels.email.server import SmtpService, _Controller
from helpdesk.services import Services
from tests.channels.email.helpers import MailClient, RelaySink, mail_services


@pytest.fixture
def relay_sink() -> Iterator[RelaySink]:
    sink = RelaySink()
    controller = _Controller(sink, hostname="127.0.0.1", port=0)
    controller.start()
    sink.port = controller.port
    yield sink
    controller.stop()


def _with_sender(svc: Services, sink: RelaySink) -> Services:
    from dataclasses import replace

    relay = replace(svc.settings, smtp_relay=f"127.0.0.1:{sink.port}")
    svc.senders["email"] = EmailSender(relay, StoreAckLimiter(svc))
    return svc


@pytest.fixture
def mail_svc(tmp_path: Path, relay_sink: RelaySink) -> Iterator[Services]:
    svc = _with_sender(mail_services(tmp_path), relay_sink)
    yield svc
    svc.db.dispose()


@pytest.fixture
def mail_store(store_url: str, tmp_path: Path, relay_sink: RelaySink) -> Iterator[Services]:
    """Like mail_svc, once on SQLite and once on PostgreSQL (when configured)."""
    svc = _with_sender(mail_services(tmp_path, store_url), relay_sink)
    yield svc
    svc.db.dispose()


def _serve(svc: Services) -> Iterator[MailClient]:
    server = SmtpService(svc, "127.0.0.1", 0)
    server.start()
    yield MailClient(server)
    server.stop()


@pytest.fixture
def mail(mail_svc: Services) -> Iterator[MailClient]:
    yield from _serve(mail_svc)


@pytest.fixture
def store_mail(mail_store: Services) -> Iterator[MailClient]:
    yield from _serve(mail_store)
