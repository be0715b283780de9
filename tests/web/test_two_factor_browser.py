"""A supervisor who must use two-factor cannot reach the console or the dashboard without a valid
code from the authenticator app; an admin who has none is sent to enrolment first, then reaches
the administration (and its API-token page). Browser, with axe on each new page."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp

from helpdesk.auth import twofactor
from helpdesk.auth.accounts import create_token
from helpdesk.models import Agent
from tests.conftest import add_agent, axe, browser_login, start_live_server


def fresh_time_step(margin: float = 6.0) -> int:
    """The current TOTP step, waiting for the next one if this one ends within ``margin`` seconds:
    the codes computed here must still be the server's 'now' and 'one step ago' when submitted."""
    left = 30 - time.time() % 30
    if left < margin:
        time.sleep(left + 0.2)
    return int(time.time() // 30)


def submit_code(page: Any, code: str) -> None:
    page.get_by_label("Code", exact=True).fill(code)
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()


def test_required_two_factor_guards_the_console_and_the_dashboard(
    tmp_path: Path, page: Any
) -> None:
    server = start_live_server(tmp_path, require_2fa_roles=("supervisor", "admin"))
    try:
        svc = server.services
        base = server.url
        sup_id = add_agent(svc, "vesna@helpdesk.localhost", "supervisor")
        secret = pyotp.random_base32()  # enrolled earlier, as in the authenticator app
        with svc.db.transaction() as s:
            sup = s.get(Agent, sup_id)
            assert sup is not None
            sup.totp_secret, sup.totp_enabled_at = twofactor.seal(svc, secret), svc.clock.now()
        totp = pyotp.TOTP(secret)

        browser_login(page, base, "vesna@helpdesk.localhost")
        assert page.url.startswith(f"{base}/login/code")
        code_input = page.get_by_label("Code", exact=True)
        assert code_input.get_attribute("autocomplete") == "one-time-code"
        assert code_input.get_attribute("inputmode") == "numeric"
        assert axe(page) == []
        for path in ("/console", "/supervisor"):  # the password alone opens nothing
            page.goto(f"{base}{path}")
            assert page.url.startswith(f"{base}/login"), path
            assert "/login/code" not in page.url

        page.goto(f"{base}/login/code?lang=en")
        step = fresh_time_step()
        valid = {totp.generate_otp(step + d) for d in (-1, 0, 1)}
        wrong = next(c for c in ("000000", "111111", "222222") if c not in valid)
        submit_code(page, wrong)
        assert page.url.startswith(f"{base}/login/code")
        assert page.get_by_role("alert").inner_text().startswith("That code is not valid")

        previous = totp.generate_otp(step - 1)  # an app whose clock is 30 s behind
        submit_code(page, previous)
        page.goto(f"{base}/supervisor?lang=en")
        assert page.get_by_role("heading", level=1).inner_text() == "Service levels"
        page.goto(f"{base}/console")
        assert page.url.startswith(f"{base}/console")

        with page.expect_navigation():
            page.get_by_role("button", name=re.compile("^Log out")).click()
        browser_login(page, base, "vesna@helpdesk.localhost")
        submit_code(page, previous)  # the same code again, within its window: refused
        assert page.url.startswith(f"{base}/login/code")
        page.goto(f"{base}/console")
        assert page.url.startswith(f"{base}/login")
        page.goto(f"{base}/login/code?lang=en")
        submit_code(page, totp.now())
        page.goto(f"{base}/console")
        assert page.url.startswith(f"{base}/console")
        with page.expect_navigation():
            page.get_by_role("button", name=re.compile("^Log out")).click()

        # An admin without two-factor: enrolment first, nothing else before it.
        add_agent(svc, "dragan@helpdesk.localhost", "admin")
        browser_login(page, base, "dragan@helpdesk.localhost")
        assert page.url.startswith(f"{base}/account/two-factor")
        page.goto(f"{base}/admin")
        assert page.url.startswith(f"{base}/login")
        page.goto(f"{base}/account/two-factor?lang=en")
        assert page.locator("svg.qr-code").is_visible()
        assert axe(page) == []
        admin_secret = page.locator("#totp-secret").inner_text().replace(" ", "")
        page.get_by_label(re.compile("^Enter the 6-digit code")).fill(pyotp.TOTP(admin_secret).now())
        with page.expect_navigation():
            page.get_by_role("button", name="Turn on two-factor sign-in").click()
        assert page.locator(".recovery-codes li").count() == 10
        assert axe(page) == []
        with page.expect_navigation():
            page.get_by_role("link", name="I have saved them, continue").click()
        page.goto(f"{base}/admin?lang=en")
        assert page.get_by_role("heading", level=1).inner_text() == "Administration"
        # the admins' page of API tokens (scope, expiry, revoke) passes axe too
        with svc.db.transaction() as s:
            create_token(s, s.get_one(Agent, sup_id), svc.clock.now(), scopes=("read", "metrics"),
                         expires_at=svc.clock.now() + timedelta(days=30))
        page.goto(f"{base}/admin/tokens?lang=en")
        assert page.get_by_role("cell", name="vesna@helpdesk.localhost", exact=True).is_visible()
        assert axe(page) == []
    finally:
        server.stop()
        server.services.db.dispose()
