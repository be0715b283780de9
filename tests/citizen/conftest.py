"""Fixtures for the citizen's side: the app with the web, email and phone channels, and a local
SMTP relay (an aiosmtpd sink) that stands in for the real one, so answers are checked on the wire."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from helpdesk import create_app
from helpdesk.services import Services
from tests.conftest import free_port, make_services, make_settings

OFFICE_PHONE = "+381 11 123 4567"
OFFICE_EMAIL = "kontakt@helpdesk.localhost"


@dataclass
class Sink:
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), msg))
        return "250 2.0.0 OK sink"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for rcpt, m in self.received if address in rcpt]


@pytest.fixture
def relay() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


def citizen_services(tmp_path: Path, relay_port: int | None = None, **overrides: Any) -> Services:
    values: dict[str, Any] = {
        "channels": ("channels.chat", "channels.email", "channels.phone", "channels.web"),
        "smtp_relay": f"127.0.0.1:{relay_port}" if relay_port else None,
        "office_phone": (OFFICE_PHONE,),
        "office_email": OFFICE_EMAIL,
        **overrides,
    }
    tmp_path.mkdir(parents=True, exist_ok=True)
    settings = make_settings(tmp_path, **values)
    return make_services(settings)


@pytest.fixture
def citizen_app(tmp_path: Path, relay: tuple[Sink, int]) -> Iterator[Any]:
    svc = citizen_services(tmp_path, relay[1])
    app = create_app(svc.settings, services=svc)
    yield app
    svc.db.dispose()
