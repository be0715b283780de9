"""In Chromium: the citizen is warned before sending a JMBG (contact form and chat), the script's
rule agrees with the server's, and an agent reveals the number with "Show number"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from helpdesk.models import Agent, AuditEvent, Message, Queue, Ticket
from helpdesk.privacy import jmbg
from tests.conftest import LiveServer, add_agent, axe, browser_login, start_live_server

pytestmark = pytest.mark.browser
VALID = "0101990710008"
MASKED = "0101990••••••"
SAMPLES = [
    VALID,
    "0101990710006",  # bad check digit
    "2902984800127",  # 29 Feb 1984
    "2902981710003",  # 29 Feb 1981 with a right check digit: no such day
    "0101990200000",  # region 20
    "1212965910019",  # Kosovo and Metohija
    "0101799710006",  # born in 2799
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    srv = start_live_server(tmp_path, channels=("channels.chat", "channels.email", "channels.web"))
    yield srv
    srv.stop()
    srv.services.db.dispose()


def _clean(page: Any) -> None:
    found = axe(page)
    assert found == [], f"{page.url}: {found}"


def test_citizen_warned_then_sends_and_agent_reveals(server: LiveServer, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 360, "height": 740})
    page.goto(f"{server.url}/contact?lang=en")
    # The script and helpdesk.privacy.jmbg agree on every sample.
    for n in SAMPLES:
        assert page.evaluate("n => window.helpdeskJmbg.valid(n)", n) == jmbg.is_valid(n), n
    warning = page.locator("[data-jmbg-warning-text]")
    page.fill("#contact-name", "Petar Petrović")
    page.fill("#contact-email", "petar@example.rs")
    page.fill("#contact-subject", "Izvod")
    page.locator("#contact-message").press_sequentially("Moj JMBG je 0101990710006.")
    assert warning.is_hidden()  # a bad check digit is no JMBG
    page.fill("#contact-message", f"Moj JMBG je {VALID}.")
    page.locator("#contact-message").dispatch_event("input")
    assert "personal ID number (JMBG)" in warning.inner_text()
    page.check("#contact-consent")
    page.click("form button[type=submit]")  # the first Send stops at the warning
    assert page.url.endswith("/contact?lang=en")
    assert page.evaluate("document.activeElement.hasAttribute('data-jmbg-warning-text')")
    _clean(page)
    with page.expect_navigation():
        page.click("form button[type=submit]")  # the citizen may still send it
    assert page.locator("h1").inner_text() == "Message received"
    reference = page.locator(".reference").inner_text()

    # The chat warns the same way: Enter once shows the warning, Enter again sends.
    page.goto(f"{server.url}/chat?lang=sr-Latn")
    box = page.locator("#chat-text")
    box.fill(f"JMBG {VALID}")
    box.press("Enter")
    chat_warning = page.locator("[data-jmbg-warning-text]")
    assert "JMBG" in chat_warning.inner_text() and box.input_value() == f"JMBG {VALID}"
    _clean(page)
    box.focus()
    box.press("Enter")
    page.wait_for_function("document.querySelector('#chat-text').value === ''")
    page.close()

    svc = server.services
    agent_id = add_agent(svc, "ana@helpdesk.localhost", name="Ana")
    with svc.db.transaction() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.reference == reference)).one()
        s.get_one(Agent, agent_id).queues = [s.scalars(select(Queue).where(Queue.name == ticket.queue)).one()]
        stored = s.scalars(select(Message.text).where(Message.ticket_id == ticket.id)).one()
    assert stored == f"Moj JMBG je {MASKED}."

    agent = browser.new_page(viewport={"width": 1280, "height": 900})
    browser_login(agent, server.url, "ana@helpdesk.localhost")
    agent.goto(f"{server.url}/console/tickets/{reference}?lang=en")
    assert MASKED in agent.inner_text("#timeline") and VALID not in agent.content()
    agent.get_by_role("button", name="Show number").click()  # shown in place, by script
    agent.locator(".reveal__out", has_text=VALID).wait_for()
    assert agent.get_by_role("button", name="Show number").is_hidden()
    _clean(agent)
    agent.close()
    with svc.db.session() as s:
        audited = s.scalars(
            select(AuditEvent.actor_agent_id).where(AuditEvent.action == "privacy.revealed")
        ).all()
    assert audited == [agent_id]
