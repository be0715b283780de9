"""A local stand-in for the Twilio REST API: records what the app sends, answers like Twilio.

POST /2010-04-01/Accounts/<sid>/Messages.json  -> 201 with a Message resource (fixture)
POST /2010-04-01/Accounts/<sid>/Calls.json     -> 201 with a Call resource (fixture)
GET  /2010-04-01/Accounts/<sid>/Recordings/<RE...>.mp3 -> audio/mpeg bytes
Requests without the account's HTTP Basic credentials get Twilio's 401 (error 20003).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

FIXTURES = Path(__file__).resolve().parents[3] / "channels" / "phone" / "fixtures"
FAKE_MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 400


@dataclass
class Recorded:
    method: str
    path: str
    form: dict[str, list[str]]
    authorized: bool


@dataclass
class TwilioDouble:
    account_sid: str
    auth_token: str
    requests: list[Recorded] = field(default_factory=list)
    fail_next: list[tuple[int, dict]] = field(default_factory=list)  # (status, json) to answer
    url: str = ""
    hold_downloads: threading.Event | None = None  # set: recordings are served; unset: they wait
    _server: ThreadingHTTPServer | None = None

    def messages(self) -> list[dict[str, str]]:
        return [
            {k: v[-1] for k, v in r.form.items()}
            for r in self.requests
            if r.method == "POST" and r.path.endswith("/Messages.json")
        ]

    def calls(self) -> list[dict[str, str]]:
        return [
            {k: v[-1] for k, v in r.form.items()}
            for r in self.requests
            if r.method == "POST" and r.path.endswith("/Calls.json")
        ]

    def start(self) -> TwilioDouble:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def _authorized(self) -> bool:
                expected = base64.b64encode(f"{double.account_sid}:{double.auth_token}".encode()).decode()
                return self.headers.get("Authorization") == f"Basic {expected}"

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, value: dict) -> None:
                self._send(status, json.dumps(value).encode(), "application/json")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                form: dict[str, list[str]] = {}
                for key, value in parse_qsl(raw, keep_blank_values=True):
                    form.setdefault(key, []).append(value)
                ok = self._authorized()
                double.requests.append(Recorded("POST", self.path, form, ok))
                if not ok:
                    return self._json(
                        401,
                        {
                            "code": 20003,
                            "message": "Authenticate",
                            "more_info": "https://www.twilio.com/docs/errors/20003",
                            "status": 401,
                        },
                    )
                if double.fail_next:
                    status, value = double.fail_next.pop(0)
                    return self._json(status, value)
                prefix = f"/2010-04-01/Accounts/{double.account_sid}/"
                if self.path == prefix + "Messages.json":
                    resource = json.loads((FIXTURES / "rest_message_created.json").read_text())
                    sid = "SM" + secrets.token_hex(16)
                    resource.update(
                        sid=sid,
                        to=form["To"][-1],
                        body=form["Body"][-1],
                        account_sid=double.account_sid,
                    )
                    resource["from"] = form["From"][-1]
                    return self._json(201, resource)
                if self.path == prefix + "Calls.json":
                    resource = json.loads((FIXTURES / "rest_call_created.json").read_text())
                    resource.update(sid="CA" + secrets.token_hex(16), to=form["To"][-1])
                    return self._json(201, resource)
                self._json(
                    404,
                    {
                        "code": 20404,
                        "message": "The requested resource was not found",
                        "status": 404,
                    },
                )

            def do_GET(self) -> None:
                if double.hold_downloads is not None:
                    double.hold_downloads.wait(timeout=60)
                ok = self._authorized()
                double.requests.append(Recorded("GET", self.path, {}, ok))
                if not ok:
                    return self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                if re.fullmatch(
                    rf"/2010-04-01/Accounts/{double.account_sid}/Recordings/RE[0-9a-f]{{32}}\.mp3",
                    self.path,
                ):
                    return self._send(200, FAKE_MP3, "audio/mpeg")
                self._json(404, {"code": 20404, "message": "Not found", "status": 404})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
