"""/api/ requests skip the hooks that serve only pages; pages keep them all (issue 14)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from helpdesk.api.page_hooks import skip_page_hooks_for_api
from helpdesk.extensions import limiter_hooks_when_used
from helpdesk.security import BASELINE_HEADERS
from helpdesk.services import Services
from tests.conftest import csrf_token_from, login

STRICT_CSP = dict(BASELINE_HEADERS)["Content-Security-Policy"]
NEW = {"contact": {"name": "Milica", "email": "milica@example.rs"}, "subject": "Pitanje", "body": "Tekst"}


def test_api_answers_keep_the_strict_policy_and_pages_their_own(client: Any, services: Services) -> None:
    login(client, services, "agent")  # a signed-in agent's cookie goes along: still no page hook
    created = client.post("/api/v1/tickets", json=NEW)
    assert created.status_code == 201
    for response in (created, client.get("/api/v1/tickets"), client.get("/api/v1/nowhere")):
        # JSON is never a page: the strict policy every response gets, not the pages' one
        assert response.headers.getlist("Content-Security-Policy") == [STRICT_CSP]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "no-store"
        assert "Set-Cookie" not in response.headers
    page = client.get("/console/")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]  # the pages' policy
    assert page.headers["Cache-Control"] == "no-store"  # a signed-in agent's page


def test_pages_still_check_csrf_and_remember_the_language(client: Any, services: Services) -> None:
    assert client.post("/login", data={"email": "x@example.rs", "password": "x"}).status_code == 400
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    assert (
        client.post(
            "/login", data={"email": "x@example.rs", "password": "x", "csrf_token": token}
        ).status_code
        != 400
    )
    client.get("/login?lang=en")
    assert 'lang="en"' in client.get("/login").get_data(as_text=True)


def test_a_renamed_page_hook_stops_the_app_instead_of_running_unknown_hooks() -> None:
    app = Flask("bare")  # none of the page-only hooks registered
    with pytest.raises(RuntimeError, match="page-only hooks not found"):
        skip_page_hooks_for_api(app)


def test_limiter_headers_still_come_with_a_checked_limit_and_only_then() -> None:
    extension = Limiter(key_func=get_remote_address, storage_uri="memory://", headers_enabled=True)
    app = Flask("limited")
    extension.init_app(app)

    @app.get("/limited")
    @extension.limit("2 per minute")
    def limited() -> str:
        return "ok"

    app.add_url_rule("/free", "free", lambda: "ok")
    limiter_hooks_when_used(app, extension)
    client = app.test_client()
    first = client.get("/limited")
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("2", "1")
    assert client.get("/limited").headers["X-RateLimit-Remaining"] == "0"
    refused = client.get("/limited")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "X-RateLimit-Limit" not in client.get("/free").headers
