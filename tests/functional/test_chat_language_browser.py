"""Every text the chat shows is in the page's language and script, also what the server writes for
Socket.IO events (errors, incident notices), in a real Chromium against a real server.

Two ways the server used to answer in another language than the page:
- a chat framed by another site: the SameSite=Lax session cookie is not sent there, so the socket's
  texts followed the browser's Accept-Language (Serbian Latin on a Cyrillic or English page);
- Back to a Cyrillic chat after switching to Latin: Chromium restores the language box to
  "sr-Latn", and chat.js sent that as the conversation's language (the incident notice came in
  Latin).
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from helpdesk.incidents.core import IncidentDraft, open_incident
from helpdesk.tickets import Actor
from tests.conftest import LiveServer, free_port, start_live_server

pytestmark = pytest.mark.browser
NOTICE = "Portal eUprava ne radi od 9 časova zbog kvara."
NO_CONVERSATION = {
    "sr-Cyrl": "Још нема разговора који би се могао послати.",
    "sr-Latn": "Još nema razgovora koji bi se mogao poslati.",
    "en": "There is no conversation to send yet.",
}


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, LiveServer]]:
    """A portal on http://localhost:P that frames the helpdesk on http://127.0.0.1:Q."""
    tmp = tmp_path_factory.mktemp("chat-language")
    port = free_port()
    portal = f"http://localhost:{port}"
    server = start_live_server(tmp, channels=("channels.chat",), chat_origins=(portal,))
    site = tmp / "site"
    site.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield portal, site, server
    httpd.shutdown()
    httpd.server_close()
    server.stop()
    server.services.db.dispose()


def test_framed_chat_errors_in_the_page_language(browser: Any, sites: tuple) -> None:
    """A Serbian browser (Accept-Language sr) on a framed chat in each language: the server's
    error for an event is in the frame's language and script."""
    portal, site, server = sites
    ctx = browser.new_context(locale="sr-RS")
    try:
        page = ctx.new_page()
        for lang, expected in NO_CONVERSATION.items():
            (site / f"{lang}.html").write_text(
                f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Portal</title>'
                f'</head><body><iframe id="chat" title="Chat" width="400" height="900" '
                f'src="{server.url}/chat?embed=1&amp;lang={lang}"></iframe></body></html>'
            )
            page.goto(f"{portal}/{lang}.html")
            frame = page.frame_locator("#chat")
            frame.locator("#chat-about summary").click()
            # Set without a change event: the page would save it as the profile first.
            frame.locator("#chat-email").evaluate("e => { e.value = 'citizen@example.com'; }")
            frame.locator("#chat-transcript").click()  # no conversation yet: the server refuses
            status = frame.locator("#chat-transcript-status")
            status.filter(has_text=".").wait_for()
            assert status.inner_text() == expected, lang
    finally:
        ctx.close()


def test_back_to_a_cyrillic_chat_keeps_the_conversation_cyrillic(browser: Any, sites: tuple) -> None:
    _portal, _site, server = sites
    open_incident(
        server.services,
        Actor.system("test"),
        IncidentDraft(title="eUprava ne radi", notice_sr_latn=NOTICE, keywords="eUprava"),
    )
    ctx = browser.new_context(locale="sr-RS")
    try:
        page = ctx.new_page()
        page.goto(f"{server.url}/chat?lang=sr-Cyrl")
        page.locator("#chat-about summary").click()
        with page.expect_navigation():
            page.select_option("#chat-language", "sr-Latn")
        assert page.locator("h1").inner_text() == "Čet sa podrškom"
        page.go_back()
        assert page.locator("h1").inner_text() == "Чет са подршком"
        page.locator("#chat-status", has_text="Тренутно ниједан оператер").wait_for()
        assert page.locator("#chat-language").input_value() == "sr-Cyrl"

        page.locator("#chat-text").fill("Ne mogu da se prijavim na eUprava")
        page.keyboard.press("Enter")
        log = page.locator("#chat-log")
        log.locator("li", has_text="сачувана под ознаком HD-").wait_for()  # offline confirmation
        notice = log.locator("li.chat-msg--them")
        notice.wait_for()  # the incident notice, pushed over the socket by the outbox
        assert "Портал еУправа не ради од 9 часова због квара." in notice.inner_text()
        assert "Тренутно ниједан оператер" in page.locator("#chat-status").inner_text()
    finally:
        ctx.close()
