"""Login, sessions, CSRF, security headers, languages, and the login-by-default rule."""

from __future__ import annotations

from typing import Any

from helpdesk.services import Services
from tests.conftest import PASSWORD, add_agent, csrf_token_from, login


def post_login(client: Any, email: str, password: str) -> Any:
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def test_login_page_has_labelled_fields(client: Any) -> None:
    html = client.get("/login?lang=en").get_data(as_text=True)
    assert '<label for="email">Email</label>' in html
    assert '<label for="password">Password</label>' in html
    assert '<html lang="en">' in html


def test_login_rotates_the_session_and_logout_revokes_it(client: Any, services: Services) -> None:
    add_agent(services, "jelena@helpdesk.localhost")
    client.get("/login")
    response = post_login(client, "jelena@helpdesk.localhost", PASSWORD)
    assert response.status_code == 302
    first = client.get_cookie("helpdesk_session").value
    assert client.get("/healthz").status_code == 200

    # A second login gets another server-side session; logging out revokes the first cookie.
    other = client.application.test_client()
    post_login(other, "jelena@helpdesk.localhost", PASSWORD)
    assert other.get_cookie("helpdesk_session").value != first
    token = csrf_token_from(
        client.get("/no-such-page").get_data(as_text=True)
    )  # has the logout form
    client.post("/logout", data={"csrf_token": token})
    replay = client.application.test_client()
    replay.set_cookie("helpdesk_session", first)
    assert replay.get("/api/v1/openapi.json").status_code == 200  # public stays public
    assert replay.get("/attachments/1").status_code == 302  # the old session no longer logs in


def test_wrong_password_then_lockout(client: Any, services: Services) -> None:
    add_agent(services, "marko@helpdesk.localhost")
    for _ in range(5):
        assert post_login(client, "marko@helpdesk.localhost", "wrong password").status_code == 401
    # Locked for a few minutes even with the right password now.
    assert post_login(client, "marko@helpdesk.localhost", PASSWORD).status_code == 401
    assert post_login(client, "nobody@helpdesk.localhost", PASSWORD).status_code == 401


def test_login_is_throttled_per_address(client: Any, services: Services) -> None:
    statuses = [
        post_login(client, f"x{i}@helpdesk.localhost", "nope").status_code for i in range(11)
    ]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429


def test_forms_need_a_csrf_token(client: Any, services: Services) -> None:
    add_agent(services, "ana@helpdesk.localhost")
    response = client.post("/login", data={"email": "ana@helpdesk.localhost", "password": PASSWORD})
    assert response.status_code == 400


def test_open_redirect_is_refused(client: Any, services: Services) -> None:
    add_agent(services, "ivan@helpdesk.localhost")
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": "ivan@helpdesk.localhost", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302 and "evil.example" not in response.headers["Location"]


def test_security_headers(client: Any) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_interface_languages(client: Any, services: Services) -> None:
    assert '<html lang="sr-Cyrl">' in client.get("/login?lang=sr-Cyrl").get_data(as_text=True)
    assert '<html lang="sr-Cyrl">' in client.get("/login").get_data(as_text=True)  # remembered
    assert '<html lang="en">' in client.get("/login?lang=en").get_data(as_text=True)


def test_every_view_needs_login_unless_allow_listed(app: Any, client: Any) -> None:
    """Walk the URL map: each non-public GET view sends an anonymous visitor to the login page."""
    checked = 0
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.endpoint in {"static", "web.vendor"} or getattr(view, "_public", False):
            continue
        url = rule.build({arg: _sample(rule, arg) for arg in rule.arguments}, append_unknown=False)[
            1
        ]
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"OPTIONS", "HEAD"})[0]
        response = client.open(url, method=method)
        assert response.status_code in (302, 400, 401), (rule.rule, response.status_code)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"], rule.rule
        checked += 1
    assert checked >= 5


def test_supervisor_views_refuse_agents(app: Any, client: Any, services: Services) -> None:
    """Every view whose endpoint belongs to the supervisor area answers 403 to a plain agent."""
    login(client, services, "agent")
    supervisor_rules = [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint.startswith("supervisor.") and "GET" in r.methods
    ]
    for rule in supervisor_rules:
        url = rule.build({arg: _sample(rule, arg) for arg in rule.arguments}, append_unknown=False)[
            1
        ]
        assert client.get(url).status_code == 403, rule.rule


def _sample(rule: Any, arg: str) -> Any:
    converter = rule._converters.get(arg)
    return 1 if converter is not None and type(converter).__name__ == "IntegerConverter" else "x"


def test_health_and_metrics(client: Any) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}
    client.post(
        "/api/v1/tickets",
        json={"contact": {"name": "A", "email": "a@example.rs"}, "subject": "s", "body": "b"},
    )
    body = client.get("/metrics").get_data(as_text=True)
    assert 'helpdesk_tickets{channel="web",queue="triage",status="new"} 1.0' in body
    assert "helpdesk_http_requests_total" in body
