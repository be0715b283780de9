"""API hygiene: every /api/v1 route is in the OpenAPI document, and bad values in any query
parameter, body field or bearer header get a 4xx JSON error, never a 500 (SQLite and PostgreSQL).

The long schema-driven fuzzing run is `bench/api/fuzz_openapi.py`; this walk is the fast guard.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from helpdesk import create_app
from helpdesk.auth.accounts import create_token
from helpdesk.models import Agent, Queue
from helpdesk.services import Services
from tests.conftest import add_agent, login, make_services, make_settings

BAD_STRINGS = [
    "",
    " ",
    "99999999999999999999",
    "-1",
    "¹",
    "\x00",
    "x" * 3000,
    "ü",
    "9999-W52",
    "0001-W01",
    "'; DROP TABLE tickets; --",
]
BAD_VALUES: list[Any] = [
    None,
    True,
    0,
    99999999999999999999,
    -1,
    "",
    " ",
    "\x00",
    "\ud800",
    "x" * 200_000,
    [],
    {},
]
JSON = "application/json"
BAD_BODIES = ["{not json", "", "null", "[]", '"x"', "1", "{}", '{"a":', "\ufeff{}"]
BAD_BEARERS = ["Bearer ü", "Bearer \xff\xfe", "Bearer " + "a" * 5000, "Bearer", "Basic eA==", "Bearer a b"]


@pytest.fixture
def api(store: Services) -> Iterator[tuple[Any, dict[str, str], str]]:
    store.settings = replace(store.settings, metrics_token="metrics-secret")
    app = create_app(store.settings, services=store)
    app.config["RATELIMIT_ENABLED"] = False
    from helpdesk.extensions import limiter

    limiter.enabled = False  # the walk sends far more than a citizen would
    agent_id = add_agent(store, "sara@helpdesk.localhost", "supervisor")
    with store.db.transaction() as s:
        agent = s.get_one(Agent, agent_id)
        agent.queues = list(s.scalars(select(Queue)))
        token = create_token(s, agent, store.clock.now())
    client = app.test_client()
    body = {
        "contact": {"name": "Milica", "email": "milica@example.rs"},
        "subject": "Pitanje",
        "body": "Tekst pitanja",
    }
    reference = client.post("/api/v1/tickets", json=body).get_json()["reference"]
    yield client, {"Authorization": f"Bearer {token}"}, reference
    limiter.enabled = True


def _check(response: Any, what: str) -> None:
    assert response.status_code < 500, (what, response.status_code, response.get_data(as_text=True)[:300])
    if response.status_code >= 400:
        error = response.get_json()["error"]
        assert error["code"] and error["message"], what
    assert response.headers["Cache-Control"] == "no-store", what


def _operations(client: Any, reference: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    doc = client.get("/api/v1/openapi.json").get_json()
    for path, item in doc["paths"].items():
        url = "/api/v1" + path.replace("{reference}", reference)
        for method, operation in item.items():
            if method != "parameters":
                yield method.upper(), url, operation


def test_every_api_route_is_documented(api: tuple[Any, dict[str, str], str]) -> None:
    client, _, _ = api
    doc = client.get("/api/v1/openapi.json").get_json()
    documented = {
        ("/api/v1" + path.replace("{reference}", "<reference>"), method.upper())
        for path, item in doc["paths"].items()
        for method in item
        if method != "parameters"
    }
    routes = {
        (rule.rule, method)
        for rule in client.application.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.rule != "/api/v1/openapi.json"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - documented == set()
    assert documented - routes == set()
    refused = client.open("/api/v1/tickets", method="PUT")
    assert refused.status_code == 405 and refused.get_json()["error"]["code"] == "method_not_allowed"
    assert {"GET", "POST"} <= set(refused.headers["Allow"].split(", "))  # RFC 9110


def test_bad_query_values_are_4xx(api: tuple[Any, dict[str, str], str]) -> None:
    client, auth, reference = api
    for method, url, operation in _operations(client, reference):
        if method != "GET":
            continue
        for parameter in operation.get("parameters", []):
            for value in BAD_STRINGS:
                response = client.get(url, query_string={parameter["name"]: value}, headers=auth)
                _check(response, f"{url}?{parameter['name']}={value[:20]!r}")


def test_bad_bodies_and_field_values_are_4xx(api: tuple[Any, dict[str, str], str]) -> None:
    client, auth, reference = api
    doc = client.get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    for method, url, operation in _operations(client, reference):
        if "requestBody" not in operation:
            continue
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        schema = schemas[ref.split("/")[-1]]
        for raw in BAD_BODIES:
            response = client.open(url, method=method, data=raw, content_type=JSON, headers=auth)
            _check(response, f"{method} {url} {raw!r}")
            assert response.status_code in (400, 415, 422), (method, url, raw)
        valid = _valid_body(schema)
        for name in schema.get("properties", {}):
            for value in BAD_VALUES:
                body = {**valid, name: value}
                data = json.dumps(body)
                response = client.open(url, method=method, data=data, content_type=JSON, headers=auth)
                what = f"{method} {url} {name}={str(value)[:20]!r}"
                _check(response, what)
                if _violates(schema, name, value):
                    assert response.status_code in (400, 422), (what, response.status_code)


def _valid_body(schema: dict[str, Any]) -> dict[str, Any]:
    examples = {
        "contact": {"name": "Milica", "email": "milica@example.rs"},
        "subject": "Pitanje",
        "body": "Tekst",
        "into": "HD-2026-999999",  # no such ticket: nothing is ever merged here
    }
    return {name: examples[name] for name in schema.get("required", [])}


def _violates(schema: dict[str, Any], name: str, value: Any) -> bool:
    """Whether the document itself says the value is wrong (then validation must say so too)."""
    rule = schema["properties"][name]
    kinds = rule.get("type")
    if "enum" in rule:
        return value not in rule["enum"]
    types = set(kinds if isinstance(kinds, list) else [kinds]) if kinds else set()
    python = {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "null": value is None,
        "object": isinstance(value, dict),
    }
    if types and not any(python.get(t, False) for t in types):
        return True
    if isinstance(value, str) and "string" in types:
        return len(value) < rule.get("minLength", 0) or len(value) > rule.get("maxLength", 10**9)
    return False


def test_bearer_headers_that_cannot_be_read_are_401(api: tuple[Any, dict[str, str], str]) -> None:
    client, _, reference = api
    for header in BAD_BEARERS:
        for url in ("/api/v1/tickets", f"/api/v1/tickets/{reference}", "/api/v1/metrics/weekly"):
            response = client.get(url, headers={"Authorization": header})
            _check(response, f"{url} {header[:20]!r}")
            assert response.status_code == 401
        assert client.get("/metrics", headers={"Authorization": header}).status_code == 401


def test_pages_may_connect_only_to_their_own_origin(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, channels=("channels.chat",))
    client = create_app(settings, services=make_services(settings)).test_client()
    origin = settings.public_url.split("://", 1)[1]
    for path in ("/login", "/chat"):  # the chat page builds its own policy (frame-ancestors)
        response = client.get(path)
        assert response.status_code == 200, path
        policy = response.headers["Content-Security-Policy"]
        connect = next(d.strip() for d in policy.split(";") if d.strip().startswith("connect-src"))
        assert connect == f"connect-src 'self' ws://{origin}", path  # no bare ws: or wss:
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")


def test_api_calls_neither_read_nor_write_the_session(client: Any, services: Services) -> None:
    # An agent's browser sends its session cookie along: the API must not count it (bearer
    # tokens only, CSRF-exempt), nor answer with a cookie or vary on one.
    login(client, services, "agent")
    assert client.get("/console/", follow_redirects=False).status_code == 200  # pages: signed in
    created = client.post(
        "/api/v1/tickets",
        json={
            "contact": {"name": "Milica", "email": "milica@example.rs"},
            "subject": "Pitanje",
            "body": "Tekst pitanja",
        },
    )
    assert created.status_code == 201
    for response in (
        created,
        client.get("/api/v1/tickets"),  # the cookie is no credential here
        client.get("/api/v1/kb/search?q=lozinka&lang=en"),  # ?lang= is a filter, not remembered
    ):
        assert "Set-Cookie" not in response.headers
        assert "Cookie" not in response.headers.get("Vary", "")
    assert client.get("/api/v1/tickets").status_code == 401
    assert client.get("/console/", follow_redirects=False).status_code == 200  # still signed in


def test_the_limiter_checks_a_request_once_and_still_limits() -> None:
    from flask import Flask
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    from helpdesk.extensions import skip_empty_limit_pass

    # Only decorated limits: the before_request pass would count nothing, so it goes.
    only_views = Limiter(key_func=get_remote_address, storage_uri="memory://")
    app = Flask("limited")
    only_views.init_app(app)

    @app.post("/form")
    @only_views.limit("2 per minute")
    def form() -> str:
        return "ok"

    assert skip_empty_limit_pass(app, only_views)
    assert only_views._check_request_limit not in app.before_request_funcs[None]
    client = app.test_client()
    assert [client.post("/form").status_code for _ in range(3)] == [200, 200, 429]

    # A default limit is checked only by that pass: it stays.
    with_default = Limiter(
        key_func=get_remote_address, storage_uri="memory://", default_limits=["1 per minute"]
    )
    other = Flask("defaults")
    with_default.init_app(other)
    other.add_url_rule("/page", "page", lambda: "ok")
    assert not skip_empty_limit_pass(other, with_default)
    assert [other.test_client().get("/page").status_code for _ in range(2)] == [200, 429]


def test_the_session_signer_is_built_once_per_key(
    client: Any, app: Any, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every page and every Socket.IO event opens the session: the signer is built once, and the
    # agent stays signed in; a new secret key signs everyone out, as it did.
    import flask.sessions

    built: list[object] = []
    real = flask.sessions.URLSafeTimedSerializer

    def counting(*args: Any, **kwargs: Any) -> Any:
        built.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(flask.sessions, "URLSafeTimedSerializer", counting)
    login(client, services, "agent")
    for _ in range(3):
        assert client.get("/console/", follow_redirects=False).status_code == 200
    assert len(built) <= 1  # Flask alone builds one per request that opens or saves a session
    app.secret_key = "another secret, a rotated key"
    assert client.get("/console/", follow_redirects=False).status_code == 302  # to the login page
    app.config["SECRET_KEY_FALLBACKS"] = [services.settings.secret_key]  # the old key still read
    assert client.get("/console/", follow_redirects=False).status_code == 200


def test_a_request_without_cookies_gets_a_new_session_without_parsing_for_one(app: Any) -> None:
    from flask import request, session

    with app.test_request_context("/chat"):
        assert dict(session) == {} and not session.modified
        session["lang"] = "en"  # a page may still write it (?lang=): it is a real session
        assert "cookies" not in request.__dict__  # werkzeug parses Cookie headers on first use
    with app.test_request_context("/chat", headers={"Cookie": "other=1"}):
        assert dict(session) == {}
