"""API tokens with a scope and an expiry: made by the CLI (secret shown once), refused outside
their scope (403 JSON) or after their expiry (401), listed and revoked by admins on /admin/tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from helpdesk.cli import cli
from helpdesk.models import Agent, ApiToken, AuditEvent, Queue
from helpdesk.services import Services
from tests.conftest import add_agent, csrf_token_from, login

NEW = {
    "contact": {"name": "Milica Jovanović", "email": "milica@example.rs"},
    "subject": "Ne mogu da platim taksu",
    "body": "Plaćanje karticom ne prolazi.",
    "language": "sr-Latn",
}


def make_token(app: Any, email: str, *options: str) -> str:
    result = app.test_cli_runner().invoke(cli, ["token", "create", email, *options])
    assert result.exit_code == 0, result.output
    return str(result.stdout.strip())


def test_scopes_and_expiry_decide_what_a_token_may_do(app: Any, client: Any, services: Services) -> None:
    agent_id = add_agent(services, "sef@helpdesk.localhost", "supervisor")
    with services.db.transaction() as s:
        s.get_one(Agent, agent_id).queues = list(s.scalars(select(Queue).where(Queue.name == "triage")))
    reference = client.post("/api/v1/tickets", json=NEW).get_json()["reference"]

    reader = make_token(app, "sef@helpdesk.localhost")  # default: read only
    writer = make_token(app, "sef@helpdesk.localhost", "--scope", "tickets")
    figures = make_token(app, "sef@helpdesk.localhost", "--scope", "metrics", "--expires-days", "7")
    with services.db.session() as s:
        stored = {row.prefix: (row.scopes, row.expires_at) for row in s.scalars(select(ApiToken))}
    assert stored[reader[:8]] == ("read", None)
    assert stored[figures[:8]][0] == "metrics"
    assert stored[figures[:8]][1] - services.clock.now() == timedelta(days=7)

    def call(token: str, method: str, path: str, **kw: Any) -> Any:
        return client.open(path, method=method, headers={"Authorization": f"Bearer {token}"}, **kw)

    weekly = "/api/v1/metrics/weekly?from=2026-W40&to=2026-W47"
    assert call(reader, "GET", f"/api/v1/tickets/{reference}").status_code == 200
    refused = call(reader, "PATCH", f"/api/v1/tickets/{reference}", json={"priority": "high"})
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "insufficient_scope"
    assert call(reader, "GET", weekly).status_code == 403

    assert call(writer, "GET", f"/api/v1/tickets/{reference}").status_code == 200  # reads too
    changed = call(writer, "PATCH", f"/api/v1/tickets/{reference}", json={"priority": "high"})
    assert changed.status_code == 200, changed.get_json()
    assert call(writer, "GET", weekly).status_code == 403

    assert call(figures, "GET", weekly).status_code == 200
    assert call(figures, "GET", "/api/v1/tickets").status_code == 403
    services.clock.advance(days=7)  # the expiry: from now on the token is not valid at all
    expired = call(figures, "GET", weekly)
    assert expired.status_code == 401 and expired.is_json


def test_token_create_refuses_an_unknown_scope(app: Any, services: Services) -> None:
    add_agent(services, "ana@helpdesk.localhost")
    runner = app.test_cli_runner()
    bad = runner.invoke(cli, ["token", "create", "ana@helpdesk.localhost", "--scope", "read,admin"])
    assert bad.exit_code != 0 and "unknown scope admin" in bad.stderr
    never = runner.invoke(cli, ["token", "create", "ana@helpdesk.localhost", "--expires-days", "0"])
    assert never.exit_code != 0
    with services.db.session() as s:
        assert s.scalar(select(ApiToken.id)) is None


def test_admin_lists_and_revokes_tokens(app: Any, client: Any, services: Services) -> None:
    add_agent(services, "ana@helpdesk.localhost")
    secret = make_token(app, "ana@helpdesk.localhost", "--scope", "read,metrics",
                        "--expires-days", "30")
    admin_id = login(client, services, "admin")
    page = client.get("/admin/tokens?lang=en").get_data(as_text=True)
    assert "ana@helpdesk.localhost" in page and "read tickets, figures" in page
    assert secret[:8] in page and secret[8:] not in page  # only the recognisable start
    with services.db.session() as s:
        token_id = s.scalar(select(ApiToken.id))
    revoked = client.post(f"/admin/tokens/{token_id}/revoke",
                          data={"csrf_token": csrf_token_from(page)})
    assert revoked.status_code == 302
    assert client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert "No active API tokens." in client.get("/admin/tokens?lang=en").get_data(as_text=True)
    with services.db.session() as s:
        by = s.scalar(select(AuditEvent.actor_agent_id).where(AuditEvent.action == "token.revoked"))
    assert by == admin_id


def test_agent_cannot_open_the_token_page(client: Any, services: Services) -> None:
    login(client, services, "supervisor")
    assert client.get("/admin/tokens").status_code == 403


def test_token_use_is_written_once_a_minute_and_a_revocation_counts_at_once(
    app: Any, client: Any, services: Services
) -> None:
    from helpdesk.auth.accounts import revoke_token

    add_agent(services, "ana@helpdesk.localhost")
    secret = make_token(app, "ana@helpdesk.localhost")
    headers = {"Authorization": f"Bearer {secret}"}

    def last_used() -> Any:
        with services.db.session() as s:
            return s.scalar(select(ApiToken.last_used_at))

    start = services.clock.now()
    assert client.get("/api/v1/tickets", headers=headers).status_code == 200
    assert last_used() == start
    services.clock.advance(seconds=59)  # a read within the minute writes nothing
    assert client.get("/api/v1/tickets", headers=headers).status_code == 200
    assert last_used() == start
    later = services.clock.advance(seconds=1)
    assert client.get("/api/v1/tickets", headers=headers).status_code == 200
    assert last_used() == later

    with services.db.session() as s:
        token_id = s.scalar(select(ApiToken.id))
    assert revoke_token(services, token_id)
    # nothing cached: the very next call is refused, well within the minute
    assert client.get("/api/v1/tickets", headers=headers).status_code == 401
