"""The privacy pages in a browser: axe-core clean, 360 px wide, in English and Serbian Cyrillic;
a supervisor finds a contact and sees its tickets, an admin sets a retention rule."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpdesk.tickets import Identity, InboundMessage, receive_inbound
from tests.conftest import LiveServer, add_agent, axe, browser_login, start_live_server

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    srv = start_live_server(tmp_path, channels=())
    yield srv
    srv.stop()
    srv.services.db.dispose()


def clean(page: Any) -> None:
    found = axe(page)
    assert found == [], found
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_privacy_pages_are_accessible(server: LiveServer, browser: Any) -> None:
    svc = server.services
    add_agent(svc, "sara@helpdesk.localhost", "supervisor")
    add_agent(svc, "root@helpdesk.localhost", "admin")
    result = receive_inbound(
        svc, InboundMessage("email", Identity("email", "g@example.rs"), "Porez", "Pitanje o porezu")
    )
    context = browser.new_context(viewport={"width": 360, "height": 800}, bypass_csp=True)
    page = context.new_page()
    try:
        browser_login(page, server.url, "sara@helpdesk.localhost")
        page.goto(f"{server.url}/supervisor/privacy?lang=en")
        clean(page)
        page.get_by_label("Email, phone, ticket reference or contact number").fill("g@example.rs")
        page.get_by_role("button", name="Find").click()
        page.wait_for_url("**/supervisor/privacy/contacts/*")
        assert result.ticket_reference in page.content()
        clean(page)
        page.get_by_role("link", name="Access log").click()
        page.wait_for_url("**/access-log")
        assert "contact" in page.locator("tbody").inner_text()  # the look just taken
        clean(page)
        page.goto(f"{server.url}/supervisor/privacy/access-log?lang=sr-Cyrl")
        assert "Евиденција приступа" in page.content()
        clean(page)
        context.clear_cookies()
        browser_login(page, server.url, "root@helpdesk.localhost")
        page.goto(f"{server.url}/admin/retention?lang=en")
        clean(page)
        page.get_by_label("Days after resolution").fill("365")
        page.get_by_role("button", name="Save rule").click()
        page.wait_for_load_state()
        assert "365 days" in page.content()
        clean(page)
    finally:
        context.close()
