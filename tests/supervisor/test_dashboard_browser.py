"""The dashboard and the survey page in headless Chromium: charts and tables there, axe-core clean,
usable at 360 px, agents refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import metrics_scenario as scenario
import pytest

from helpdesk.outbound import survey_token
from helpdesk.supervisor import configure_sla
from tests.conftest import LiveServer, add_agent, axe, browser_login, start_live_server

pytestmark = pytest.mark.browser
RANGE = "from=2026-W42&to=2026-W46"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    srv = start_live_server(tmp_path, channels=())
    configure_sla(srv.services)
    with srv.services.db.transaction() as s:
        srv.ticket_ids = {k: t.id for k, t in scenario.build(s, srv.services.sla).items()}
    yield srv
    srv.stop()
    srv.services.db.dispose()


def _page(browser: Any, width: int) -> Iterator[Any]:
    # bypass_csp: the axe() helper injects axe-core inline, which our CSP rightly refuses.
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop(browser: Any) -> Iterator[Any]:
    yield from _page(browser, 1280)


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    yield from _page(browser, 360)


def test_supervisor_sees_charts_beside_tables_and_axe_finds_nothing(server, desktop):
    add_agent(server.services, "boss@helpdesk.localhost", "supervisor")
    browser_login(desktop, server.url, "boss@helpdesk.localhost")
    response = desktop.goto(f"{server.url}/supervisor?{RANGE}&lang=en")
    assert response.status == 200
    charts = desktop.get_by_role("img", name="Inquiries per week and channel")
    assert charts.count() == 1
    assert desktop.locator("svg[role=img]").count() == 7
    volume = desktop.get_by_role("table", name="Inquiries per week and channel")
    assert volume.locator("tbody tr").count() == 5
    assert volume.locator("tbody tr").nth(1).locator("th").inner_text() == "2026-W43"
    sla = desktop.get_by_role("table", name="SLA compliance")
    assert "66.7%" in sla.inner_text()
    assert axe(desktop) == []
    # the filters work from the keyboard: choose the phone channel and submit
    desktop.get_by_label("Channel", exact=True).select_option("phone")
    with desktop.expect_navigation():
        desktop.get_by_role("button", name="Show").press("Enter")
    assert "channel=phone" in desktop.url
    volume = desktop.get_by_role("table", name="Inquiries per week and channel")
    assert volume.locator("tbody tr").nth(1).locator("td").first.inner_text() == "2"  # phone
    assert volume.locator("tbody tr").nth(1).locator("td").nth(5).inner_text() == "2"  # total (5 channels)


def test_dashboard_in_cyrillic_at_360px(server, phone):
    add_agent(server.services, "admin@helpdesk.localhost", "admin")
    browser_login(phone, server.url, "admin@helpdesk.localhost")
    phone.goto(f"{server.url}/supervisor?{RANGE}&lang=sr-Cyrl")
    # seven weekly tables, the per-agent one and the callbacks one (each must scroll in its region)
    assert phone.locator("table").count() == 9
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert axe(phone) == []
    # every named region (a landmark a screen reader lists) has a name of its own
    names = phone.evaluate(
        """() => Array.from(document.querySelectorAll('section[aria-labelledby], [role=region]'))
            .map(e => (e.getAttribute('aria-labelledby') || '').split(' ')
                .map(id => (document.getElementById(id) || {}).textContent || '').join(' ').trim())"""
    )
    assert len(names) == len(set(names)) > 8


def test_agent_is_refused(server, desktop):
    add_agent(server.services, "agent@helpdesk.localhost", "agent")
    browser_login(desktop, server.url, "agent@helpdesk.localhost")
    response = desktop.goto(f"{server.url}/supervisor?lang=en")
    assert response.status == 403
    assert desktop.locator("svg[role=img]").count() == 0


def test_survey_page_is_accessible_and_works_by_keyboard(server, phone):
    token = survey_token(server.services.settings.secret_key, server.ticket_ids["T6"])
    phone.goto(f"{server.url}/survey/{token}?lang=en")
    assert axe(phone) == []
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.get_by_role("radio", name="5").focus()
    phone.keyboard.press("Space")
    phone.get_by_label("Comment (optional)").fill("Hvala!")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Send").press("Enter")
    assert phone.get_by_role("status").inner_text().startswith("Your answer about request")
    assert axe(phone) == []
    with server.services.db.session() as s:
        from helpdesk.models import Ticket

        assert s.get(Ticket, server.ticket_ids["T6"]).csat_score == 5
