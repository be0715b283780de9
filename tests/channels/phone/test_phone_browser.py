"""The phone pages in Chromium: keyboard only, 360 px wide, no axe-core violations."""

from __future__ import annotations

import pytest

from tests.conftest import add_agent, axe, browser_login, join_every_queue, start_live_server

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_server(tmp_path):
    server = start_live_server(tmp_path, channels=("channels.phone",), demo=True)
    yield server
    server.stop()
    server.services.db.dispose()


def test_simulator_by_keyboard_at_360px_leaves_a_voicemail_and_the_sms_outbox_shows_it(browser, demo_server):
    add_agent(demo_server.services, "ana@helpdesk.localhost")
    join_every_queue(demo_server.services, "ana@helpdesk.localhost")  # the outbox shows her tickets' SMS
    # bypass_csp: the axe() helper injects axe-core inline, which our CSP rightly refuses.
    context = browser.new_context(viewport={"width": 360, "height": 740}, bypass_csp=True)
    page = context.new_page()
    try:
        browser_login(page, demo_server.url, "ana@helpdesk.localhost")
        page.goto(f"{demo_server.url}/console/phone/simulator?lang=en")
        assert axe(page) == []
        page.get_by_label("Calling from").focus()
        page.keyboard.press("Tab")
        # Each step submits a form: wait for the new page, not for the old one's load state.
        with page.expect_navigation():
            page.keyboard.press("Enter")  # "Call the helpdesk"
        assert "For English, press 2" in page.inner_text("main")
        for key in ("2", "2"):
            page.get_by_label("Keys to press").fill(key)
            with page.expect_navigation():
                page.get_by_label("Keys to press").press("Enter")
        page.get_by_label("What you say after the tone").fill("My eID login fails.")
        with page.expect_navigation():
            page.get_by_role("button", name="Finish recording").click()
        assert "received as request number 1" in page.inner_text("main")
        assert axe(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        # The acknowledgement SMS goes to the local outbox (no Twilio account); the dispatcher
        # thread sends it shortly, so look a few times.
        for _ in range(50):
            page.goto(f"{demo_server.url}/console/phone/outbox?lang=en")
            if "+381641234567" in page.inner_text("main"):
                break
            page.wait_for_timeout(200)
        assert "We received your request" in page.inner_text("main")
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 361)
            .map(e => e.tagName + '.' + e.className).slice(0, 8)""")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, wide
        assert axe(page) == []
    finally:
        context.close()
