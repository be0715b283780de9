"""The citizen sees knowledge-base suggestions while typing and closes the chat by keyboard, in a
real Chromium page against a real server (the ticket then counts as deflected)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hd_servers import Server, base_env, prepare_store  # noqa: E402
from kb_articles import publish_starter_articles, ticket_row  # noqa: E402

from tests.conftest import axe  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("suggest-browser")
    env = base_env(tmp / "data")
    prepare_store(env, [])
    publish_starter_articles(env)
    srv = Server(env, tmp / "server.log").start()
    yield srv
    srv.stop()
    assert srv.problems() == []


def tab_to(page: Any, element_id: str, limit: int = 40) -> None:
    """Move the focus with Tab only, as a keyboard user would."""
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"#{element_id} cannot be reached with Tab")


def test_suggestions_while_typing_and_close_by_keyboard(browser: Any, server: Server) -> None:
    ctx = browser.new_context(viewport={"width": 360, "height": 740})
    errors: list[str] = []
    try:
        page = ctx.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{server.url}/chat?lang=en")
        page.locator("#chat-status", has_text="No agent is online").wait_for()
        region = page.get_by_role("region", name="Articles that may answer your question")
        assert not region.is_visible()  # nothing typed, nothing suggested

        tab_to(page, "chat-text")
        page.keyboard.type("I forgot my password, how do I get a new one?")
        link = region.get_by_role("link", name="I forgot my password (opens in a new tab)")
        link.wait_for()
        assert link.get_attribute("target") == "_blank"
        assert link.get_attribute("href").startswith(f"{server.url}/help/articles/")
        assert 1 <= region.get_by_role("listitem").count() <= 3
        # Screen readers hear one polite sentence about the list, not every keystroke.
        status = page.locator("#chat-suggest-status")
        assert status.get_attribute("aria-live") == "polite"
        assert status.inner_text().startswith("Articles that may answer your question:")

        close = page.get_by_role("button", name="My question is answered — close the chat")
        assert close.is_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= 360")
        assert axe(page) == []  # with the suggestions shown

        # The citizen asks anyway (Enter sends), reads the article, and closes by keyboard.
        page.keyboard.press("Enter")
        page.locator("#chat-log li.chat-msg--me", has_text="I forgot my password").wait_for()
        page.wait_for_function("() => !document.querySelector('#chat-log li .chat-msg__state')")
        assert link.is_visible()  # the suggestions stay while the citizen waits
        tab_to(page, "chat-close")
        page.keyboard.press("Enter")
        page.locator("#chat-log li", has_text="Thank you. The conversation is closed.").wait_for()
        assert not close.is_visible() and not region.is_visible()
        assert page.evaluate("document.activeElement.id") == "chat-text"

        # Suggested, answered by the knowledge base, no agent: deflected.
        assert ticket_row(server.env) == {"status": "resolved", "deflected": True, "kb_suggested": True}
        assert axe(page) == []
        assert errors == []
    finally:
        ctx.close()


def test_a_message_sent_before_the_page_is_connected_can_be_closed(browser: Any, server: Server) -> None:
    """A citizen who sends before the page's hello is answered (a slow network): the hello answer
    says "no conversation yet", but once the message is stored the close button shows."""
    ctx = browser.new_context(viewport={"width": 360, "height": 740})
    held: list[Any] = []
    released = False

    def hold(route: Any) -> None:
        if released:
            route.continue_()
        else:
            held.append(route)

    try:
        page = ctx.new_page()
        # Socket.IO's first request (long-polling) waits until the message has been typed.
        page.route("**/socket.io/**", hold)
        page.goto(f"{server.url}/chat?lang=en")
        page.fill("#chat-text", "Kako da zakažem termin za ličnu kartu?")
        page.press("#chat-text", "Enter")
        page.wait_for_timeout(300)  # the handshake is held, so the message waits unsent
        assert page.locator("#chat-log li .chat-msg__state").count() == 1
        released = True
        for route in held:
            route.continue_()
        page.wait_for_function("() => !document.querySelector('#chat-log li .chat-msg__state')")
        page.locator("#chat-close:not([hidden])").wait_for(timeout=10_000)
    finally:
        ctx.close()
