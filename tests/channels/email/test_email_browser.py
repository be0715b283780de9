"""The email pages in Chromium: 360 px wide, keyboard only, no axe-core violations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from channels.dispatcher import OutboxDispatcher
from tests.channels.email.helpers import MailClient, fixture_bytes, messages, tickets
from tests.conftest import LiveServer, add_agent, axe, browser_login, start_live_server

pytestmark = pytest.mark.browser


class _Smtp:
    def __init__(self, port: int, svc: Any) -> None:
        self.host, self.port, self.svc = "127.0.0.1", port, svc


@pytest.fixture
def mail_server(tmp_path: Path) -> Iterator[LiveServer]:
    server = start_live_server(
        tmp_path, channels=("channels.email",), support_address="podrska@helpdesk.localhost"
    )
    yield server
    server.stop()
    server.services.db.dispose()


def test_outbox_and_mail_pages_at_360px_by_keyboard(browser: Any, mail_server: LiveServer) -> None:
    svc = mail_server.services
    client = MailClient(_Smtp(svc.settings.smtp_port, svc))  # type: ignore[arg-type]
    client.send(fixture_bytes("attachments_inline_html.eml"), "marija@example.rs")
    OutboxDispatcher(svc).run_once()  # the acknowledgement, written to <data_dir>/outbox
    [ticket] = tickets(svc)
    [stored] = messages(svc, ticket.reference)
    add_agent(svc, "sef@helpdesk.localhost", "supervisor")
    # bypass_csp: the axe() helper injects axe-core inline, which our CSP rightly refuses.
    context = browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True)
    page = context.new_page()
    requested: list[str] = []

    def fake_tracker(route: Any) -> None:  # no test reaches the internet
        requested.append(route.request.url)
        route.fulfill(status=200, content_type="image/gif", body=b"GIF89a")

    page.route("https://tracker.example.com/**", fake_tracker)
    try:
        browser_login(page, mail_server.url, "sef@helpdesk.localhost")
        page.goto(f"{mail_server.url}/console/email/outbox?lang=en")
        main = page.inner_text("main")
        assert ticket.reference in main and "marija@example.rs" in main
        assert axe(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 360

        page.goto(f"{mail_server.url}/console/email/messages/{stored.id}?lang=en")
        assert axe(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert page.locator("img[src^='https://']").count() == 0  # the tracker is held back
        assert requested == []
        link = page.get_by_role("link", name="Load remote images")
        link.focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.locator("img[src^='https://tracker.example.com/']").count() == 1
        page.wait_for_load_state("networkidle")
        assert requested == ["https://tracker.example.com/open.gif?u=42"]
    finally:
        context.close()
