"""An administrator, by keyboard alone, renames a queue in three languages and the console follows;
every admin page is axe-core clean and fits 360 px."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpdesk.tickets import Identity, InboundMessage, receive_inbound, set_queue
from helpdesk.tickets.types import Actor
from tests.conftest import LiveServer, add_agent, axe, browser_login, start_live_server

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    srv = start_live_server(tmp_path, channels=())
    yield srv
    srv.stop()
    srv.services.db.dispose()


def keyboard_to(page: Any, name: str) -> None:
    """Tab to the link or button called `name` and press Enter, as a keyboard user would."""
    target = page.get_by_role("link", name=name, exact=True).first
    for _ in range(60):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            with page.expect_navigation():
                page.keyboard.press("Enter")
            return
    raise AssertionError(f"{name!r} cannot be reached with Tab")


def clean(page: Any) -> None:
    found = axe(page)
    assert found == [], found
    # 360 px: nothing but the tables' own scroll boxes is wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_admin_renames_a_queue_in_three_languages_and_the_console_shows_it(server, browser):
    svc = server.services
    admin_id = add_agent(svc, "root@helpdesk.localhost", "admin")
    result = receive_inbound(svc, InboundMessage(channel="email", sender=Identity("email", "g@example.rs"),
                                                 subject="Porez", text="Pitanje o porezu"))
    set_queue(svc, result.ticket_reference, Actor.agent(admin_id), "payments")
    context = browser.new_context(viewport={"width": 360, "height": 800}, bypass_csp=True)
    page = context.new_page()
    try:
        browser_login(page, server.url, "root@helpdesk.localhost")
        keyboard_to(page, "Administration")
        clean(page)
        keyboard_to(page, "Queues")
        clean(page)
        keyboard_to(page, "Rename: Payments and taxes")
        clean(page)
        for label, text in (("Name in Serbian (Latin)", "Naplata i porezi"),
                            ("Name in Serbian (Cyrillic)", "Наплата и порези"),
                            ("Name in English", "Fees and taxes")):
            field = page.get_by_label(label)
            field.focus()
            page.keyboard.press("Control+A")
            page.keyboard.type(text)
        with page.expect_navigation():
            page.keyboard.press("Enter")  # submits the form from its last field
        assert page.get_by_role("cell", name="Наплата и порези").count() == 1
        clean(page)
        for path in ("/admin/agents", f"/admin/agents/{admin_id}", "/admin/categories",
                     "/admin/routes", "/admin/hours"):
            page.goto(f"{server.url}{path}")
            clean(page)

        for lang, name in (("sr-Latn", "Naplata i porezi"), ("sr-Cyrl", "Наплата и порези"),
                           ("en", "Fees and taxes")):
            page.goto(f"{server.url}/console?lang={lang}")
            chips = page.locator("#queue-counts")
            assert chips.get_by_text(name).count() == 1, lang
            row = page.locator(f"tr[data-reference='{result.ticket_reference}']")
            assert name in row.inner_text()
            assert "payments" not in page.locator("main").inner_text()
    finally:
        context.close()
