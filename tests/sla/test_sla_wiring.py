"""The business-hours policy in the running system: chosen by settings, driven by core operations."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from helpdesk import create_app
from helpdesk.models import Ticket
from helpdesk.services import ClockHoursSla, FixedClock
from helpdesk.sla import BusinessHoursSla, SlaChecker
from helpdesk.supervisor import configure_sla
from helpdesk.tickets import Actor, Identity, InboundMessage, receive_inbound, set_status
from tests.conftest import make_services, make_settings

BELGRADE = ZoneInfo("Europe/Belgrade")


def local(month, day, hour, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=BELGRADE).astimezone(UTC)


def test_the_app_uses_business_hours_by_default(services):
    app = create_app(services.settings, services=services)
    assert isinstance(services.sla, BusinessHoursSla)
    assert any(isinstance(s, SlaChecker) for s in services.background)
    assert any(p.template == "supervisor/_sla_panel.html" for p in services.ticket_panels)
    assert "supervisor.dashboard" in app.view_functions


def test_settings_can_keep_plain_clock_hours_or_refuse_nonsense(tmp_path):
    svc = make_services(make_settings(tmp_path, sla_policy="clock"))
    configure_sla(svc)
    assert type(svc.sla) is ClockHoursSla
    svc.db.dispose()
    (tmp_path / "b").mkdir()
    bad = make_services(make_settings(tmp_path / "b", sla_policy="weekly"))
    with pytest.raises(ValueError, match="HELPDESK_SLA_POLICY"):
        configure_sla(bad)
    bad.db.dispose()


def test_core_operations_set_and_move_due_times_in_business_hours(store):
    configure_sla(store)
    store.clock = FixedClock(local(12, 4, 15))  # Friday 15:00
    result = receive_inbound(store, InboundMessage(
        channel="email", sender=Identity("email", "a@example.rs"), subject="Pomoć",
        text="Ne radi prijava."))
    with store.db.session() as s:
        t = s.get(Ticket, result.ticket_id)
        # normal: 4 h first response, 16 h resolution: Fri 1 h, Mon 8 h (7 Dec), Tue 7 h
        assert (t.first_response_due_at, t.resolution_due_at) == (local(12, 7, 11), local(12, 8, 15))
    store.clock.at = local(12, 7, 9)  # Monday 09:00: waiting for the citizen
    set_status(store, result.ticket_reference, Actor.system("t"), "pending")
    store.clock.at = local(12, 10, 9)  # Thursday 09:00: the citizen answered
    set_status(store, result.ticket_reference, Actor.system("t"), "open")
    with store.db.session() as s:
        t = s.get(Ticket, result.ticket_id)
        assert t.sla_paused_seconds == 3 * 8 * 3600  # Mon 9-16, Tue, Wed, Thu 8-9
        assert t.first_response_due_at == local(12, 10, 11)  # 2 h were left
        assert t.resolution_due_at == local(12, 11, 15)  # 14 h were left: Thu 7 h + Fri 7 h


def test_console_ticket_view_shows_the_sla_panel(services):
    from datetime import timedelta

    from tests.conftest import T0, login

    app = create_app(services.settings, services=services)
    client = app.test_client()
    login(client, services, "supervisor")
    result = receive_inbound(services, InboundMessage(
        channel="email", sender=Identity("email", "b@example.rs"), subject="Porez",
        text="Pitanje o porezu."))
    page = client.get(f"/console/tickets/{result.ticket_reference}?lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Within its target" in html and "First response due" in html
    assert "23.11.2026 14:00" in html  # Monday 10:00 Belgrade + 4 business hours
    services.clock.at = T0 + timedelta(hours=3, minutes=30)  # half an hour left
    html = client.get(f"/console/tickets/{result.ticket_reference}?lang=en").get_data(as_text=True)
    assert "Close to its target" in html and "sla-panel sla-warning" in html
