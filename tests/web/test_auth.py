"""Login, sessions, CSRF, security headers, languages, and the login-by-default rule."""

from __future__ import annotations

import re
from typing import Any

from helpdesk import create_app
from helpdesk.auth import accounts
from helpdesk.auth.throttle import FREE_FAILURES, MAX_BLOCK_SECONDS, block_seconds
from helpdesk.services import Services
from tests.conftest import (
    PASSWORD,
    add_agent,
    csrf_token_from,
    login,
    make_services,
    make_settings,
)


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
    assert replay.get("/attachments/x").status_code == 302  # the old session no longer logs in


def post_from(client: Any, address: str, email: str, password: str) -> Any:
    client.environ_base["REMOTE_ADDR"] = address
    return post_login(client, email, password)


def test_failures_throttle_the_account_and_address_pair_not_the_account(
    client: Any, services: Services
) -> None:
    add_agent(services, "marko@helpdesk.localhost")
    client.get("/login?lang=en")
    for _ in range(FREE_FAILURES):
        wrong = post_from(client, "203.0.113.9", "marko@helpdesk.localhost", "wrong password")
        assert wrong.status_code == 401
    # The stranger's address is blocked now, even with the right password...
    blocked = post_from(client, "203.0.113.9", "marko@helpdesk.localhost", PASSWORD)
    assert blocked.status_code == 401
    # ...with the very same answer as a wrong password or an unknown account.
    unknown = post_from(client, "203.0.113.9", "nobody@helpdesk.localhost", "x")
    message = "Wrong email or password, or too many attempts"
    for response in (wrong, blocked, unknown):
        assert message in response.get_data(as_text=True)
    # The agent at the office logs in all the same: there is no account-wide lockout.
    office = client.application.test_client()
    assert post_from(office, "198.51.100.7", "marko@helpdesk.localhost", PASSWORD).status_code == 302


def test_one_address_has_a_budget_of_failures_across_accounts(tmp_path: Any) -> None:
    svc = make_services(make_settings(tmp_path, login_failures_per_address=3))
    client = create_app(svc.settings, services=svc).test_client()
    add_agent(svc, "vesna@helpdesk.localhost")
    for i in range(3):  # a different account each time: no pair reaches its own limit
        assert post_from(client, "203.0.113.5", f"x{i}@helpdesk.localhost", "no").status_code == 401
    assert post_from(client, "203.0.113.5", "vesna@helpdesk.localhost", PASSWORD).status_code == 401
    other = client.application.test_client()
    assert post_from(other, "198.51.100.8", "vesna@helpdesk.localhost", PASSWORD).status_code == 302
    svc.db.dispose()


def test_each_further_failure_doubles_the_block_up_to_a_cap() -> None:
    assert [block_seconds(n) for n in range(FREE_FAILURES)] == [0] * FREE_FAILURES
    first = block_seconds(FREE_FAILURES)
    assert first > 0 and block_seconds(FREE_FAILURES + 1) == 2 * first
    assert block_seconds(FREE_FAILURES + 3) == 8 * first
    assert block_seconds(FREE_FAILURES + 100) == MAX_BLOCK_SECONDS


def test_every_way_to_fail_costs_one_password_hash(
    client: Any, services: Services, monkeypatch: Any
) -> None:
    """Unknown, deactivated, throttled and wrong-password logins all run scrypt exactly once, so
    the answer's timing tells them apart no better than its text (bench/auth gives the times)."""
    add_agent(services, "lana@helpdesk.localhost")
    add_agent(services, "gone@helpdesk.localhost", active=False)
    calls: list[str] = []
    real = accounts.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        calls.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    cases = {
        "unknown": ("nobody@helpdesk.localhost", PASSWORD),
        "deactivated": ("gone@helpdesk.localhost", PASSWORD),
        "wrong password": ("lana@helpdesk.localhost", "wrong password"),
    }
    for _ in range(FREE_FAILURES - 1):  # the pair's last free failure comes just below
        post_from(client, "203.0.113.1", "lana@helpdesk.localhost", "wrong password")
    counts = {}
    for case, (email, password) in cases.items():
        calls.clear()
        assert post_from(client, "203.0.113.1", email, password).status_code == 401
        counts[case] = len(calls)
    calls.clear()  # the pair (lana, 203.0.113.1) is blocked now
    assert post_from(client, "203.0.113.1", "lana@helpdesk.localhost", PASSWORD).status_code == 401
    counts["throttled"] = len(calls)
    assert counts == {"unknown": 1, "deactivated": 1, "wrong password": 1, "throttled": 1}


def test_throttle_holds_across_server_processes_through_redis(
    tmp_path: Any, redis_url: str
) -> None:
    """Two app instances on one Redis (as two `helpdesk serve` processes): failures counted by
    one are a block in the other."""
    svc = make_services(make_settings(tmp_path, redis_url=redis_url))
    first = create_app(svc.settings, services=svc).test_client()
    second = create_app(svc.settings, services=svc).test_client()
    add_agent(svc, "dragan@helpdesk.localhost")
    for _ in range(FREE_FAILURES):
        post_from(first, "203.0.113.2", "dragan@helpdesk.localhost", "wrong password")
    assert post_from(second, "203.0.113.2", "dragan@helpdesk.localhost", PASSWORD).status_code == 401
    assert post_from(second, "198.51.100.2", "dragan@helpdesk.localhost", PASSWORD).status_code == 302
    svc.db.dispose()


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


def test_engineio_responses_carry_the_security_headers(client: Any) -> None:
    """/socket.io/ is answered by Engine.IO before Flask: a WSGI layer adds the same headers."""
    for response in (
        client.get("/socket.io/?EIO=4&transport=polling"),  # a handshake
        client.get("/socket.io/?EIO=4&transport=polling&sid=nope"),  # an error
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    page = client.get("/login")  # a page keeps its own policy, not the Engine.IO one
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert len(page.headers.getlist("X-Frame-Options")) == 1


def test_only_socketio_paths_go_through_its_middleware(client: Any, monkeypatch: Any) -> None:
    """Other requests go straight to Flask (the middleware only passed them on, at a cost)."""
    import flask_socketio

    seen: list[str] = []
    real = flask_socketio._SocketIOMiddleware.__call__  # noqa: SLF001 - counted, not changed

    def counting(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(environ["PATH_INFO"])
        return real(self, environ, start_response)

    monkeypatch.setattr(flask_socketio._SocketIOMiddleware, "__call__", counting)  # noqa: SLF001
    assert client.get("/login").status_code == 200
    assert client.get("/socket.io.js").status_code == 404  # not the Socket.IO path: Flask's 404
    handshake = client.get("/socket.io/?EIO=4&transport=polling")
    assert handshake.status_code == 200 and handshake.get_data(as_text=True).startswith("0{")
    assert seen == ["/socket.io/"]


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


def test_pages_name_an_icon_that_exists(client: Any) -> None:
    # Without one, the browser asks for /favicon.ico on every page and logs the 404 as an error.
    page = client.get("/help?lang=en").get_data(as_text=True)
    href = re.search(r'<link rel="icon" href="([^"]+)"', page)
    assert href is not None
    icon = client.get(href.group(1))
    icon.close()  # a static file is streamed: close it (warnings are errors)
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"


def test_health_and_metrics(client: Any) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}
    client.post(
        "/api/v1/tickets",
        json={"contact": {"name": "A", "email": "a@example.rs"}, "subject": "s", "body": "b"},
    )
    body = client.get("/metrics").get_data(as_text=True)
    assert 'helpdesk_tickets{channel="web",queue="triage",status="new"} 1.0' in body
    assert "helpdesk_http_requests_total" in body


def test_throttle_storage_outage_does_not_stop_logins(caplog: Any) -> None:
    """Redis unreachable: the throttle lets the login proceed and says so in the log."""
    from limits.storage import storage_from_string

    from helpdesk.auth.throttle import LoginThrottle

    dead = storage_from_string("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    throttle = LoginThrottle(dead, b"k", "t", 30)  # type: ignore[arg-type]
    assert throttle.blocked("a@b.rs", "203.0.113.3") is False
    throttle.failed("a@b.rs", "203.0.113.3")
    throttle.succeeded("a@b.rs", "203.0.113.3")
    assert "login throttle storage unavailable" in caplog.text
