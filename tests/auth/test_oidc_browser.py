"""Through the browser: "Sign in with Office ID" (reached with the keyboard, axe-clean), the login
at a real OpenID provider, and the console with the role the claims map to (a supervisor sees
the dashboard); logout ends the provider's session too, so the next sign-in asks again."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.auth.conftest import OidcProvider
from tests.conftest import axe, start_live_server


def sign_in_at_provider(page: Any, login: str) -> None:
    page.locator('input[name="login"]').fill(login)
    page.locator('input[name="password"]').fill("any")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign-in").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()  # consent


def test_sign_in_through_the_provider_lands_in_the_console_with_the_mapped_role(
    tmp_path: Path, page: Any, oidc_provider: OidcProvider
) -> None:
    port = oidc_provider.browser_app_port
    server = start_live_server(
        tmp_path, port=port, public_url=f"http://127.0.0.1:{port}", **oidc_provider.settings()
    )
    # The provider's dev pages ask for a web font: nothing may leave this machine.
    page.context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    try:
        base = server.url
        page.goto(f"{base}/login?lang=en")
        assert axe(page) == []
        page.goto(f"{base}/login/oidc/callback?code=x&state=not-ours")  # the refusal page
        assert page.get_by_role("heading", level=1).inner_text() == "Sign-in failed"
        assert axe(page) == []
        page.goto(f"{base}/login?lang=en")
        button = page.get_by_role("button", name="Sign in with Office ID")
        for _ in range(20):  # reachable with the keyboard alone, in the page's tab order
            page.keyboard.press("Tab")
            if button.evaluate("b => b === document.activeElement"):
                break
        else:
            raise AssertionError("the sign-in button is not in the tab order")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url.startswith(oidc_provider.issuer)

        sign_in_at_provider(page, "vesna")
        page.wait_for_url(f"{base}/**")
        assert "/login" not in page.url  # signed in: the front door sends staff on by role
        page.goto(f"{base}/supervisor?lang=en")
        assert page.get_by_role("heading", level=1).inner_text() == "Service levels"
        page.goto(f"{base}/console")
        assert page.url.startswith(f"{base}/console")

        with page.expect_navigation():
            page.get_by_role("button", name=re.compile("^Log out")).click()
        assert page.url.startswith(f"{oidc_provider.issuer}/session/end")
        with page.expect_navigation():
            page.get_by_role("button", name=re.compile("sign me out", re.I)).click()
        page.wait_for_url(f"{base}/login**")
        page.goto(f"{base}/console")
        assert page.url.startswith(f"{base}/login")
        # The provider's session ended too: the button leads to its login form again.
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in with Office ID").click()
        assert page.locator('input[name="login"]').is_visible()
    finally:
        server.stop()
        server.services.db.dispose()
