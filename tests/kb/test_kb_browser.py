"""The KB pages in headless Chromium: axe-core finds nothing, keyboard works, 360 px works."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpdesk.kb.store import import_records
from helpdesk.tickets import Identity, InboundMessage, receive_inbound
from knowledge_base.io import read_articles
from tests.conftest import LiveServer, add_agent, axe, browser_login, start_live_server

pytestmark = pytest.mark.browser

STARTER = Path(__file__).resolve().parents[2] / "knowledge_base" / "data" / "starter_articles.jsonl"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    srv = start_live_server(tmp_path, channels=())
    import_records(srv.services, read_articles(STARTER))
    yield srv
    srv.stop()
    srv.services.db.dispose()


def _page(browser: Any, width: int) -> Iterator[Any]:
    # bypass_csp: the axe() helper injects axe-core inline, which our CSP rightly refuses.
    context = browser.new_context(viewport={"width": width, "height": 800}, bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    yield from _page(browser, 360)


@pytest.fixture
def desktop(browser: Any) -> Iterator[Any]:
    yield from _page(browser, 1280)


def no_horizontal_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_citizen_finds_an_answer_and_votes_by_keyboard_at_360px(server: LiveServer, phone: Any):
    phone.goto(f"{server.url}/help?lang=en")
    assert axe(phone) == []
    assert no_horizontal_scroll(phone)
    # Keyboard only: the skip link, then into the search field.
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.className") == "skip-link"
    phone.locator("#help-q").focus()
    phone.keyboard.type("Где да закажем термин за пасош?")
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    first = phone.locator(".kb-results h3 a").first
    assert first.inner_text().startswith("Zakazivanje termina")  # the Latin article, first
    assert phone.locator(".kb-snippet mark").count() > 0
    assert axe(phone) == []
    assert no_horizontal_scroll(phone)
    first.focus()
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    assert phone.locator("h1").inner_text().startswith("Zakazivanje termina")
    assert axe(phone) == []
    assert no_horizontal_scroll(phone)
    phone.get_by_role("button", name="Yes").focus()
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    assert phone.get_by_text("Your answer helps us improve these pages.").is_visible()
    assert axe(phone) == []


def test_editor_pages_pass_axe_and_fit_360px(server: LiveServer, phone: Any):
    add_agent(server.services, "urednik@helpdesk.localhost", "agent", is_editor=True)
    browser_login(phone, server.url, "urednik@helpdesk.localhost")
    phone.goto(f"{server.url}/console/kb?lang=en")
    assert phone.locator("h1").inner_text() == "Knowledge base"
    assert axe(phone) == []
    phone.goto(f"{server.url}/console/kb/new?lang=en")
    assert axe(phone) == []
    assert no_horizontal_scroll(phone)
    phone.get_by_label("Title").fill("Šta je eID")
    phone.get_by_label("Text (Markdown)").fill("Elektronska **identifikacija** građana.")
    phone.get_by_label("Status").select_option("published")
    phone.get_by_label("Title").focus()
    phone.get_by_role("button", name="Save").focus()
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    assert phone.get_by_text("Article saved.").is_visible()
    assert phone.locator(".kb-body strong").inner_text() == "identifikacija"  # the preview
    assert axe(phone) == []
    phone.goto(f"{server.url}/console/kb?q=gradjana&lang=en")
    assert phone.locator(".kb-results h3 a").first.inner_text() == "Šta je eID"
    assert axe(phone) == []


@pytest.mark.filterwarnings("ignore:The Result.tuples:sqlalchemy.exc.SADeprecationWarning")
def test_ticket_panel_inserts_an_article_into_the_reply(server: LiveServer, desktop: Any):
    page = desktop
    res = receive_inbound(
        server.services,
        InboundMessage(
            channel="email",
            sender=Identity("email", "gradjanka@example.rs"),
            subject="Ne mogu da platim taksu",
            text="Plaćanje takse karticom ne prolazi.",
        ),
    )
    add_agent(server.services, "admin@helpdesk.localhost", "admin")
    browser_login(page, server.url, "admin@helpdesk.localhost")
    page.goto(f"{server.url}/console/tickets/{res.ticket_reference}?lang=en")
    panel = page.locator(".kb-panel")
    assert "Plaćanje administrativnih taksi" in panel.inner_text()
    assert axe(page, ".kb-panel") == []
    button = panel.get_by_role("button", name="Insert link").first
    button.focus()
    page.keyboard.press("Enter")
    reply = page.locator("#reply-text")
    assert "/help/articles/" in reply.input_value()
    assert page.evaluate("document.activeElement.id") == "reply-text"
    assert panel.locator("[data-kb-status]").inner_text() == "Inserted into the reply."
