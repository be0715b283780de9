"""Observability: Prometheus figures an operator alerts on, and JSON logs without personal data."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask_socketio import SocketIOTestClient

from helpdesk import create_app
from helpdesk.extensions import get_socketio
from helpdesk.logs import make_handler
from helpdesk.monitoring import SMTP_REPLIES, record_smtp_reply
from helpdesk.services import Services
from helpdesk.sla.checker import SlaChecker
from helpdesk.tickets import InboundMessage, receive_inbound
from helpdesk.tickets.types import Identity
from tests.conftest import T0, login, make_services, make_settings

TOKEN = "scrape-token-0123456789"


def metric(text: str, name: str, labels: str = "") -> float:
    pattern = re.escape(name + (f"{{{labels}}}" if labels else "")) + r" (\S+)"
    found = re.search(rf"^{pattern}$", text, re.MULTILINE)
    assert found, f"{name}{{{labels}}} not in /metrics"
    return float(found.group(1))


def test_metrics_show_outbox_backlog_and_age_sla_breaches_sockets_triage_and_smtp(
    tmp_path: Path,
) -> None:
    svc: Services = make_services(make_settings(tmp_path, metrics_token=TOKEN))
    app = create_app(svc.settings, services=svc)
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    scrape = lambda: client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text  # noqa: E731
    before = scrape()
    triaged = metric(before, "helpdesk_triage_seconds_count")
    assert metric(before, "helpdesk_outbox_backlog") == 0
    assert metric(before, "helpdesk_outbox_oldest_age_seconds") == 0

    receive_inbound(
        svc,
        InboundMessage(
            channel="email",
            sender=Identity("email", "gradjanin@example.rs"),
            subject="Hitno: ne radi prijava",
            text="Ne mogu da se prijavim.",
            wants_acknowledgement=True,  # an acknowledgement waits in the outbox (no sender here)
        ),
    )
    svc.clock.at = T0 + timedelta(seconds=90)  # type: ignore[attr-defined]
    SlaChecker(svc).check(now=T0 + timedelta(days=30))  # long past every target: a breach
    agent_id = login(client, svc)
    console = get_socketio(app).test_client(app, namespace="/console", flask_test_client=client)
    assert isinstance(console, SocketIOTestClient) and console.is_connected("/console")
    accepted = SMTP_REPLIES.labels("accepted")._value.get()
    record_smtp_reply("250 2.0.0 Message accepted")
    record_smtp_reply("550 5.7.1 Relaying denied")

    after = scrape()
    assert metric(after, "helpdesk_outbox_backlog") == 1
    assert metric(after, "helpdesk_outbox_oldest_age_seconds") == 90
    assert metric(after, "helpdesk_sla_breached_tickets", 'state="open"') == 1
    assert metric(after, "helpdesk_socketio_connections", 'namespace="/console"') == 1
    assert metric(after, "helpdesk_socketio_connections", 'namespace="/chat"') == 0
    assert metric(after, "helpdesk_triage_seconds_count") == triaged + 1
    assert metric(after, "helpdesk_smtp_messages_total", 'outcome="accepted"') == accepted + 1
    assert metric(after, "helpdesk_smtp_messages_total", 'outcome="refused"') >= 1
    console.disconnect(namespace="/console")
    assert agent_id
    svc.db.dispose()


def test_json_logs_carry_no_email_phone_or_jmbg(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, log_format="json")
    svc = make_services(settings)
    app = create_app(settings, services=svc)
    stream = io.StringIO()
    handler = make_handler(settings, stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    email, phone, jmbg = "pera.peric@example.rs", "+381 64 123 4567", "0101990710006"
    try:
        # A real request with all three in it, then the core path an inbound mail takes.
        r = app.test_client().post(
            "/api/v1/tickets",
            json={
                "contact": {"name": "Pera Perić", "email": email, "phone": phone},
                "subject": f"JMBG {jmbg}",
                "body": f"Moj broj je {phone}, pišite na {email}.",
            },
        )
        assert r.status_code == 201, r.text
        receive_inbound(
            svc,
            InboundMessage(channel="email", sender=Identity("email", email), subject="Pitanje",
                           text=f"Telefon 064/123-4567, JMBG {jmbg}"),
        )  # fmt: skip
        # And code that slips: a message, an extra field and an exception all carrying them.
        log = logging.getLogger("helpdesk.test")
        log.warning("could not deliver to %s or %s", email, phone, extra={"recipient": email})
        try:
            raise ValueError(f"bad address {email} for {jmbg}")
        except ValueError:
            log.exception("delivery failed")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        svc.db.dispose()
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    assert lines, "nothing was logged"
    text = stream.getvalue()
    for secret in (email, phone, jmbg, "064/123-4567", "0641234567"):
        assert secret not in text
    slipped: dict[str, Any] = next(e for e in lines if e["logger"] == "helpdesk.test")
    assert slipped["message"] == "could not deliver to <email> or <phone>"
    assert slipped["recipient"] == "<email>" and slipped["level"] == "WARNING"
    failed = [e for e in lines if e["message"] == "delivery failed"]
    assert "bad address <email> for <jmbg>" in failed[0]["exception"]
