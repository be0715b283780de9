"""The embedded server's log: route patterns instead of token paths and query strings, and no
error at every WebSocket close."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import socketio

from helpdesk.outbound import survey_token
from tests.conftest import LiveServer, start_live_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_live_server(tmp_path_factory.mktemp("access-log"))
    yield live
    live.stop()
    live.services.db.dispose()


def request_threads_done() -> None:
    """Wait until the server has finished every connection (and so logged all it will)."""
    deadline = time.monotonic() + 15
    while any("process_request_thread" in t.name for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a request thread is still running"
        time.sleep(0.05)


def test_access_log_shows_route_patterns_not_tokens_or_queries(
    server: LiveServer, caplog: Any
) -> None:
    token = survey_token(server.services.settings.secret_key, 424242)
    caplog.set_level(logging.INFO, logger="werkzeug")
    assert requests.get(f"{server.url}/survey/{token}", params={"lang": "en"}, timeout=10).status_code == 404
    requests.get(f"{server.url}/survey/{token}/more", timeout=10)  # no route matches this one
    requests.get(f"{server.url}/console/", params={"q": "Petrović 0101990710123"}, timeout=10)
    requests.get(f"{server.url}/socket.io/", params={"EIO": "4", "transport": "polling"}, timeout=10)
    request_threads_done()
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    text = "\n".join(lines)
    assert '"GET /survey/<token> HTTP/1.1" 404' in text
    assert '"GET /survey/… HTTP/1.1" 404' in text
    assert '"GET /socket.io/ HTTP/1.1" 200' in text
    for secret in (token, "Petrovi", "0101990710123", "lang=", "?", "EIO"):
        assert secret not in text, secret


def test_websocket_close_logs_no_error(server: LiveServer, caplog: Any) -> None:
    caplog.set_level(logging.INFO)
    for _ in range(2):
        client = socketio.Client(reconnection=False)
        client.connect(server.url, namespaces=["/chat"], transports=["websocket"])
        assert client.connected
        client.disconnect()
    request_threads_done()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert errors == []


def test_malformed_request_line_is_refused_without_logging_it(
    server: LiveServer, caplog: Any
) -> None:
    import socket

    caplog.set_level(logging.INFO, logger="werkzeug")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /survey/secret-token-123 HTTP/1.1 junk\r\n\r\n")
        assert b"400" in sock.recv(1000)  # an HTTP/0.9 answer: the body alone
    request_threads_done()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "secret-token-123" not in text
    # a client's garbage is a warning (it is not our fault), never an ERROR
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_gunicorn_access_log_gets_the_route_pattern(app: Any) -> None:
    """Production's access log (gunicorn, helpdesk/gunicorn_config.py) redacts the same way."""
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config
    from werkzeug.test import EnvironBuilder

    from helpdesk.serving import GunicornLogger

    token = survey_token(app.config["SECRET_KEY"], 77)
    environ = EnvironBuilder(path=f"/survey/{token}", query_string="lang=en&q=Petrović").get_environ()
    environ["RAW_URI"] = f"/survey/{token}?lang=en&q=Petrović"
    environ["HTTP_REFERER"] = f"http://x/survey/{token}"
    body = app.wsgi_app(environ, lambda status, headers, exc_info=None: None)
    getattr(body, "close", lambda: None)()
    cfg = Config()
    atoms = GunicornLogger(cfg).atoms(
        SimpleNamespace(status="404 NOT FOUND", sent=10, headers=[]),
        SimpleNamespace(headers=[("Referer", environ["HTTP_REFERER"])]),
        environ,
        timedelta(milliseconds=5),
    )
    from helpdesk.gunicorn_config import access_log_format  # production's format

    formats = (access_log_format, cfg.access_log_format, '"%(r)s" %(q)s %(f)s %({referer}i)s')
    line = " ".join(fmt % atoms for fmt in formats)
    assert "/survey/<token>" in line
    for secret in (token, "lang=", "Petrovi"):
        assert secret not in line, secret
