"""A citizen chats and an agent answers, in two real Chromium pages against a real server."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hd_servers import PASSWORD, Server, base_env, prepare_store  # noqa: E402

pytestmark = pytest.mark.browser
AGENT = "ana@helpdesk.test"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("browser")
    env = base_env(tmp / "data")
    prepare_store(env, [{"email": AGENT, "name": "Ana Petrović", "queues": ("triage",)}])
    srv = Server(env, tmp / "server.log").start()
    yield srv
    srv.stop()
    assert srv.problems() == []


def violations(page: Any) -> list[dict[str, Any]]:
    # Served by the app itself (/vendor), so the page's strict CSP allows it.
    origin = page.evaluate("location.origin")
    page.add_script_tag(url=f"{origin}/vendor/axe-core/axe.min.js")
    return list(
        page.evaluate(
            """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
            return r.violations.map(v => ({id: v.id, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
        }"""
        )
    )


def login(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/login?lang=en")
    page.get_by_label("Email").fill(AGENT)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():  # the click alone does not wait for the form's new page
        page.get_by_role("button", name="Log in").click()


def tab_to(page: Any, element_id: str, limit: int = 40) -> None:
    """Move the focus with Tab only, as a keyboard user would."""
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"#{element_id} cannot be reached with Tab")


def fits(page: Any, width: int) -> bool:
    return bool(page.evaluate(f"document.documentElement.scrollWidth <= {width}"))


def test_console_at_360px_and_no_agent_notice(browser: Any, server: Server) -> None:
    ctx = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        page = ctx.new_page()
        page.goto(f"{server.url}/chat?lang=en")
        # Nobody's console is open now: the citizen is told, and offered the email fallback.
        page.locator("#chat-status", has_text="No agent is online").wait_for()
        login(page, server.url)
        page.goto(f"{server.url}/console?lang=en")
        page.locator("#console-connection", has_text="Live").wait_for()
        assert fits(page, 360)
        assert violations(page) == []
    finally:
        ctx.close()


def test_citizen_chats_agent_answers_live_by_keyboard(browser: Any, server: Server) -> None:
    agent_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    citizen_ctx = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        agent = agent_ctx.new_page()
        errors: list[str] = []
        agent.on("pageerror", lambda exc: errors.append(f"console page: {exc}"))
        login(agent, server.url)
        agent.goto(f"{server.url}/console?lang=en")
        agent.locator("#console-connection", has_text="Live").wait_for()
        assert violations(agent) == []

        citizen = citizen_ctx.new_page()
        citizen.on("pageerror", lambda exc: errors.append(f"chat page: {exc}"))
        citizen.goto(f"{server.url}/chat?lang=en")
        assert citizen.get_by_label("Message").is_visible()
        assert citizen.get_by_role("button", name="Send").is_visible()
        citizen.locator("#chat-status", has_text="online").wait_for()  # Ana's console is open
        assert violations(citizen) == []
        assert fits(citizen, 360)

        # The whole chat by keyboard: Tab to the fields, type, Enter sends.
        tab_to(citizen, "chat-about-toggle")  # "About you" starts collapsed: Enter opens it
        citizen.keyboard.press("Enter")
        tab_to(citizen, "chat-name")
        citizen.keyboard.type("Milica")
        tab_to(citizen, "chat-text")
        citizen.keyboard.type("Ne mogu da preuzmem rešenje o porezu")
        citizen.keyboard.press("Enter")
        mine = citizen.locator("#chat-log li.chat-msg--me", has_text="rešenje o porezu")
        mine.wait_for()
        citizen.wait_for_function(
            "() => !document.querySelector('#chat-log li .chat-msg__state')"
        )  # acknowledged by the server: no "Sending…" left

        # The agent's list shows the new ticket without a reload.
        row = agent.locator("#ticket-list tr", has_text="rešenje o porezu")
        row.wait_for()
        assert agent.locator("#console-announcer").inner_text().startswith("New ticket")
        agent.keyboard.press("j")  # keyboard only: j focuses the first (newest) ticket
        assert agent.evaluate("document.activeElement.textContent") in row.inner_text()
        agent.keyboard.press("Enter")
        agent.locator("#timeline li", has_text="rešenje o porezu").wait_for()
        agent.locator("#console-connection", has_text="Live").wait_for()
        assert violations(agent) == []

        # The agent answers by keyboard: r focuses the reply box, Ctrl+Enter sends.
        agent.keyboard.press("r")
        assert agent.evaluate("document.activeElement.id") == "reply-text"
        agent.keyboard.type("Dobar dan, rešenje je u odeljku Moji dokumenti.")
        agent.keyboard.press("Control+Enter")
        agent.locator("#timeline li.tl--outbound", has_text="Moji dokumenti").wait_for()

        reply = citizen.locator("#chat-log li.chat-msg--them", has_text="Moji dokumenti")
        reply.wait_for()
        assert "Ana Petrović" in reply.inner_text()
        assert "Ana Petrović" in citizen.locator("#chat-agent").inner_text()
        assert violations(citizen) == []  # with messages in the log too

        # A reload resumes the same conversation (token in localStorage), each message once.
        citizen.reload()
        citizen.locator("#chat-log li", has_text="Moji dokumenti").wait_for()
        assert citizen.locator("#chat-log li").count() == 2
        assert fits(citizen, 360)

        # The ticket view holds at 360 px too.
        agent.set_viewport_size({"width": 360, "height": 800})
        assert fits(agent, 360)
        assert violations(agent) == []
        agent.set_viewport_size({"width": 1280, "height": 900})

        # The help dialog lists the shortcuts.
        agent.evaluate("document.activeElement.blur()")  # out of the reply box
        agent.keyboard.press("?")
        dialog = agent.locator("#shortcuts-dialog")
        assert dialog.is_visible() and "Ctrl" in dialog.inner_text()
        agent.keyboard.press("Escape")
        assert not dialog.is_visible()
        assert errors == []  # no script error on either page along the way
    finally:
        agent_ctx.close()
        citizen_ctx.close()
