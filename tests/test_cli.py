"""The `helpdesk` command, run as a real subprocess on a tmp data dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

HELPDESK = [sys.executable, "-m", "helpdesk.cli"]


def run(
    tmp_path: Path, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "HELPDESK_DATA_DIR": str(tmp_path / "var"),
        "HELPDESK_TRIAGE": "local",
        "HELPDESK_LOG_LEVEL": "WARNING",
        **env,
    }
    environment.pop("HELPDESK_DATABASE_URL", None)
    return subprocess.run(
        [*HELPDESK, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )


@pytest.fixture
def upgraded(tmp_path: Path) -> Path:
    result = run(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    return tmp_path


def test_user_and_token_create(upgraded: Path, tmp_path: Path) -> None:
    made = run(
        tmp_path,
        "user",
        "create",
        "Jelena@Helpdesk.localhost",
        "--role",
        "supervisor",
        stdin="a long enough password\n",
    )
    assert made.returncode == 0 and "created supervisor jelena@helpdesk.localhost" in made.stdout
    assert "password" not in made.stdout  # given on stdin, never echoed
    generated = run(tmp_path, "user", "create", "marko@helpdesk.localhost")
    assert "password: " in generated.stdout
    twice = run(tmp_path, "user", "create", "marko@helpdesk.localhost", stdin="another password!\n")
    assert twice.returncode != 0 and "exists already" in twice.stderr
    short = run(tmp_path, "user", "create", "x@helpdesk.localhost", stdin="short\n")
    assert short.returncode != 0 and "at least 10" in short.stderr
    token = run(tmp_path, "token", "create", "jelena@helpdesk.localhost")
    assert token.returncode == 0 and token.stdout.strip().startswith("hd_")
    assert run(tmp_path, "token", "create", "ghost@x.rs").returncode != 0
    # nothing to index on a fresh store: one line, no blank progress line before it
    assert run(tmp_path, "kb", "reindex-tickets").stdout == "indexed 0 rows\n"


def test_demo_data_and_check(upgraded: Path, tmp_path: Path) -> None:
    result = run(tmp_path, "demo-data", "--tickets", "300", "--weeks", "4", "--seed", "7")
    assert result.returncode == 0, result.stderr
    assert (
        "supervisor@helpdesk.localhost" in result.stdout
        and "agent@helpdesk.localhost" in result.stdout
    )
    again = run(tmp_path, "demo-data", "--if-empty")
    assert "already loaded" in again.stdout
    check = run(tmp_path, "check")
    assert "[ok] database (sqlite): schema current" in check.stdout, check.stdout + check.stderr


def test_check_reports_a_stale_schema(tmp_path: Path) -> None:
    check = run(tmp_path, "check")
    assert check.returncode == 1 and "run `helpdesk db upgrade`" in check.stdout


def test_bad_setting_is_a_clear_error(tmp_path: Path) -> None:
    result = run(tmp_path, "check", HELPDESK_PORT="eighty")
    assert result.returncode != 0 and "HELPDESK_PORT" in result.stderr


def test_serve_answers_health_and_login(upgraded: Path, tmp_path: Path) -> None:
    from tests.conftest import free_port

    port = free_port()
    env = {
        **os.environ,
        "HELPDESK_DATA_DIR": str(tmp_path / "var"),
        "HELPDESK_PORT": str(port),
        "HELPDESK_SMTP_PORT": str(free_port()),
        "HELPDESK_TRIAGE": "local",
        "HELPDESK_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [*HELPDESK, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        health: dict[str, Any] = {}
        for _ in range(200):
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json()
                break
            except requests.ConnectionError:
                import time

                time.sleep(0.1)
        assert health == {"status": "ok", "database": "ok"}
        page = requests.get(f"http://127.0.0.1:{port}/login", timeout=5)
        assert page.status_code == 200 and 'name="password"' in page.text
        form = requests.post(
            f"http://127.0.0.1:{port}/api/v1/tickets",
            timeout=10,
            json={"contact": {"name": "A", "email": "a@example.rs"}, "subject": "s", "body": "b"},
        )
        assert form.status_code == 201 and json.loads(form.text)["reference"].startswith("HD-")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
