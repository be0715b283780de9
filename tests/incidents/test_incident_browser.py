"""The incident banner and pages in Chromium at 360 px: readable, reachable, axe-core clean.
(The banner's three languages are checked over HTTP in test_incident_pages.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from helpdesk.incidents.core import IncidentDraft, open_incident
from helpdesk.tickets import Actor, Identity, InboundMessage, receive_inbound
from tests.conftest import LiveServer, add_agent, axe, browser_login, start_live_server

pytestmark = pytest.mark.browser
NOTICE = "Portal eUprava ne radi od 9 časova zbog kvara. Očekujemo da proradi do 13 časova."


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    srv = start_live_server(tmp_path, channels=("channels.chat",))
    yield srv
    srv.stop()
    srv.services.db.dispose()


def _fits(page: Any) -> None:
    found = axe(page)
    assert found == [], f"{page.url}: {found}"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, page.url


def _in_first_screen(page: Any, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    assert box["y"] >= 0 and box["y"] + box["height"] <= 740, (page.url, selector, box)


def _on_screen(page: Any, text: str) -> bool:
    """Shown to the eye (folded text is clipped to 1 px, which Playwright still calls visible)."""
    box = page.get_by_text(text).bounding_box()
    return box is not None and box["height"] > 1


def test_chat_send_on_the_first_screen_with_an_incident_open(browser: Any, server: LiveServer) -> None:
    """On a 360x740 phone the banner folds to one line with a "Details" button, so the message
    box and Send stay on the first screen; a screen reader still gets the whole notice, once."""
    svc = server.services
    open_incident(
        svc,
        Actor.system("test"),
        IncidentDraft(
            title="eUprava ne radi",
            notice_sr_latn=NOTICE,
            keywords="eUprava",
            expected_end_at=svc.clock.now() + timedelta(hours=3),
        ),
    )
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        for lang, notice, send, details, until in (
            ("sr-Latn", "eUprava ne radi", "Pošalji", "Detalji", "Očekujemo da bude otklonjen do"),
            ("sr-Cyrl", "еУправа не ради", "Пошаљи", "Детаљи", "Очекујемо да буде отклоњен до"),
            ("en", "eUprava ne radi", "Send", "Details", "Expected to be fixed by"),
        ):
            page.goto(f"{server.url}/chat?lang={lang}")
            button = page.get_by_role("button", name=details, exact=True)
            button.wait_for()  # the banner's script has run
            _in_first_screen(page, "#chat-text")
            _in_first_screen(page, f"#chat-form button[type=submit]:text-is('{send}')")
            banner = page.locator("[data-incident-banner]")
            read = banner.aria_snapshot()  # what a screen reader gets: all of it, once
            assert read.count(notice) == 1 and read.count(until) == 1, read
            assert button.get_attribute("aria-expanded") == "false"
            assert not _on_screen(page, until)
            _fits(page)

        # Keyboard alone unfolds it; Send is still on the page, and it stays clean.
        button.focus()
        page.keyboard.press("Enter")
        assert button.get_attribute("aria-expanded") == "true"
        assert _on_screen(page, until)
        assert banner.aria_snapshot().count(notice) == 1
        _fits(page)
        page.keyboard.press("Space")
        assert button.get_attribute("aria-expanded") == "false"
        assert not _on_screen(page, until)
    finally:
        context.close()


def test_banner_and_incident_pages_at_360px(browser: Any, server: LiveServer) -> None:
    svc = server.services
    add_agent(svc, "sef@helpdesk.localhost", "supervisor", name="Šefica")
    incident = open_incident(
        svc,
        Actor.system("test"),
        IncidentDraft(title="eUprava ne radi", notice_sr_latn=NOTICE, keywords="eUprava"),
    )
    receive_inbound(
        svc,
        InboundMessage(
            channel="chat",
            sender=Identity("chat", "c" * 64),
            subject="",
            text="Da li radi eUprava?",
            language="sr",
            script="cyrl",
        ),
    )
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        page.goto(f"{server.url}/?lang=sr-Cyrl")
        banner = page.get_by_role("region", name="Познат проблем")
        assert "Портал еУправа не ради" in banner.inner_text()
        _fits(page)
        page.goto(f"{server.url}/chat?lang=sr-Cyrl")
        assert page.get_by_role("region", name="Познат проблем").is_visible()
        _fits(page)

        browser_login(page, server.url, "sef@helpdesk.localhost")
        page.goto(f"{server.url}/supervisor/incidents/{incident}?lang=en")
        assert page.get_by_role("table").first.inner_text().count("HD-") == 1
        _fits(page)
        page.get_by_label("Answer", exact=True).fill("Portal radi ponovo.")
        with page.expect_navigation():
            page.get_by_role("button", name="Preview the answer").click()
        assert "This answer will be written on 1 ticket." in page.inner_text("main")
        _fits(page)
    finally:
        context.close()
