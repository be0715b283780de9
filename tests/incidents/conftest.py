"""Fixtures for incidents: a live server with chat, email and SMS, the SMTP relay double, and the
outbox dispatcher left to the test (so it can run it, and run it again)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from aiosmtpd.controller import Controller

from channels.phone.channel import EXTENSION_KEY
from channels.phone.signature import sign
from helpdesk.incidents.core import IncidentDraft, open_incident
from helpdesk.services import SystemClock
from helpdesk.tickets import Actor
from tests.channels.email.helpers import SUPPORT, RelaySink
from tests.conftest import LiveServer, add_agent, free_port, make_services, make_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functional"))

NOTICE_LATN = "Portal eUprava ne radi od 9 časova. Radimo na otklanjanju kvara; očekujemo da proradi do 13."
NOTICE_EN = "The eUprava portal is down since 9:00. We are fixing it and expect it back by 13:00."


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    """Poll until ``check()`` is truthy (a bounded wait for another thread, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def relay() -> Iterator[RelaySink]:
    sink = RelaySink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    sink.port = controller.port
    yield sink
    controller.stop()


@pytest.fixture
def server(tmp_path: Path, relay: RelaySink) -> Iterator[LiveServer]:
    port = free_port()
    settings = make_settings(
        tmp_path,
        port=port,
        host="127.0.0.1",
        public_url=f"http://127.0.0.1:{port}",
        channels=("channels.chat", "channels.email", "channels.phone"),
        smtp_port=free_port(),
        smtp_relay=f"127.0.0.1:{relay.port}",
        mail_domains=("helpdesk.localhost",),
        support_address=SUPPORT,
    )
    svc = make_services(settings, clock=SystemClock())
    srv = LiveServer(settings, services=svc)
    for service in svc.background:
        if service.name != "outbox":  # the test dispatches itself
            service.start()
    srv.start()
    yield srv
    srv.stop()
    svc.db.dispose()


@pytest.fixture
def supervisor(server: LiveServer) -> int:
    return add_agent(server.services, "sef@helpdesk.localhost", "supervisor", name="Šefica")


@pytest.fixture
def incident(server: LiveServer, supervisor: int) -> int:
    return open_incident(
        server.services,
        Actor.agent(supervisor),
        IncidentDraft(
            title="eUprava login down",
            notice_sr_latn=NOTICE_LATN,
            notice_en=NOTICE_EN,
            keywords="eUprava, prijava na portal",
        ),
    )


def post_sms(server: LiveServer, sender: str, body: str, sid: str) -> str:
    """A signed Twilio SMS webhook, as Twilio would send it; returns the TwiML answer."""
    phone = server.app.extensions[EXTENSION_KEY]
    url = phone.urls("/sms")
    params = {
        "MessageSid": sid,
        "From": sender,
        "To": "+381113300900",
        "Body": body,
        "AccountSid": "AC" + "0" * 32,
        "NumMedia": "0",
    }
    path = url[len(phone.settings.public_url) :]
    response = requests.post(
        server.url + path,
        data=params,
        headers={"X-Twilio-Signature": sign(phone.webhook_token, url, params)},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.text
