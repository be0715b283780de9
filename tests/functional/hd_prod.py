"""Production-shaped processes for tests: `helpdesk serve --production` (gunicorn), `helpdesk smtp`,
`helpdesk worker` and Debian's nginx in front, each a real subprocess on a free port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from hd_servers import ROOT, free_port, log_problems

NGINX = Path("/usr/sbin/nginx")
PY = [sys.executable, "-W", "default", "-c", "from helpdesk.cli import main; main()"]


def wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}:\n{log.read_text(errors='replace')[-3000:]}")


class Process:
    """A helpdesk command as its own process; stop() is SIGTERM (graceful), kill() SIGKILL."""

    def __init__(self, env: dict[str, str], log: Path, args: list[str], port: int) -> None:
        self.env, self.log, self.args, self.port = env, log, args, port
        self.proc: subprocess.Popen[bytes] | None = None
        self.ready_path: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str | None = None, wait: bool = True) -> Process:
        self.ready_path = ready_path
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [*PY, *self.args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,  # its own process group: kill() takes gunicorn's worker too
            )
        return self.ready() if wait else self

    def ready(self) -> Process:
        assert self.proc is not None
        wait_port(self.port, self.proc, self.log)
        if ready_path := self.ready_path:  # gunicorn listens before its worker has built the app
            deadline = time.monotonic() + 60
            while requests.get(self.url + ready_path, timeout=10).status_code != 200:
                assert time.monotonic() < deadline, self.log.read_text()[-3000:]
                time.sleep(0.1)
        return self

    def terminate(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 30) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def kill(self) -> None:
        """A crash of the whole process (gunicorn's master and its worker): SIGKILL, no goodbye."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def tracebacks(self) -> list[str]:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return log_problems(text, warnings=False)


def web(env: dict[str, str], log: Path, port: int | None = None, ready: bool = True) -> Process:
    """`helpdesk serve --production`: gunicorn, one worker, threads; ready when /healthz answers."""
    port = port or free_port()
    env = dict(env, HELPDESK_PORT=str(port), HELPDESK_HOST="127.0.0.1")
    args = ["serve", "--production", "--host", "127.0.0.1", "--port", str(port)]
    return Process(env, log, args, port).start("/healthz", wait=ready)


def smtp(env: dict[str, str], log: Path, ready: bool = True) -> Process:
    port = free_port()
    args = ["smtp", "--host", "127.0.0.1", "--port", str(port)]
    return Process(env, log, args, port).start(wait=ready)


def worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [*PY, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
        )


NGINX_CONF = """
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 512; }}
http {{
    log_format upstream '$request_method $uri $status $upstream_addr';
    access_log {dir}/access.log upstream;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    client_max_body_size 30m;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    upstream helpdesk {{
        {balance}
        {servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://helpdesk;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 120s;
            proxy_connect_timeout 2s;
        }}
    }}
}}
"""


class Nginx:
    """Debian's nginx as an unprivileged subprocess with its own config, pid and temp paths."""

    def __init__(self, directory: Path, upstreams: list[int], balance: str = "ip_hash;") -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        servers = "\n        ".join(f"server 127.0.0.1:{p} max_fails=1 fail_timeout=30s;" for p in upstreams)
        conf = NGINX_CONF.format(dir=self.dir, port=self.port, servers=servers, balance=balance)
        (self.dir / "nginx.conf").write_text(conf)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Nginx:
        log = self.dir / "stderr.log"
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                # -e: the error log before the config is read (the default is under /var/log).
                [str(NGINX), "-c", str(self.dir / "nginx.conf"), "-p", f"{self.dir}/"]
                + ["-e", str(self.dir / "error.log")],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_port(self.port, self.proc, log, timeout=20)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # nginx's graceful stop
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def post_ticket(base_url: str, subject: str, timeout: float = 20) -> requests.Response:
    body = {
        "contact": {"name": "Građanin", "email": "gradjanin@example.rs"},
        "subject": subject,
        "body": f"Pitanje {subject}: ne mogu da se prijavim na portal.",
        "language": "sr-Latn",
    }
    return requests.post(
        base_url + "/api/v1/tickets",
        data=json.dumps(body),
        headers={"Content-Type": "application/json"},
        timeout=timeout,
    )
