"""A real OpenID Connect provider (the npm package oidc-provider, run by node) for the SSO tests.

One provider per test session; it knows the Helpdesk client and a few office accounts whose
claims carry (or lack) a Helpdesk role. Skipped only when node itself is missing.
"""

from __future__ import annotations

import json
import queue
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from tests.conftest import REQUIRE_BROWSER, free_port

SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
CLIENT_ID = "helpdesk"
CLIENT_SECRET = "helpdesk-test-client-secret-0123456789"
TEST_APP_URL = "http://127.0.0.1:5000"  # make_settings' public URL: the test client's callbacks
ACCOUNTS: dict[str, dict[str, Any]] = {
    "vesna": {
        "email": "Vesna.Petrovic@office.test",
        "email_verified": True,
        "name": "Vesna Petrović",
        "roles": ["staff", "helpdesk-supervisors"],
        "groups": ["team-payments"],
    },
    "marko": {
        "email": "marko@office.test",
        "email_verified": True,
        "given_name": "Marko",
        "family_name": "Jovanović",
        "roles": "helpdesk-agents",
        "groups": ["team-accounts", "team-documents", "team-unknown"],
    },
    "gost": {
        "email": "gost@office.test",
        "email_verified": True,
        "name": "Gost",
        "roles": ["staff", "library"],
    },
    "dragan": {
        "email": "dragan@office.test",
        "email_verified": True,
        "name": "Dragan",
        "roles": ["helpdesk-agents"],
    },
    "nepotvrdjen": {
        "email": "vesna.petrovic@office.test",
        "email_verified": False,
        "name": "Someone",
        "roles": ["helpdesk-admins"],
    },
}
ROLE_MAP = "helpdesk-agents=agent,helpdesk-supervisors=supervisor,helpdesk-admins=admin"
QUEUE_MAP = "team-payments=payments,team-accounts=accounts,team-documents=documents,team-unknown=nope"


@dataclass
class OidcProvider:
    issuer: str
    browser_app_port: int  # the live server of the browser test is registered on this port
    process: subprocess.Popen[str]
    log: Path
    seen: list[str] = field(default_factory=list)

    def settings(self, **overrides: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "oidc_issuer": self.issuer,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": CLIENT_SECRET,
            "oidc_provider_name": "Office ID",
            "oidc_role_map": ROLE_MAP,
            "oidc_queue_map": QUEUE_MAP,
        }
        values.update(overrides)
        return values


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    node = shutil.which("node")
    if node is None:
        if REQUIRE_BROWSER:  # CI: the sign-in through the browser must run there
            pytest.fail("node is missing but HELPDESK_TEST_REQUIRE_BROWSER is set")
        pytest.skip(
            "node is not installed: the SSO tests run a real OpenID provider "
            "(npm oidc-provider); install Node.js and run `make setup`"
        )
    folder = tmp_path_factory.mktemp("oidc")
    port, app_port = free_port(), free_port()
    apps = (TEST_APP_URL, f"http://127.0.0.1:{app_port}")
    config = {
        "port": port,
        "client": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [f"{a}/login/oidc/callback" for a in apps],
            "post_logout_redirect_uris": [f"{a}/login" for a in apps],
        },
        "accounts": ACCOUNTS,
    }
    (folder / "config.json").write_text(json.dumps(config))
    log = folder / "provider.log"
    with log.open("w") as errors:
        process = subprocess.Popen(
            [node, str(SCRIPT), str(folder / "config.json")],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            cwd=SCRIPT.parents[2],
        )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in process.stdout or ()], daemon=True).start()
    try:
        line = lines.get(timeout=60)
    except queue.Empty:
        line = ""
    if not line.startswith("READY "):
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
        pytest.fail(f"oidc-provider did not start: {line!r} {log.read_text()[-2000:]}")
    yield OidcProvider(line.split()[1], app_port, process, log)
    process.terminate()
    process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()


def sign_in_at_provider(authorize_url: str, login: str, app_url: str = TEST_APP_URL) -> str:
    """Play the person at the provider's dev pages (login form, then consent); returns the URL
    the provider sends the browser back to (our callback with code and state)."""
    http = requests.Session()
    http.trust_env = False  # localhost only, never a proxy
    response = http.get(authorize_url, allow_redirects=False, timeout=10)
    for _ in range(12):
        if response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if target.startswith(app_url):
                return target
            response = http.get(target, allow_redirects=False, timeout=10)
            continue
        assert response.status_code == 200, response.text[:500]
        action = re.search(r'<form[^>]*action="([^"]+)"', response.text)
        assert action is not None, response.text[:500]
        if 'name="login"' in response.text:
            data = {"prompt": "login", "login": login, "password": "any"}
        else:
            data = {"prompt": "consent"}
        response = http.post(
            urljoin(response.url, action.group(1)), data=data, allow_redirects=False, timeout=10
        )
    raise AssertionError("the provider never sent the browser back")
