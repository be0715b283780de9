"""The raw baseline: a bare Flask-SocketIO relay with the chat's shape and nothing of its work.

Like the helpdesk server: threading mode, simple-websocket, Werkzeug's threaded server, each
connection's events run on its reader thread (``async_handlers=False``), and with a Redis URL the
same message queue. Like the chat, a citizen says ``hello`` on ``/chat`` and then sends
``message``; the server acknowledges it and relays ``message.created`` to the consoles (every
``/console`` connection is in one room), both with payloads of the chat's shape and size. No
database, no auth, no rooms per ticket or queue, no ticket numbers.

    python bench/chat/echo_server.py PORT [REDIS_URL CHANNEL]
"""

from __future__ import annotations

import secrets
import socket
import sys
from datetime import UTC, datetime
from itertools import count
from typing import Any

from flask import Flask
from flask_socketio import SocketIO, join_room
from werkzeug.serving import WSGIRequestHandler, make_server

CONSOLE = "console"
app = Flask(__name__)
socketio = SocketIO(
    app,
    async_mode="threading",
    message_queue=sys.argv[2] if len(sys.argv) > 2 else None,
    channel=sys.argv[3] if len(sys.argv) > 3 else "flask-socketio",
    logger=False,
    engineio_logger=False,
    async_handlers=False,
)
ids = count(1)


@socketio.on("connect", namespace="/console")
def console_connect(auth: object = None) -> None:
    join_room(CONSOLE)


@socketio.on("hello", namespace="/chat")
def hello(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "ok": True,
        "token": secrets.token_urlsafe(32),
        "reference": None,
        "status": None,
        "last_seq": 0,
        "agents_online": True,
        "agent_name": None,
    }


@socketio.on("message", namespace="/chat")
def message(data: dict[str, Any]) -> dict[str, Any]:
    # The same fields as the chat's acknowledgement and its console event (bench/chat/run.py
    # prints the sizes of both servers' payloads), built from the citizen's data alone.
    n = next(ids)
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    reference = f"HD-2026-{n:06d}"
    text = str(data.get("text", ""))
    msg = {
        "id": n,
        "seq": 1,
        "reference": reference,
        "direction": "inbound",
        "kind": "message",
        "text": text,
        "author": None,
        "created_at": now,
        "client_id": data.get("client_id"),
    }
    ticket = {
        "reference": reference,
        "subject": text,
        "status": "new",
        "priority": "normal",
        "channel": "chat",
        "category": "other",
        "queue": "triage",
        "assignee_id": None,
        "language": "en",
        "script": "latn",
        "triage_confidence": 0.0,
        "complaint": False,
        "contact": {"id": n, "name": None},
        "created_at": now,
        "updated_at": now,
        "first_response_at": None,
        "resolved_at": None,
        "first_response_due_at": now,
        "resolution_due_at": now,
        "related_ticket": None,
        "merged_into": None,
        "last_seq": 1,
    }
    event = {
        "type": "message.created",
        "ticket": ticket,
        "message": {
            "id": n,
            "seq": 1,
            "direction": "inbound",
            "kind": "message",
            "channel": "chat",
            "text": text,
            "html": None,
            "author": {"kind": "contact", "id": n},
            "created_at": now,
            "delivery_state": None,
            "delivery_error": None,
            "client_id": data.get("client_id"),
            "attachments": [],
        },
    }
    socketio.emit("message.created", event, to=CONSOLE, namespace="/console")
    return {"ok": True, "reference": reference, "duplicate": False, "message": msg}


@app.get("/ping")
def ping() -> str:
    return "pong"


class QuietHandler(WSGIRequestHandler):
    def setup(self) -> None:  # like ours (helpdesk.serving.RequestHandler): Nagle off
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_request(self, *args: Any) -> None:  # the helpdesk server logs at ERROR in the bench
        pass


if __name__ == "__main__":
    server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True, request_handler=QuietHandler)
    server.serve_forever()
