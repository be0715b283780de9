"""The one-script-tag embed on another site: allowed origins may frame the chat, others may not."""

from __future__ import annotations

import http.server
import sys
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hd_servers import Server, base_env, free_port, prepare_store  # noqa: E402

pytestmark = pytest.mark.browser


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Server]]:
    """A government portal on http://localhost:P embedding the helpdesk on http://127.0.0.1:Q."""
    tmp = tmp_path_factory.mktemp("embed")
    portal_port = free_port()
    portal = f"http://localhost:{portal_port}"
    env = base_env(tmp / "data", HELPDESK_CHAT_ORIGINS=portal)
    prepare_store(env, [])
    helpdesk = Server(env, tmp / "server.log").start()
    site = tmp / "site"
    site.mkdir()
    (site / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>eUprava</title></head>'
        f'<body><h1>eUprava</h1><script src="{helpdesk.url}/chat/embed.js" async></script>'
        "</body></html>"
    )
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", portal_port), partial(QuietHandler, directory=str(site))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield portal, helpdesk
    httpd.shutdown()
    httpd.server_close()
    helpdesk.stop()


def test_allowed_site_embeds_the_chat_with_one_script_tag(browser: Any, sites: tuple) -> None:
    portal, helpdesk = sites
    ctx = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        page = ctx.new_page()
        page.goto(portal + "/")
        launcher = page.get_by_role("button", name="Chat with support")
        launcher.focus()
        page.keyboard.press("Enter")
        frame = page.frame_locator('iframe[title="Chat with support"]')
        box = frame.get_by_label("Message")
        box.wait_for()
        box.fill("Pišem sa portala eUprava")
        frame.get_by_role("button", name="Send").click()
        frame.locator("#chat-log li", has_text="Pišem sa portala eUprava").wait_for()
        frame.locator("#chat-log li .chat-msg__state").wait_for(state="detached")  # acknowledged
    finally:
        ctx.close()


def test_frame_and_socket_origins_follow_the_setting(sites: tuple) -> None:
    portal, helpdesk = sites
    csp = requests.get(helpdesk.url + "/chat?embed=1", timeout=10).headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {portal}" in csp
    # Other pages of the helpdesk may not be framed by anyone.
    other = requests.get(helpdesk.url + "/login", timeout=10).headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in other

    def handshake(origin: str) -> int:
        r = requests.get(
            helpdesk.url + "/socket.io/?EIO=4&transport=polling", headers={"Origin": origin}, timeout=10
        )
        return r.status_code

    assert handshake(portal) == 200
    assert handshake("http://evil.example") == 400
