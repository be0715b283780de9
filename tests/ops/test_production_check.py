"""`helpdesk check --production` names every unsafe production setting and exits non-zero."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpdesk.production_checks import production_problems
from helpdesk.settings import Settings

SAFE = {
    "HELPDESK_SECRET_KEY": "x7Qp2v9LmZ4rT8wKc3NfH6yJb1sDg5aE0uVoXiRq",
    "HELPDESK_DATABASE_URL": "postgresql+psycopg://helpdesk@db/helpdesk",
    "HELPDESK_REDIS_URL": "redis://redis:6379/0",
    "HELPDESK_EMBEDDED_SERVICES": "0",
    "HELPDESK_SECURE_COOKIES": "1",
    "HELPDESK_PUBLIC_URL": "https://podrska.example.gov.rs",
    "HELPDESK_SMTP_RELAY": "relay.example.gov.rs:587",
    "HELPDESK_METRICS_TOKEN": "scrape-token-0123456789abcdef",
    "HELPDESK_PROXY_HOPS": "1",
}


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"HELPDESK_DATA_DIR": str(tmp_path), **SAFE, **env})


def test_the_documented_production_settings_pass(tmp_path: Path) -> None:
    assert production_problems(settings(tmp_path)) == []


def test_each_unsafe_setting_is_named(tmp_path: Path) -> None:
    cases = {
        "HELPDESK_SECRET_KEY": ("change-me-please-change-me-please-0000", "placeholder"),
        "HELPDESK_DATABASE_URL": ("sqlite:////srv/helpdesk/helpdesk.db", "SQLite"),
        "HELPDESK_REDIS_URL": ("", "HELPDESK_REDIS_URL is not set"),
        "HELPDESK_SECURE_COOKIES": ("0", "HELPDESK_SECURE_COOKIES is off"),
        "HELPDESK_PUBLIC_URL": ("http://podrska.example.gov.rs", "not https"),
        "HELPDESK_SMTP_RELAY": ("", "HELPDESK_SMTP_RELAY is not set"),
        "HELPDESK_METRICS_TOKEN": ("", "HELPDESK_METRICS_TOKEN"),
        "HELPDESK_PROXY_HOPS": ("0", "HELPDESK_PROXY_HOPS"),
    }
    for variable, (value, words) in cases.items():
        found = production_problems(settings(tmp_path, **{variable: value}))
        assert len(found) == 1 and words in found[0], (variable, found)
    short = production_problems(settings(tmp_path, HELPDESK_SECRET_KEY="short"))
    assert len(short) == 1 and "shorter than 32" in short[0]
    both = production_problems(settings(tmp_path, HELPDESK_EMBEDDED_SERVICES="1"))
    assert len(both) == 1 and "own SMTP server" in both[0]


def test_cli_fails_on_the_embedded_defaults_and_names_every_problem(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update(HELPDESK_DATA_DIR=str(tmp_path / "var"), HELPDESK_TRIAGE="local", HELPDESK_LOG_LEVEL="WARNING")
    cli = [sys.executable, "-m", "helpdesk.cli"]
    upgraded = subprocess.run([*cli, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120)
    assert upgraded.returncode == 0, upgraded.stderr
    done = subprocess.run(
        [*cli, "check", "--production"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    failed = [line for line in done.stdout.splitlines() if line.startswith("[FAIL] production")]
    for words in (
        "HELPDESK_SECRET_KEY is not set",
        "SQLite",
        "HELPDESK_SECURE_COOKIES",
        "not https",
        "HELPDESK_SMTP_RELAY",
        "HELPDESK_METRICS_TOKEN",
    ):
        assert any(words in line for line in failed), (words, done.stdout)
