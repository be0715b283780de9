"""A request or a Socket.IO event leaves no reference cycle behind (issue 14, chat delivery).

Flask keeps the NotFound of an unmatched path on the request, and its traceback holds the frames
that hold the request: every Socket.IO event (Engine.IO's path is no Flask route) left its whole
handler stack for the garbage collector, whose full passes over the server's heap then took
100+ ms each. Counted with the collector off: what is still alive was kept by a cycle.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.exceptions import NotFound

from helpdesk import create_app
from tests.conftest import make_services, make_settings


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Any]:
    settings = make_settings(tmp_path, channels=("channels.chat",))
    svc = make_services(settings)
    yield create_app(settings, services=svc).test_client()
    svc.db.dispose()


def _not_found_alive() -> int:
    return sum(isinstance(o, NotFound) for o in gc.get_objects())


def test_a_404_and_chat_events_leave_no_cycle(client: Any) -> None:
    app = client.application
    gc.collect()
    gc.disable()
    try:
        before = _not_found_alive()
        assert client.get("/no-such-page").status_code == 404
        assert client.get("/chat").status_code == 200
        sock = app.extensions["socketio"].test_client(app, namespace="/chat", flask_test_client=client)
        hello = sock.emit("hello", {"language": "en"}, namespace="/chat", callback=True)
        assert hello["ok"]
        reply = sock.emit(
            "message",
            {"text": "Where is my permit?", "client_id": "cyclefree01"},
            namespace="/chat",
            callback=True,
        )
        assert reply["ok"], reply
        sock.disconnect(namespace="/chat")
        assert _not_found_alive() == before
    finally:
        gc.enable()
