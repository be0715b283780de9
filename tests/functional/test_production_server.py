"""`helpdesk serve --production` (gunicorn, one worker, threads): a SIGTERM under load stops
accepting, lets the request in flight finish, releases the WebSockets at once, and every inquiry
that was answered 201 is stored exactly once (none lost, none doubled, none stored unanswered)."""

from __future__ import annotations

import json
import socket
import sys
import threading
from pathlib import Path

import requests
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hd_prod import post_ticket, web  # noqa: E402
from hd_servers import Citizen, base_env, prepare_store  # noqa: E402


def _slow_request_headers(port: int, body: bytes) -> socket.socket:
    """Open a POST with `Expect: 100-continue` and wait for gunicorn's 100 Continue: from then on
    the request is in a worker thread, in flight, with its body still to come."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    sock.sendall(
        b"POST /api/v1/tickets HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n".encode()
    )
    assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")
    return sock


def test_sigterm_under_load_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    env = base_env(
        tmp_path / "data",
        HELPDESK_EMBEDDED_SERVICES="0",
        HELPDESK_API_TICKET_RATE_LIMIT="100000 per minute",
        HELPDESK_SECRET_KEY="production-test-" + "k" * 32,
        HELPDESK_GRACEFUL_TIMEOUT="30",
    )
    (tmp_path / "data").mkdir()
    prepare_store(env, [])
    server = web(env, tmp_path / "web.log")
    citizen = Citizen(server.url)
    citizen.connect()
    disconnected = threading.Event()
    assert citizen.sio is not None
    citizen.sio.on("disconnect", lambda *_: disconnected.set(), namespace="/chat")
    assert citizen.send("Pitanje pre gašenja")["ok"]

    answered: list[str] = []  # subjects answered 201
    refused: list[str] = []  # subjects whose request failed (connection refused or reset)
    stop_load = threading.Event()
    lock = threading.Lock()

    def load(n: int) -> None:
        i = 0
        while not stop_load.is_set():
            subject = f"opterećenje {n}-{i}"
            i += 1
            try:
                r = post_ticket(server.url, subject)
            except requests.RequestException:
                with lock:
                    refused.append(subject)
                continue
            with lock:
                if r.status_code == 201:
                    answered.append(subject)
                else:
                    refused.append(f"{subject}: HTTP {r.status_code}")

    slow_body = json.dumps(
        {
            "contact": {"name": "Spora veza", "email": "spora@example.rs"},
            "subject": "zahtev u letu",
            "body": "Ovaj zahtev je stigao pre gašenja i mora biti sačuvan.",
        }
    ).encode()
    threads = [threading.Thread(target=load, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        while len(answered) < 20:  # the load is really running
            assert all(t.is_alive() for t in threads)
            threading.Event().wait(0.05)
        slow = _slow_request_headers(server.port, slow_body)
        server.terminate()
        # The WebSocket is released at once, while an HTTP request is still in flight.
        assert disconnected.wait(15), "the chat WebSocket was kept open during the stop"
        # New connections are refused once the listener is closed.
        while True:
            try:
                socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
            except OSError:
                break
            threading.Event().wait(0.05)
        stop_load.set()
        for t in threads:
            t.join(30)
        slow.sendall(slow_body)
        reply = b""
        while chunk := slow.recv(65536):
            reply += chunk
        slow.close()
        assert reply.startswith(b"HTTP/1.1 201"), reply[:200]
        assert server.wait(30) == 0
    finally:
        stop_load.set()
        server.kill()

    assert server.tracebacks() == []
    assert not [r for r in refused if "HTTP" in r], refused  # failures are refusals, not errors

    from helpdesk.db import Database
    from helpdesk.models import Message, Ticket
    from helpdesk.settings import Settings

    db = Database(Settings.from_env(env).database_url)
    with db.session() as s:
        subjects = list(s.scalars(select(Ticket.subject).where(Ticket.channel == "web")))
        chat = list(s.scalars(select(Message.text).where(Message.text == "Pitanje pre gašenja")))
    db.engine.dispose()
    assert sorted(subjects) == sorted([*answered, "zahtev u letu"])  # exactly once each
    assert len(chat) == 1
