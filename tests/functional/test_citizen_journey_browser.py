"""The citizen's journeys in real Chromium against a real server (issue 12's "Done when"):
front door -> help search -> article -> "still need help" -> chat (in Cyrillic, by keyboard);
front door -> contact form -> confirmation, and the agent's answer at the SMTP relay (English);
the chat at 360x740 (Send on the first screen, the no-agent confirmation and email prompt);
and the KB editor's new pages. axe-core on every page.
The other languages are checked by HTTP in tests/citizen and tests/kb."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from helpdesk.kb.store import import_records
from helpdesk.tickets import Actor, reply_to_ticket
from knowledge_base.io import read_articles
from tests.citizen.conftest import OFFICE_EMAIL, OFFICE_PHONE, Sink
from tests.conftest import LiveServer, add_agent, axe, browser_login, free_port, start_live_server

pytestmark = pytest.mark.browser
STARTER = Path(__file__).resolve().parents[2] / "knowledge_base" / "data" / "starter_articles.jsonl"
EDITOR = "urednica@helpdesk.localhost"


@pytest.fixture(scope="module")
def relay() -> Iterator[tuple[Sink, int]]:
    """The SMTP relay the server sends through: an aiosmtpd sink on a free port."""
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, relay: tuple[Sink, int]) -> Iterator[LiveServer]:
    """One server for the module: the journeys use their own citizens and addresses."""
    srv = start_live_server(
        tmp_path_factory.mktemp("citizen"),
        channels=("channels.chat", "channels.email", "channels.phone", "channels.web"),
        smtp_relay=f"127.0.0.1:{relay[1]}",
        office_phone=(OFFICE_PHONE,),
        office_email=OFFICE_EMAIL,
    )
    import_records(srv.services, read_articles(STARTER))
    add_agent(srv.services, EDITOR, role="admin", name="Urednica")
    yield srv
    srv.stop()
    srv.services.db.dispose()


def _clean(page: Any) -> None:
    found = axe(page)
    assert found == [], f"{page.url}: {found}"


def _tab_to(page: Any, selector: str, limit: int = 60) -> None:
    """Move the focus with Tab only, as a keyboard user would."""
    for _ in range(limit):
        if page.evaluate(f"document.activeElement && document.activeElement.matches({selector!r})"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} cannot be reached with Tab")


def _wait_for_mail(sink: Sink, address: str, count: int) -> list[Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        mails = sink.to(address)
        if len(mails) >= count:
            return mails
        time.sleep(0.1)
    raise AssertionError(f"{count} mails to {address} did not arrive: {len(sink.to(address))}")


def test_front_door_help_and_chat_in_cyrillic_by_keyboard(browser: Any, server: LiveServer) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server.url}/?lang=sr-Cyrl")
    assert page.locator("h1").inner_text() == "Како можемо да помогнемо?"
    assert OFFICE_PHONE in page.inner_text("main") and "Понедељак–петак" in page.inner_text("main")
    _clean(page)
    _tab_to(page, "#front-q")
    page.keyboard.type("zaboravio sam lozinku")  # Latin, no diacritics, in a Cyrillic interface
    with page.expect_navigation():
        page.keyboard.press("Enter")
    first = page.locator(".kb-results h3 a").first
    assert first.inner_text() == "Заборавио сам лозинку за налог"  # a Latin article, in Cyrillic
    assert "?q=zaboravio" in page.locator('a[hreflang="en"]').get_attribute("href")  # query kept
    _clean(page)
    _tab_to(page, ".kb-results h3 a")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h1").inner_text() == "Заборавио сам лозинку за налог"
    still = page.locator(".still-help")
    assert "Још вам треба помоћ?" in still.inner_text() and OFFICE_PHONE in still.inner_text()
    assert page.locator(".kb-related li").count() >= 1
    _clean(page)
    _tab_to(page, ".still-help a[href^='/chat']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/chat?lang=sr-Cyrl")
    page.locator("#chat-status").wait_for()
    assert page.locator("a.brand").get_attribute("href") == "/?lang=sr-Cyrl"
    _clean(page)
    page.close()


def test_contact_form_to_confirmation_and_the_answer_by_email(
    browser: Any, server: LiveServer, relay: tuple[Sink, int]
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server.url}/?lang=en")
    _tab_to(page, "a[href='/contact?lang=en']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _clean(page)
    # Sent without a way back: the error says why, and the form keeps what was typed.
    _tab_to(page, "#contact-name")
    page.keyboard.type("Milica Jovanović")
    _tab_to(page, "#contact-subject")
    page.keyboard.type("Birth certificate")
    _tab_to(page, "#contact-message")
    page.keyboard.type("How do I get a birth certificate for my son?")
    _tab_to(page, "#contact-consent")
    page.keyboard.press("Space")
    _tab_to(page, "form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "it is how we send you our answer" in page.locator(".error-summary").inner_text()
    assert page.locator("#contact-name").input_value() == "Milica Jovanović"
    _clean(page)  # the page with its errors, too
    _tab_to(page, "#contact-email")
    page.keyboard.type("milica@example.rs")
    if not page.locator("#contact-consent").is_checked():
        _tab_to(page, "#contact-consent")
        page.keyboard.press("Space")
    _tab_to(page, "form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h1").inner_text() == "Message received"
    reference = page.locator(".reference").inner_text()
    assert re.fullmatch(r"HD-\d{4}-\d{6}", reference)
    assert "by email" in page.inner_text("main")
    _clean(page)
    page.close()

    sink = relay[0]
    (ack,) = _wait_for_mail(sink, "milica@example.rs", 1)
    assert reference in ack["Subject"]
    agent = add_agent(server.services, "marko@helpdesk.localhost", name="Marko")
    reply_to_ticket(server.services, reference, Actor.agent(agent), "Order it on the portal.")
    server.services.wake_outbox()
    mails = _wait_for_mail(sink, "milica@example.rs", 2)
    assert "Order it on the portal." in mails[1].get_body(("plain",)).get_content()


def test_chat_on_a_phone_with_nobody_online(browser: Any, server: LiveServer) -> None:
    ctx = browser.new_context(viewport={"width": 360, "height": 740})
    page = ctx.new_page()
    for path in ("/?lang=sr-Latn", "/contact?lang=sr-Latn"):  # the new pages hold at 360 px
        page.goto(server.url + path)
        assert page.evaluate("document.documentElement.scrollWidth <= 360"), path
        _clean(page)
    page.goto(f"{server.url}/chat?lang=sr-Latn")
    send = page.get_by_role("button", name="Pošalji", exact=True)
    box = send.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 740  # Send on the first screen
    assert page.evaluate("document.documentElement.scrollWidth <= 360")
    page.locator("#chat-status", has_text="nije").wait_for()
    _tab_to(page, "#chat-text")
    # (No suggestions for a greeting alone: tests/channels/chat/test_chat_suggestions.py.)
    page.keyboard.type("Dobar dan, izgubio sam ličnu kartu.")
    page.keyboard.press("Enter")
    notice = page.locator(".chat-offline")
    notice.wait_for()
    assert re.search(r"HD-\d{4}-\d{6}", notice.inner_text())
    _clean(page)
    _tab_to(page, ".chat-offline button")
    page.keyboard.press("Enter")  # "Add my email address" opens "About you" at the field
    assert page.evaluate("document.activeElement.id") == "chat-email"
    page.keyboard.type("petar@example.rs")
    page.keyboard.press("Tab")  # leaving the field keeps the address
    page.locator("#chat-transcript-status", has_text="Odgovorićemo na ovu adresu").wait_for()
    _clean(page)
    ctx.close()


def test_kb_editor_pages_are_accessible(browser: Any, server: LiveServer) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    browser_login(page, server.url, EDITOR)
    page.goto(f"{server.url}/console/kb/categories?lang=en")
    _clean(page)
    page.goto(f"{server.url}/console/kb?lang=en")
    with page.expect_navigation():
        page.get_by_role("link", name="I forgot my password").first.click()
    with page.expect_navigation():
        page.get_by_role("button", name="Preview").click()
    page.locator("#preview", has_text="Nothing is saved yet.").wait_for()
    _clean(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Delete this article…").click()
    assert page.locator("h1").inner_text() == "Delete this article?"
    _clean(page)
    page.close()
