"""The callback page on a 360 px phone, in English, by label and keyboard; axe-core finds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LiveServer, axe, start_live_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = start_live_server(tmp_path, channels=("channels.web",))
    yield live
    live.stop()
    live.services.db.dispose()


def test_callback_page_at_360px(server: LiveServer, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(f"{server.url}/?lang=en")
    page.get_by_role("link", name="Ask us to call you").click()
    assert page.locator("h1").inner_text() == "Ask us to call you"
    assert axe(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
    page.get_by_role("button", name="Ask for a call").click()  # nothing filled in
    assert page.get_by_role("alert").is_visible()
    assert axe(page) == []  # the error summary and the marked fields too
    page.get_by_label("Phone number to call").fill("064 123 4567")
    page.locator('input[name="window"]').first.check()
    page.get_by_label("Uses a screen reader").check()
    page.get_by_label("I agree that my data is used to answer me.").check()
    page.get_by_role("button", name="Ask for a call").click()
    assert page.locator("h1").inner_text() == "We will call you"
    assert "HD-" in page.locator(".reference").inner_text()
    assert axe(page) == []
    context.close()


def test_chat_call_me_back(tmp_path: Path, browser: Any) -> None:
    live = start_live_server(tmp_path, channels=("channels.chat", "channels.web"))
    try:
        context = browser.new_context(viewport={"width": 360, "height": 740})
        page = context.new_page()
        page.goto(f"{live.url}/chat?lang=en")
        page.get_by_text("Ask us to call you").click()
        page.locator('#chat-callback-days input[name="window"]').first.check()  # waits for the times
        assert axe(page, "#chat-callback") == []
        page.get_by_role("button", name="Ask for a call").click()
        status = page.locator("#chat-callback-status")
        status.filter(has_text="phone number").wait_for()  # no number yet: said, nothing sent
        page.get_by_label("Phone number to call").fill("064 123 4567")
        page.get_by_role("button", name="Ask for a call").click()
        status.filter(has_text="We will call you").wait_for()
        assert "HD-" in status.inner_text()
        context.close()
    finally:
        live.stop()
        live.services.db.dispose()


def test_the_queue_page_follows_new_callbacks(server: LiveServer, browser: Any) -> None:
    from helpdesk.callbacks import CallbackRequest, request_callback
    from helpdesk.callbacks.windows import offered_windows
    from tests.conftest import add_agent, browser_login

    svc = server.services
    add_agent(svc, "sara@helpdesk.localhost", "supervisor")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    browser_login(page, server.url, "sara@helpdesk.localhost")
    page.goto(f"{server.url}/console/callbacks?lang=en")
    page.get_by_text("No callbacks are waiting.").wait_for()
    page.locator('#callback-queue[data-live="1"]').wait_for()  # its socket is connected
    assert page.locator("#callback-queue-status").inner_text() == ""  # connected, nothing new
    window = offered_windows(svc)[0]
    request_callback(svc, CallbackRequest(channel="web", phone="064 765 4321", windows=(window,)))
    page.locator('a[href="tel:+381647654321"]').wait_for()  # arrived without a reload
    assert page.get_by_role("status").filter(has_text="The callback queue changed.").count() == 1
    assert axe(page) == []
    # on a phone the queue scrolls in its own region, not the whole page sideways
    page.set_viewport_size({"width": 360, "height": 740})
    page.reload()
    page.locator('a[href="tel:+381647654321"]').wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.get_by_role("region", name="1 callback waiting").count() == 1
    context.close()
