"""Real `helpdesk smtp` and `helpdesk worker` processes, to kill (SIGKILL) and stop (SIGTERM)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.functional.hd_servers import ROOT, base_env, free_port

SUPPORT = "podrska@helpdesk.localhost"


def mail_env(data_dir: Path, **extra: str) -> dict[str, str]:
    return base_env(
        data_dir,
        HELPDESK_CHANNELS="channels.email",
        HELPDESK_SUPPORT_ADDRESS=SUPPORT,
        HELPDESK_MAIL_DOMAINS="helpdesk.localhost",
        HELPDESK_EMBEDDED_SERVICES="0",
        HELPDESK_SLA_CHECK_SECONDS="3600",
        PYTHONUNBUFFERED="1",
        **extra,
    )


class Proc:
    """One `helpdesk <command>` process; its output goes to a log file beside the data."""

    def __init__(self, env: dict[str, str], command: str, log_path: Path, *args: str) -> None:
        self.env, self.command, self.args, self.log_path = env, command, args, log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, ready: str) -> Proc:
        """Start and wait until the log says ``ready``."""
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-W", "default", "-c", "from helpdesk.cli import main; main()"]
                + [self.command, *self.args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = self.log_path.read_bytes()[offset:].decode(errors="replace")
            if ready in text:
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.command} exited:\n{text[-3000:]}")
            time.sleep(0.05)
        raise RuntimeError(f"{self.command} did not start:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def terminate(self, timeout: float = 30) -> float:
        """SIGTERM; how many seconds the process took to exit."""
        assert self.proc is not None
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout)
        return time.monotonic() - start


def smtp_process(env: dict[str, str], log_path: Path) -> tuple[Proc, int]:
    port = free_port()
    proc = Proc(env, "smtp", log_path, "--host", "127.0.0.1", "--port", str(port))
    proc.start("SMTP server listening")
    with socket.create_connection(("127.0.0.1", port), timeout=10):
        pass
    return proc, port


def worker_process(env: dict[str, str], log_path: Path) -> Proc:
    return Proc(env, "worker", log_path).start("worker running")
