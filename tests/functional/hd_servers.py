"""Real `helpdesk serve` processes for protocol, scale-out and browser tests, and a citizen client
that behaves like chat.js (resend pending messages, resume by sequence number, show each once)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests
import socketio

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from helpdesk.cli import main; main()"]
PASSWORD = "correct horse battery"
CHAT_AGENT = "ana@helpdesk.test"  # the agent of the chat protocol tests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update(
        {
            "HELPDESK_DATA_DIR": str(data_dir),
            "HELPDESK_CHANNELS": "channels.chat",
            "HELPDESK_TRIAGE": "local",
            "HELPDESK_LOG_LEVEL": "WARNING",
            "HELPDESK_OUTBOX_POLL_SECONDS": "0.5",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


def run_cli(env: dict[str, str], *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [*CLI, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def prepare_store(env: dict[str, str], agents: list[dict[str, Any]]) -> None:
    """Migrate the database and create agents (and their queues), in this process: fast."""
    from helpdesk.db import Database
    from helpdesk.models import Agent, Queue
    from helpdesk.settings import Settings
    from tests.conftest import PASSWORD as SHARED_PASSWORD
    from tests.conftest import migrate  # the session's migrated template, not 28 migrations
    from tests.conftest import password_hash as shared_hash  # hashed once per session

    assert SHARED_PASSWORD == PASSWORD
    settings = Settings.from_env(env)
    db = Database(settings.database_url)
    migrate(db)
    password_hash = shared_hash()
    with db.transaction() as s:
        for spec in agents:
            agent = Agent(
                email=spec["email"],
                name=spec.get("name", spec["email"]),
                role=spec.get("role", "agent"),
                password_hash=password_hash,
            )
            for name in spec.get("queues", ()):
                queue = s.query(Queue).filter_by(name=name).first()
                if queue is None:
                    queue = Queue(name=name, title=name.capitalize())
                    s.add(queue)
                agent.queues.append(queue)
            s.add(agent)
    db.engine.dispose()


class Server:
    """One `helpdesk serve` process on its own port; kill() is a crash, stop() a clean exit."""

    def __init__(self, env: dict[str, str], log_path: Path, port: int | None = None) -> None:
        self.env = env
        self.fixed_port = port is not None
        self.port = port or free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        env = dict(
            self.env,
            HELPDESK_PORT=str(self.port),
            HELPDESK_HOST="127.0.0.1",
            HELPDESK_PUBLIC_URL=self.url,
        )
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                # Warnings show in the log (pytest's "warnings are errors" stops at the process).
                [
                    sys.executable,
                    "-W",
                    "default",
                    "-c",
                    "from helpdesk.cli import main; main()",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log_text = self.log_path.read_text(errors="replace")
                if "Address already in use" in log_text and not self.fixed_port:
                    # Another process took the free port between our probe and the bind.
                    self.log_path.write_text("")
                    self.port = free_port()
                    return self.start()
                raise RuntimeError("server exited:\n" + log_text[-3000:])
            try:
                if requests.get(self.url + "/chat", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)  # a probe is cheap; each start waited 0.1 s more on average
        raise RuntimeError("server did not start:\n" + self.log_path.read_text()[-3000:])

    def problems(self) -> list[str]:
        """Server-side tracebacks, warnings and handler failures the clients could not see."""
        return log_problems(self.log_path.read_text(errors="replace") if self.log_path.exists() else "")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def quick_disconnect(sio: socketio.Client) -> None:
    """Disconnect without websocket-client's 3 s wait for a close frame that Werkzeug's dev server
    answers late (the browser does not wait either)."""
    ws = getattr(sio.eio, "ws", None)
    if ws is not None:
        close = ws.close
        ws.close = lambda *args, **kwargs: close(timeout=0.2)
    sio.disconnect()


def login_cookie(base_url: str, email: str, password: str = PASSWORD) -> str:
    """Log in through the real form; return the Cookie header for Socket.IO clients."""
    http = requests.Session()
    page = http.get(base_url + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    r = http.post(
        base_url + "/login",
        data={"csrf_token": token.group(1), "email": email, "password": password},
        timeout=10,
        allow_redirects=False,
    )
    assert r.status_code in (302, 303), r.status_code
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


class Console:
    """An agent's /console connection that records every event it gets."""

    def __init__(self, base_url: str, cookie: str) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.cond = threading.Condition()

        def record(name: str, data: Any) -> None:
            with self.cond:
                self.events.append((name, data))
                self.cond.notify_all()

        self.sio.on("*", record, namespace="/console")
        self.sio.connect(
            base_url,
            namespaces=["/console"],
            headers={"Cookie": cookie},
            transports=["websocket"],
            wait_timeout=10,
        )

    def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        return self.sio.call(event, data, namespace="/console", timeout=15)

    def wait_for(self, predicate: Any, timeout: float = 20) -> tuple[str, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for item in self.events:
                    if predicate(*item):
                        return item
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching event; got {[e[0] for e in self.events]}")
                self.cond.wait(left)

    def close(self) -> None:
        quick_disconnect(self.sio)


class Citizen:
    """Does what chat.js does, so tests check the protocol the browser relies on."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.token = token
        self.reference: str | None = None
        self.last_seq = 0
        self.shown: list[dict[str, Any]] = []  # every message shown, in order, once
        self.seen: set[tuple[str, int]] = set()
        self.doubles = 0  # deliveries of something already shown (harmless, but counted)
        self.pending: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        self.sio: socketio.Client | None = None
        self.typing: list[dict[str, Any]] = []
        self.notices: list[dict[str, Any]] = []
        self.resyncs: list[dict[str, Any]] = []  # recorded; chat.js then asks history again

    def connect(self) -> dict[str, Any]:
        sio = socketio.Client(reconnection=False)
        sio.on("message", self._accept, namespace="/chat")
        sio.on("typing", lambda d: self.typing.append(d), namespace="/chat")
        sio.on("notice", lambda d: self.notices.append(d), namespace="/chat")
        sio.on("resync", self._resync, namespace="/chat")
        sio.connect(
            self.base_url,
            namespaces=["/chat"],
            auth={"token": self.token},
            transports=["websocket"],
            wait_timeout=10,
        )
        self.sio = sio
        hello = self.call("hello", {"token": self.token, "language": "en"})
        assert hello["ok"], hello
        self.token = hello["token"]
        after = self.last_seq if hello["reference"] == self.reference else 0
        history = self.call("history", {"after": after})
        assert history["ok"], history
        for m in history["messages"]:
            self._accept(m)
        for p in list(self.pending):
            self._send(p)
        return hello

    def call(self, event: str, data: Any) -> Any:
        assert self.sio is not None
        return self.sio.call(event, data, namespace="/chat", timeout=15)

    def _accept(self, m: dict[str, Any]) -> None:
        with self.cond:
            if m["reference"] != self.reference:
                self.reference, self.last_seq = m["reference"], 0
            key = (m["reference"], m["seq"])
            if key in self.seen:
                self.doubles += 1
                return
            self.seen.add(key)
            self.last_seq = max(self.last_seq, m["seq"])
            self.shown.append(m)
            self.cond.notify_all()

    def _resync(self, data: dict[str, Any]) -> None:
        with self.cond:
            self.resyncs.append(data)
            self.cond.notify_all()

    def wait_resync(self, reason: str, timeout: float = 20) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: any(d.get("reason") == reason for d in self.resyncs), timeout):
                raise AssertionError(f"no resync ({reason}); got {self.resyncs}")

    def send(self, text: str, **extra: Any) -> dict[str, Any] | None:
        p = {"client_id": uuid.uuid4().hex, "text": text, **extra}
        self.pending.append(p)
        if self.sio is not None and self.sio.connected:
            return self._send(p)
        return None

    def _send(self, p: dict[str, Any]) -> dict[str, Any]:
        res = self.call("message", p)
        if res.get("ok"):
            self.pending.remove(p)
            self._accept(res["message"])
        return res

    def cut(self) -> None:
        """The network goes away: the TCP connection is shut down under the WebSocket, with no
        Socket.IO or WebSocket goodbye (what a train entering a tunnel does)."""
        assert self.sio is not None
        ws = self.sio.eio.ws
        ws.sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + 20
        while self.sio.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not self.sio.connected
        self.sio = None

    def drop(self) -> None:
        """The connection goes away (the server sees a disconnect)."""
        if self.sio is not None:
            quick_disconnect(self.sio)
            self.sio = None

    def wait_text(self, text: str, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for m in self.shown:
                    if m["text"] == text:
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{text!r} never arrived; shown {[m['text'] for m in self.shown]}")
                self.cond.wait(left)


WEBSOCKET_DRIVERS = ("_websocket_wsgi.py", "simple_websocket/ws.py")


def log_problems(text: str, warnings: bool = True) -> list[str]:
    """The exception line of each traceback in a server log, and (with `warnings`) its warnings and
    handler failures.

    One is tolerated: a WebSocket closed under its driver (python-engineio's, or simple-websocket's
    own thread) while it still reads or writes: a browser leaving a page mid-upgrade, or a stopping
    server releasing its sockets. It is logged as an OSError or ConnectionClosed from that driver.
    """
    found: list[str] = []
    block: list[str] = []
    for line in [*text.splitlines(), "<end>"]:
        if line.startswith("Traceback") or (block and (line.startswith((" ", "During")) or not line)):
            block.append(line)
            continue
        if block:
            block.append(line)  # the exception line ends the block
            closed_socket = any(d in b for b in block for d in WEBSOCKET_DRIVERS) and (
                line.startswith(("OSError", "simple_websocket.errors.ConnectionClosed"))
            )
            if not closed_socket:
                found.append(line)
            block = []
            continue
        if warnings and ("Warning:" in line or " failed: " in line):
            found.append(line)
    return found
