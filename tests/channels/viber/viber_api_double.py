"""A local stand-in for the Viber REST bot API: records what the app sends, answers like Viber.

POST /pa/send_message -> {"status": 0, "message_token": ...} (fixture), or a queued answer
GET  /media/<name>    -> the bytes registered with add_media (Viber's media CDN)
Requests without the right X-Viber-Auth-Token get Viber's status 2 (invalid auth token).
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[3] / "channels" / "viber" / "fixtures"


@dataclass
class Sent:
    path: str
    token: str | None
    body: dict[str, Any]


@dataclass
class ViberDouble:
    auth_token: str
    sent: list[Sent] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)  # next answers to send_message
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    url: str = ""
    _server: ThreadingHTTPServer | None = None

    @property
    def api_base(self) -> str:
        return self.url + "/pa"

    def messages(self) -> list[dict[str, Any]]:
        return [s.body for s in self.sent if s.path == "/pa/send_message"]

    def add_media(self, name: str, data: bytes, content_type: str) -> str:
        self.media[name] = (data, content_type)
        return f"{self.url}/media/{name}"

    def start(self) -> ViberDouble:
        double = self
        tokens = itertools.count(5741311803571721100)
        ok = json.loads((FIXTURES / "send_message_ok.json").read_text())

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                token = self.headers.get("X-Viber-Auth-Token")
                double.sent.append(Sent(self.path, token, body))
                if token != double.auth_token:
                    answer: dict[str, Any] = {"status": 2, "status_message": "invalidAuthToken"}
                elif double.answers:
                    answer = double.answers.pop(0)
                else:
                    answer = dict(ok, message_token=next(tokens))
                self._send(200, json.dumps(answer).encode(), "application/json")

            def do_GET(self) -> None:
                item = double.media.get(self.path.rsplit("/", 1)[-1])
                if item is None:
                    self._send(404, b"not found", "text/plain")
                else:
                    self._send(200, item[0], item[1])

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
