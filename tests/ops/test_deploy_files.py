"""deploy/: the files an operator installs are complete and valid for the tools that read them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import fields
from pathlib import Path

import pytest

from helpdesk.production_checks import production_problems
from helpdesk.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NGINX = Path("/usr/sbin/nginx")
REQUIRE_NGINX = os.environ.get("HELPDESK_TEST_REQUIRE_NGINX") == "1"


def env_file() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / "helpdesk.env").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_env_file_explains_every_setting_and_passes_the_production_check(tmp_path: Path) -> None:
    text = (DEPLOY / "helpdesk.env").read_text()
    missing = [
        f"HELPDESK_{f.name.upper()}"
        for f in fields(Settings)
        if not re.search(rf"^#?HELPDESK_{f.name.upper()}=", text, re.MULTILINE)
    ]
    assert missing == [], f"deploy/helpdesk.env does not explain {missing}"
    values = dict(env_file(), HELPDESK_DATA_DIR=str(tmp_path))
    # As shipped, only the placeholders an operator must replace are refused.
    assert [p.split(" ")[0] for p in production_problems(Settings.from_env(values))] == [
        "HELPDESK_SECRET_KEY"
    ]
    values["HELPDESK_SECRET_KEY"] = "q" * 48
    assert production_problems(Settings.from_env(values)) == []


def test_systemd_units_are_hardened_and_stop_gracefully() -> None:
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert [u.name for u in units] == [
        "helpdesk-smtp.service",
        "helpdesk-web@.service",
        "helpdesk-worker.service",
    ]
    for unit in units:
        text = unit.read_text()
        for line in (
            "User=helpdesk",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "PrivateTmp=yes",
            "StateDirectory=helpdesk",
            "EnvironmentFile=/etc/helpdesk/helpdesk.env",
            "KillSignal=SIGTERM",
        ):
            assert f"\n{line}\n" in text, (unit.name, line)
    web = (DEPLOY / "systemd" / "helpdesk-web@.service").read_text()
    assert "helpdesk serve --production --port %i" in web


@pytest.mark.skipif(not NGINX.exists() and not REQUIRE_NGINX, reason="nginx not installed")
def test_nginx_site_is_valid_for_nginx(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    site = (DEPLOY / "nginx" / "helpdesk.conf").read_text()
    live = "/etc/letsencrypt/live/podrska.example.gov.rs/"
    site = site.replace(live + "fullchain.pem", str(tmp_path / "cert.pem"))
    site = site.replace(live + "privkey.pem", str(tmp_path / "key.pem"))
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    for needed in ("ip_hash;", "proxy_set_header Upgrade $http_upgrade;", "client_max_body_size",
                   "X-Forwarded-Proto", "ssl_certificate"):  # fmt: skip
        assert needed in site
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n client_body_temp_path {tmp_path}/b;\n proxy_temp_path {tmp_path}/p;\n"
        f" include {tmp_path}/site.conf;\n}}\n"
    )
    done = subprocess.run(
        [str(NGINX), "-t", "-c", str(tmp_path / "nginx.conf"), "-p", f"{tmp_path}/"]
        + ["-e", str(tmp_path / "e.log")],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr


@pytest.mark.skipif(shutil.which("logrotate") is None, reason="logrotate not installed")
def test_logrotate_config_parses(tmp_path: Path) -> None:
    # The helpdesk user does not exist on a test machine: check the syntax as root.
    conf = (DEPLOY / "logrotate" / "helpdesk").read_text().replace("helpdesk helpdesk", "root root")
    conf = conf.replace("helpdesk adm", "root root").replace("www-data adm", "root root")
    (tmp_path / "helpdesk").write_text(conf)
    done = subprocess.run(
        ["logrotate", "-d", "-s", str(tmp_path / "state"), str(tmp_path / "helpdesk")],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 0 and errors == [], done.stderr
