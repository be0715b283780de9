"""The embedded server (`make run`, `helpdesk serve`) sends small writes at once.

A chat message reaches the console as one small WebSocket frame; with Nagle's algorithm on, a
frame written while the previous one is unacknowledged waits for the console's delayed ACK (up to
40 ms on Linux), and the console showed messages that much later (bench/chat/run.py --rate).
"""

from __future__ import annotations

import socket
import threading
import urllib.request
from typing import Any

from helpdesk.serving import make_server


def _nagle_off_on_the_server_side(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    conn = environ["werkzeug.socket"]  # the accepted connection this request arrived on
    flag = conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"nodelay" if flag else b"nagle"]


def test_the_embedded_server_turns_nagle_off_on_every_connection() -> None:
    server = make_server("127.0.0.1", 0, _nagle_off_on_the_server_side)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/"
        for _ in range(2):  # each connection, not only the first
            with urllib.request.urlopen(url, timeout=10) as answer:
                assert answer.read() == b"nodelay"
    finally:
        server.shutdown()
        server.server_close()
